// Active calls: one card per call with its state, roster (without the app), who is ringing, Add Teams user
// (directory search with presence), Transfer, Remove and Cancel, and each operation's outcome beside them.

import { api, callPath } from "./api.js";
import { arrange, clockTime, h, render } from "./common/dom.js";
import { Notes, outcomeItem, timelineItem } from "./outcomes.js";
import { userPicker } from "./search.js";

export function activeCalls(refresh) {
  const container = document.getElementById("call-cards");
  const count = document.getElementById("call-count");
  const cards = new Map();
  return function update(details) {
    const keys = details.map((detail) => detail.call.callKey);
    for (const key of cards.keys()) if (!keys.includes(key)) cards.delete(key);
    for (const detail of details) {
      if (!cards.has(detail.call.callKey)) cards.set(detail.call.callKey, callCard(detail.call, refresh));
      cards.get(detail.call.callKey).update(detail);
    }
    count.textContent = details.length === 1 ? "1 call" : `${details.length} calls`;
    arrange(
      container,
      details.length ? keys.map((key) => cards.get(key).element) : [h("p", { class: "hint" }, "No active calls.")],
    );
  };
}

function callCard(call, refresh) {
  const key = call.callKey;
  const titleId = `call-${key}`;
  const notes = new Notes();
  const state = h("span", { class: "badge" });
  const people = h("ul", { class: "plain people", "aria-label": "In the call" });
  const ringing = h("ul", { class: "plain people", "aria-label": "Ringing" });
  const outcomes = h("ul", { class: "plain outcomes", "aria-live": "polite", "aria-label": "Outcomes" });
  const timeline = h("ol", { class: "plain service-timeline" });

  const run = (text, request) => {
    notes.track(text, request).then(refresh);
    refresh();
  };
  const search = async (text) => (await api.get(`/directory/users?${new URLSearchParams({ search: text })}`)).value;
  const add = userPicker({
    label: "Add Teams user",
    action: "Add",
    placeholder: "Search the directory",
    search,
    choose: ({ query, name }) =>
      run(`Adding ${name}…`, () => api.post(callPath(key, "/participants"), { user: query })),
  });
  const transferee = h("select", { id: `${titleId}-transferee`, "data-key": "transferee" });
  const transfer = userPicker({
    label: "Transfer to",
    action: "Transfer",
    placeholder: "Teams user or +14255550199",
    search,
    choose: ({ query, name }) => {
      const swapped = transferee.selectedOptions[0]?.dataset.name;
      const body = { target: query, transferee: transferee.value || undefined, wait: true };
      run(`Transferring ${swapped ?? "the call"} to ${name}…`, () => api.post(callPath(key, "/transfer"), body));
    },
  });

  const element = h(
    "article",
    { class: "call-card", "aria-labelledby": titleId },
    h(
      "header",
      { class: "call-head" },
      h("h3", { id: titleId }, `${call.caller} → ${call.called}`),
      state,
      h("span", { class: "hint" }, `since ${clockTime(call.startedAt)}`),
    ),
    h(
      "div",
      { class: "call-body" },
      h("div", {}, h("h4", {}, "In the call"), people, ringing),
      h(
        "div",
        { class: "call-actions" },
        add,
        h("div", { class: "transferee" }, h("label", { for: transferee.id }, "Transfer"), transferee),
        transfer,
      ),
    ),
    h("h4", {}, "Outcomes"),
    outcomes,
    h("details", { class: "call-timeline" }, h("summary", {}, "Service timeline"), timeline),
  );

  const person = (participant) =>
    h(
      "li",
      { class: "person" },
      h("span", { class: "person-name" }, participant.displayName),
      h(
        "span",
        { class: "hint" },
        participant.kind === "microsoftTeamsUser"
          ? "Teams"
          : participant.kind === "phoneNumber"
            ? "phone"
            : participant.kind,
      ),
      h(
        "button",
        {
          "data-key": `remove-${participant.rawId}`,
          "aria-label": `Remove ${participant.displayName}`,
          onclick: () =>
            run(`Removing ${participant.displayName}…`, () =>
              api.delete(callPath(key, `/participants/${encodeURIComponent(participant.rawId)}?wait=true`)),
            ),
        },
        "Remove",
      ),
    );
  const ring = (invitation) =>
    h(
      "li",
      { class: "person ringing" },
      h("span", { class: "person-name" }, `Ringing ${invitation.displayName}`),
      h(
        "button",
        {
          "data-key": `cancel-${invitation.operationContext}`,
          "aria-label": `Cancel ringing ${invitation.displayName}`,
          onclick: () =>
            run(`Cancelling the ring to ${invitation.displayName}…`, () =>
              api.post(callPath(key, `/invitations/${encodeURIComponent(invitation.operationContext)}/cancel`)),
            ),
        },
        "Cancel",
      ),
    );

  return {
    element,
    update({ call: current, timeline: entries }) {
      state.textContent = current.state;
      state.className = `badge state-${current.state}`;
      const humans = current.participants.filter((p) => !p.isApp);
      render(people, humans, () => humans.map(person));
      render(transferee, humans, () => [
        h("option", { value: "" }, "the whole call (hand it over)"),
        humans.map((p) => h("option", { value: p.rawId, "data-name": p.displayName }, `${p.displayName} (swap)`)),
      ]);
      render(ringing, current.invitations, (invitations) => Object.values(invitations).map(ring));
      render(outcomes, notes.view(current.outcomes), (shown) =>
        shown.length ? shown.map(outcomeItem) : h("li", { class: "hint" }, "Nothing yet."),
      );
      render(timeline, entries, () => entries.map(timelineItem));
    },
  };
}
