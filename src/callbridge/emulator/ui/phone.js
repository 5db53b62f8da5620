// The phone: dial one of the resource's numbers from any caller number, watch the call's state, hang up.

import { control } from "./api.js";
import { clockTime, h, onSubmit, render, say, sync } from "./common/dom.js";

const SHOWN_CALLS = 6;

export function phone(refresh) {
  const form = document.getElementById("dial-form");
  const status = document.getElementById("dial-status");
  const list = document.getElementById("phone-calls");
  const to = form.elements.to;

  onSubmit(form, status, async (data) => {
    const body = { from: data.get("from").trim(), to: data.get("to") };
    if (data.get("displayName").trim()) body.displayName = data.get("displayName").trim();
    await control.post("/pstn/calls", body);
    refresh();
    return `${body.from} is calling ${body.to}.`;
  });

  const hangUp = async (call) => {
    try {
      await control.post(`/pstn/calls/${encodeURIComponent(call.serverCallId)}:hangUp`, { phone: call.phone });
      say(status, `${call.phone} hung up.`);
    } catch (error) {
      say(status, error.message, "error");
    }
    refresh();
  };

  return function update({ info, pstnCalls }) {
    render(to, info.acs.phoneNumbers, (numbers) =>
      numbers.length ? numbers.map((n) => h("option", { value: n }, n)) : h("option", { value: "" }, "no numbers"),
    );
    sync(to, "value", info.acs.phoneNumbers[0] ?? "");
    const calls = [...pstnCalls].sort((a, b) => b.startedAt - a.startedAt).slice(0, SHOWN_CALLS);
    render(list, calls, () =>
      calls.map((call) =>
        h(
          "li",
          { class: "phone-call" },
          h("span", { class: "mono" }, `${call.from} → ${call.to}`),
          h("span", { class: `badge state-${call.state}` }, call.state),
          h("span", { class: "hint" }, clockTime(call.startedAt * 1000)),
          call.state !== "ended" &&
            h(
              "button",
              { class: "danger", "data-key": `hangup-${call.serverCallId}`, onclick: () => hangUp(call) },
              "Hang up",
            ),
        ),
      ),
    );
  };
}
