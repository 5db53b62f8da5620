// Call history: calls that ended or were transferred, newest first; open one to see its outcomes and the
// service's timeline.

import { api, callPath } from "./api.js";
import { arrange, clockTime, h } from "./common/dom.js";
import { fromOutcome, outcomeItem, timelineItem } from "./outcomes.js";

export function callHistory() {
  const list = document.getElementById("history-list");
  const rows = new Map();
  return function update(calls) {
    for (const call of calls) if (!rows.has(call.callKey)) rows.set(call.callKey, historyRow(call));
    arrange(
      list,
      calls.length
        ? calls.map((call) => rows.get(call.callKey))
        : [h("li", { class: "hint" }, "No finished calls yet.")],
    );
  };
}

function historyRow(call) {
  const body = h("div", { class: "history-body" });
  const details = h(
    "details",
    {},
    h(
      "summary",
      {},
      h("span", { class: "mono" }, `${call.caller} → ${call.called}`),
      h("span", { class: `badge state-${call.state}` }, call.state),
      h("span", { class: "hint" }, `${clockTime(call.startedAt)} · ${call.people.join(", ") || "nobody"}`),
    ),
    body,
  );
  details.addEventListener("toggle", async () => {
    if (!details.open) return;
    try {
      const { call: record, timeline } = await api.get(callPath(call.callKey));
      body.replaceChildren(
        h("h4", {}, "Outcomes"),
        h(
          "ul",
          { class: "plain outcomes" },
          [...record.outcomes].reverse().map((o) => outcomeItem(fromOutcome(o))),
        ),
        h("h4", {}, "Timeline"),
        h("ol", { class: "plain service-timeline" }, timeline.map(timelineItem)),
      );
    } catch (error) {
      body.replaceChildren(h("p", { class: "status", "data-kind": "error" }, error.message));
    }
  });
  return h("li", { class: "history-item" }, details);
}
