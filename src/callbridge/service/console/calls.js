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
    const done = notes.track(text, request).then(refresh);
    refresh();
    return done;
  };
  const search = async (text) => (await api.get(`/directory/users?${new URLSearchParams({ search: text })}`)).value;
  const add = userPicker({
    label: "Add Teams user",
    action: "Add",
    placeholder: "Search the directory",
    search,
    choose: ({ query, name }) =>
      run(`Adding ${name}…`, () => api.post(callPath(key, "/participants"), { user: query, wait: true })),
  });
  const transfer = userPicker({
    label: "Transfer to",
    action: "Transfer",
    placeholder: "Teams user or +14255550199",
    search,
    choose: ({ query, name }) =>
      run(`Transferring to ${name}…`, () => api.post(callPath(key, "/transfer"), { target: query, wait: true })),
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
      h("div", { class: "call-actions" }, add, transfer),
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
      render(people, current.participants, (all) => all.filter((p) => !p.isApp).map(person));
      render(ringing, current.invitations, (invitations) => Object.values(invitations).map(ring));
      render(outcomes, notes.view(current.outcomes), (shown) =>
        shown.length ? shown.map(outcomeItem) : h("li", { class: "hint" }, "Nothing yet."),
      );
      render(timeline, entries, () => entries.map(timelineItem));
    },
  };
}
