// Teams presence as a coloured dot with a spoken label: Available green, Busy red, Do not disturb red with
// a bar, Away and Be right back yellow, Offline grey.

import { h } from "./dom.js";

const DOT_CLASS = {
  Available: "available",
  AvailableIdle: "available",
  Busy: "busy",
  BusyIdle: "busy",
  DoNotDisturb: "dnd",
  Away: "away",
  BeRightBack: "away",
  Offline: "offline",
};

/** "Busy, in a call" for {availability: "Busy", activity: "InACall"}; "Presence unknown" without one. */
export function describePresence(presence) {
  if (!presence?.availability) return "Presence unknown";
  const availability = words(presence.availability);
  const activity = presence.activity && presence.activity !== presence.availability ? words(presence.activity) : "";
  return activity ? `${availability}, ${activity.toLowerCase()}` : availability;
}

export function presenceDot(presence) {
  const label = describePresence(presence);
  const kind = DOT_CLASS[presence?.availability] ?? "unknown";
  return h("span", { class: `presence-dot presence-${kind}`, role: "img", "aria-label": label, title: label });
}

function words(name) {
  const parts = name.split(/(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/);
  return parts.map((part, index) => (index === 0 ? part : part.toLowerCase())).join(" ");
}
