// Outcomes shown where the action was taken: this tab's pending requests and refusals, then how each
// operation ended (from the call record, so every tab and a reload show the same), newest first; and the
// lines of a call's service timeline.

import { clockTime, h } from "./common/dom.js";

/** Per call: requests this tab is waiting on, refusals, and results not yet in the call record. */
export class Notes {
  constructor() {
    this.local = [];
    this.counter = 0;
  }

  /** Show "Adding Megan Bowen…" until `request` settles; then its outcome (or why it was refused). */
  async track(text, request) {
    const note = { id: ++this.counter, text, kind: "pending", at: new Date().toISOString() };
    this.local.unshift(note);
    try {
      const result = await request();
      if (result?.outcome) Object.assign(note, { kind: "result", outcome: result.outcome });
      else Object.assign(note, { kind: "ok", text: `${text.replace(/…$/, "")}: requested` });
    } catch (error) {
      Object.assign(note, { kind: "error", text: `${text.replace(/…$/, "")}: ${error.message}` });
    }
  }

  /** What to show for a call whose record lists `outcomes` (oldest first). */
  view(outcomes) {
    const settled = new Set(outcomes.map((outcome) => outcome.operationContext));
    const local = this.local
      .filter((note) => note.kind !== "result" || !settled.has(note.outcome.operationContext))
      .map((note) => (note.kind === "result" ? fromOutcome(note.outcome) : note));
    return [...local, ...[...outcomes].reverse().map(fromOutcome)];
  }
}

export function fromOutcome(outcome) {
  return { text: outcome.explanation, kind: outcome.succeeded ? "ok" : "error", at: outcome.at };
}

export function outcomeItem(note) {
  return h(
    "li",
    { class: `outcome outcome-${note.kind}` },
    h("span", { class: "hint" }, clockTime(note.at)),
    h("span", {}, withCode(note.text)),
  );
}

/** Text with `backticked` commands shown as code. */
function withCode(text) {
  return text.split("`").map((part, index) => (index % 2 ? h("code", {}, part) : part));
}

export function timelineItem(entry) {
  return h("li", {}, h("span", { class: "hint" }, clockTime(entry.at)), " ", withCode(entry.summary));
}
