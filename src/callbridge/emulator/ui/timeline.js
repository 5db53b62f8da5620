// The call timeline: one call's journal as a sequence across the lanes app / ACS / Teams / phone, ordered
// by (time, seq), each entry expandable to its full JSON. Rows are kept between reloads, so an open entry
// stays open while new ones arrive.

import { control } from "./api.js";
import { arrange, h, render } from "./common/dom.js";
import { jsonView } from "./common/json-view.js";

const LANES = ["app", "acs", "teams", "phone"];
const LANE_NAMES = { app: "app", acs: "ACS", teams: "Teams", phone: "phone", emulator: "local cloud" };
const FOLLOW = "";

export function timeline(refresh) {
  const select = document.getElementById("call-select");
  const list = document.getElementById("timeline-entries");
  const ids = document.getElementById("timeline-ids");
  let chosen = new URLSearchParams(location.search).get("call") ?? FOLLOW;
  let shown = null;
  let rows = new Map();

  select.addEventListener("change", () => {
    chosen = select.value;
    const url = new URL(location.href);
    if (chosen) url.searchParams.set("call", chosen);
    else url.searchParams.delete("call");
    history.replaceState(null, "", url);
    refresh();
  });

  return async function update({ calls }) {
    render(select, { calls, chosen }, () => [
      h("option", { value: FOLLOW }, "Latest call"),
      calls.map((call) =>
        h("option", { value: call.correlationId, selected: call.correlationId === chosen }, callLabel(call)),
      ),
    ]);
    const call = chosen ? calls.find((c) => c.correlationId === chosen) : calls[0];
    if (!call) {
      ids.textContent = calls.length
        ? "That call is no longer known to the local cloud."
        : "No calls yet: dial from the phone.";
      arrange(list, []);
      return;
    }
    ids.textContent = `${callLabel(call)} · correlation id ${call.correlationId}`;
    const query = new URLSearchParams({ correlationId: call.correlationId });
    const entries = (await control.get(`/journal?${query}`)).value;
    entries.sort((a, b) => (a.time === b.time ? a.seq - b.seq : a.time < b.time ? -1 : 1));
    if (shown !== call.correlationId) {
      shown = call.correlationId;
      rows = new Map();
    }
    const elements = entries.map((entry) => {
      if (!rows.has(entry.seq)) rows.set(entry.seq, row(entry));
      return rows.get(entry.seq);
    });
    arrange(list, elements);
  };
}

function callLabel(call) {
  return `${call.from} → ${call.to} · ${call.state}`;
}

function column(lane) {
  const index = LANES.indexOf(lane);
  return (index === -1 ? LANES.indexOf("acs") : index) + 2;
}

function row(entry) {
  const from = column(entry.source);
  const to = column(entry.target);
  const [start, end] = [Math.min(from, to), Math.max(from, to)];
  const direction = from === to ? "self" : from < to ? "right" : "left";
  const body = h("div", { class: "tl-json" });
  const details = h(
    "details",
    { class: `tl-entry kind-${entry.kind}` },
    h(
      "summary",
      { class: "tl-row" },
      h("span", { class: "tl-time", title: entry.time }, timeOf(entry.time)),
      LANES.map((lane, index) => h("span", { class: "tl-lane", style: `grid-column: ${index + 2}` })),
      h(
        "span",
        { class: `tl-msg dir-${direction}`, style: `grid-column: ${start} / -1; --lanes: ${LANES.length + 2 - start}` },
        h("span", { class: "visually-hidden" }, `${LANE_NAMES[entry.source]} to ${LANE_NAMES[entry.target]}: `),
        h("span", { class: "tl-kind" }, entry.kind),
        h("span", { class: "tl-summary", title: entry.summary }, entry.summary),
        badges(entry),
      ),
      direction !== "self" &&
        h("span", {
          class: `tl-arrow dir-${direction}`,
          style: `grid-column: ${start} / ${end + 1}; --lanes: ${end - start + 1}`,
        }),
    ),
    body,
  );
  details.addEventListener("toggle", () => {
    if (details.open && !body.childElementCount) body.append(jsonView(entry));
  });
  return h("li", { "data-seq": entry.seq }, details);
}

/** Delivery attempts and the callback JWT's verdict, where the entry has them. */
function badges({ kind, detail }) {
  if (kind !== "callback" && kind !== "eventgrid") return [];
  const shown = [];
  if (detail.attempt > 1) shown.push(h("span", { class: "badge warn" }, `attempt ${detail.attempt}`));
  if (detail.error || detail.status >= 400)
    shown.push(h("span", { class: "badge bad" }, detail.error || `HTTP ${detail.status}`));
  const verdict = detail.jwt?.verdict;
  if (verdict) shown.push(h("span", { class: `badge ${verdict === "accepted" ? "ok" : "bad"}` }, `JWT ${verdict}`));
  return shown;
}

/** "00:05:52.146": the entry's time of day with milliseconds. */
function timeOf(iso) {
  const time = new Date(iso);
  const pad = (n, width = 2) => String(n).padStart(width, "0");
  const clock = `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}`;
  return `${clock}.${pad(time.getMilliseconds(), 3)}`;
}
