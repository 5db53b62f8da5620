// The local cloud UI: loads the cloud's state through the control API, and reloads it whenever the
// journal records anything (GET /emulator/events), so every tab shows the same thing, reloads included.

import { control, userPath } from "./api.js";
import { tenantAdmin } from "./admin.js";
import { teamsClients } from "./clients.js";
import { say } from "./common/dom.js";
import { coalesce, stayLive } from "./common/live.js";
import { integrations } from "./integrations.js";
import { phone } from "./phone.js";
import { timeline } from "./timeline.js";
import { userAdmin } from "./users.js";

const problem = document.getElementById("problem");

const refresh = coalesce(async () => {
  try {
    const state = await snapshot();
    for (const update of views) await update(state);
    say(problem, "");
  } catch (error) {
    say(problem, `Could not load the local cloud's state: ${error.message}`, "error");
  }
});

const views = [
  phone(refresh),
  teamsClients(refresh),
  timeline(refresh),
  tenantAdmin(refresh),
  userAdmin(refresh),
  integrations(refresh),
];

stayLive("/emulator/events?after=latest", refresh, document.getElementById("live"));

async function snapshot() {
  const [info, users, pstnCalls, serverCalls, federation, policies, groups, apps, subscriptions, deadLetters] =
    await Promise.all(
      [
        "/info",
        "/teams/users",
        "/pstn/calls",
        "/calls",
        "/teams/acs-federation",
        "/teams/external-access-policies",
        "/teams/groups",
        "/entra/apps",
        "/eventgrid/subscriptions",
        "/eventgrid/dead-letters",
      ].map((path) => control.get(path)),
    );
  const clientViews = await Promise.all(users.value.map((user) => control.get(userPath(user.id, "/client"))));
  document.getElementById("resource").textContent =
    `${info.acs.resourceName} · ${info.acs.phoneNumbers.join(", ") || "no phone numbers"}`;
  return {
    info,
    users: users.value,
    clients: Object.fromEntries(clientViews.map((view) => [view.userId, view])),
    pstnCalls: pstnCalls.value,
    calls: knownCalls(pstnCalls.value, serverCalls.value),
    federation,
    policies,
    groups: groups.value,
    apps: apps.value,
    subscriptions: subscriptions.value,
    deadLetters: deadLetters.value,
  };
}

/** Every call the timeline can show, newest first: calls the app placed (still active), then phone calls. */
function knownCalls(pstnCalls, serverCalls) {
  const dialled = new Set(pstnCalls.map((call) => call.serverCallId));
  const placed = serverCalls
    .filter((call) => !dialled.has(call.serverCallId))
    .map((call) => ({
      correlationId: call.correlationId,
      from: call.participants[0]?.displayName ?? "app",
      to:
        call.participants
          .slice(1)
          .map((p) => p.displayName)
          .join(", ") || "…",
      state: call.connections[0]?.state ?? "active",
    }));
  const phoned = [...pstnCalls].sort((a, b) => b.startedAt - a.startedAt);
  return [...placed, ...phoned];
}
