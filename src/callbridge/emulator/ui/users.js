// Tenant admin, per user: licences (by part number), Enterprise Voice, and how their Teams client answers.

import { control, userPath } from "./api.js";
import { arrange, h, say, sync } from "./common/dom.js";

const ANSWERS = [
  ["manual", "rings until clicked"],
  ["accept", "accepts"],
  ["decline", "declines"],
  ["busy", "is busy"],
  ["noAnswer", "lets it ring"],
];

export function userAdmin(refresh) {
  const container = document.getElementById("user-rows");
  const status = document.getElementById("users-status");
  const rows = new Map();
  return function update({ users }) {
    for (const id of rows.keys()) if (!users.some((user) => user.id === id)) rows.delete(id);
    for (const user of users) {
      if (!rows.has(user.id)) rows.set(user.id, userRow(user, status, refresh));
      rows.get(user.id).update(user);
    }
    arrange(
      container,
      users.map((user) => rows.get(user.id).form),
    );
  };
}

function userRow(user, status, refresh) {
  const licences = h("input", { name: "licenses", autocomplete: "off", spellcheck: "false" });
  const voice = h("input", { type: "checkbox", name: "enterpriseVoiceEnabled" });
  const answer = h(
    "select",
    { name: "answer" },
    ANSWERS.map(([value, label]) => h("option", { value }, label)),
  );
  const after = h("input", { name: "afterSeconds", type: "number", min: "0", step: "0.5", inputmode: "decimal" });
  const form = h(
    "form",
    { class: "user-row", role: "group", "aria-label": user.displayName },
    h(
      "span",
      { class: "user-name" },
      user.displayName,
      h("span", { class: "hint" }, user.userType === "Member" ? "" : ` (${user.userType})`),
    ),
    h("label", {}, "Licences", licences),
    h("label", { class: "check" }, voice, "Enterprise Voice"),
    h("label", {}, "Client", answer),
    h("label", {}, "after (s)", after),
    h("button", { type: "submit" }, "Save"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await control.patch(userPath(user.id), {
        licenses: licences.value.split(/[\s,]+/).filter(Boolean),
        enterpriseVoiceEnabled: voice.checked,
        answer: { action: answer.value, afterSeconds: Number(after.value || 0) },
      });
      say(status, `Saved ${user.displayName}.`);
    } catch (error) {
      say(status, `${user.displayName}: ${error.message}`, "error");
    }
    refresh();
  });
  return {
    form,
    update(current) {
      sync(licences, "value", current.licenses.map((licence) => licence.skuPartNumber).join(", "));
      sync(voice, "checked", current.enterpriseVoiceEnabled);
      sync(answer, "value", current.answer.action);
      sync(after, "value", String(current.answer.afterSeconds));
    },
  };
}
