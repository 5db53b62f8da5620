// Outcomes shown where the action was taken: this tab's requests in flight and refusals, then how each
// operation ended (from the call record, so every tab and a reload show the same), newest first; and the
// lines of a call's service timeline.

import { clockTime, h } from "./common/dom.js";

/** Per call: this tab's requests in flight, refusals, and outcomes the record does not show yet. */
export class Notes {
  constructor() {
    this.local = [];
  }

  /**
   * Show `text` ("Adding Megan Bowen…") while `request` runs. A response that carries its outcome (wait: true)
   * shows it until the call record has it too; any other accepted request leaves the rest to the record
   * (who is ringing, then how it ended); a refusal stays, with the service's reason.
   */
  async track(text, request) {
    const note = { text, kind: "pending", at: new Date().toISOString() };
    this.local.unshift(note);
    try {
      const result = await request();
      if (result.outcome) Object.assign(note, fromOutcome(result.outcome), { context: result.operationContext });
      else this.local = this.local.filter((other) => other !== note);
    } catch (error) {
      Object.assign(note, { kind: "error", text: `${text.replace(/…$/, "")}: ${error.message}` });
    }
  }

  /** This tab's notes, then the record's outcomes (given oldest first), newest first. */
  view(outcomes) {
    const settled = new Set(outcomes.map((outcome) => outcome.operationContext));
    this.local = this.local.filter((note) => !settled.has(note.context));
    const local = this.local.map(({ text, kind, at }) => ({ text, kind, at }));
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

export function timelineItem(entry) {
  return h("li", {}, h("span", { class: "hint" }, clockTime(entry.at)), " ", withCode(entry.summary));
}

/** Text with `backticked` commands shown as code. */
function withCode(text) {
  return text.split("`").map((part, index) => (index % 2 ? h("code", {}, part) : part));
}
