// Teams clients: one compact pane per tenant user with presence, incoming-call toasts (Accept, Decline)
// and the in-call roster without the Call Automation app (Leave). Users sign in/out and set a status.

import { control, userPath } from "./api.js";
import { arrange, h, render, say, sync } from "./common/dom.js";
import { describePresence, presenceDot } from "./common/presence.js";

const STATUSES = [
  ["Available", "Available"],
  ["Busy", "Busy"],
  ["DoNotDisturb", "Do not disturb"],
  ["BeRightBack", "Be right back"],
  ["Away", "Away"],
  ["Offline", "Appear offline"],
];

export function teamsClients(refresh) {
  const container = document.getElementById("client-panes");
  const panes = new Map();
  return function update({ users, clients }) {
    for (const id of panes.keys()) if (!users.some((user) => user.id === id)) panes.delete(id);
    for (const user of users) {
      if (!panes.has(user.id)) panes.set(user.id, clientPane(user, refresh));
      panes.get(user.id).update(user, clients[user.id]);
    }
    arrange(
      container,
      users.map((user) => panes.get(user.id).element),
    );
  };
}

function clientPane(user, refresh) {
  const nameId = `client-${user.id}`;
  const dot = h("span", { class: "avatar-dot" });
  const presenceText = h("p", { class: "presence-text" });
  const online = h("input", { type: "checkbox" });
  const status = h(
    "select",
    {},
    STATUSES.map(([value, label]) => h("option", { value }, label)),
  );
  const toasts = h("div", { class: "toasts", "aria-live": "assertive" });
  const call = h("div", { class: "in-call", "aria-live": "polite" });
  const problem = h("p", { class: "status", role: "status" });
  const element = h(
    "article",
    { class: "client", "aria-labelledby": nameId, "data-user": user.id },
    h(
      "header",
      { class: "client-head" },
      h("span", { class: "avatar", "aria-hidden": "true" }, initials(user.displayName), dot),
      h("div", {}, h("h3", { id: nameId }, user.displayName), presenceText),
    ),
    h(
      "div",
      { class: "client-controls" },
      h("label", { class: "check" }, online, "Signed in"),
      h("label", {}, "Status", status),
    ),
    toasts,
    call,
    problem,
  );

  const act = async (action) => {
    try {
      await action();
      say(problem, "");
    } catch (error) {
      say(problem, error.message, "error");
    }
    refresh();
  };
  const patch = (body) => act(() => control.patch(userPath(user.id), body));
  const click = (what, invitationId) => act(() => control.post(userPath(user.id, `/client:${what}`), { invitationId }));
  online.addEventListener("change", () => patch({ online: online.checked }));
  status.addEventListener("change", () => patch({ presence: { availability: status.value } }));

  const toast = (incoming) => {
    const title = incoming.sourceDisplayName || incoming.caller.displayName;
    return h(
      "div",
      { class: "toast", role: "group", "aria-label": `Incoming call from ${title}` },
      h("p", { class: "toast-kind" }, "Incoming call"),
      h("p", { class: "toast-title" }, title),
      h("p", { class: "toast-caller" }, "Caller: ", h("span", { class: "mono" }, incoming.caller.displayName)),
      h(
        "div",
        { class: "toast-actions" },
        h(
          "button",
          {
            class: "go",
            "data-key": `accept-${incoming.invitationId}`,
            onclick: () => click("accept", incoming.invitationId),
          },
          "Accept",
        ),
        h(
          "button",
          {
            class: "danger",
            "data-key": `decline-${incoming.invitationId}`,
            onclick: () => click("decline", incoming.invitationId),
          },
          "Decline",
        ),
      ),
    );
  };

  const inCall = (active) =>
    h(
      "section",
      { class: "call", "aria-label": `${user.displayName}'s call` },
      h("p", { class: "call-title" }, `In a call · ${active.roster.length} on the roster`),
      h(
        "ul",
        { class: "plain roster", "aria-label": "Roster" },
        active.roster.map((person) =>
          h(
            "li",
            {},
            h("span", { class: "avatar small", "aria-hidden": "true" }, initials(person.displayName)),
            person.displayName,
            person.isMuted && h("span", { class: "badge" }, "muted"),
          ),
        ),
      ),
      h(
        "button",
        {
          class: "danger",
          "data-key": "leave",
          onclick: () => act(() => control.post(userPath(user.id, "/client:hangUp"))),
        },
        "Leave",
      ),
    );

  return {
    element,
    update(current, view) {
      render(dot, current.presence, (presence) => presenceDot(presence));
      presenceText.textContent = current.online ? describePresence(current.presence) : "Signed out";
      sync(online, "checked", current.online);
      sync(status, "value", current.preferredPresence.availability);
      status.disabled = !current.online;
      render(toasts, view.incomingCalls, (incoming) => incoming.map(toast));
      render(call, view.activeCall, (active) => (active ? inCall(active) : []));
    },
  };
}

/** "AA" for "Art Anderson", "+1" for a phone number. */
function initials(name) {
  const words = String(name).split(/\s+/).filter(Boolean);
  return words.length > 1 ? (words[0][0] + words[1][0]).toUpperCase() : String(name).slice(0, 2).toUpperCase();
}
