// An expandable JSON tree built from <details>: keyboard- and screen-reader-usable without any script of
// its own. Nested objects are built when first opened, so large payloads cost nothing until looked at.

import { h } from "./dom.js";

export function jsonView(value) {
  return h("div", { class: "json" }, node(value, null, true));
}

function node(value, key, open) {
  const label = key === null ? null : h("span", { class: "json-key" }, `${key}: `);
  if (value === null || typeof value !== "object") {
    return h("div", { class: "json-line" }, label, scalar(value));
  }
  const entries = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
  const shape = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  const list = h("div", { class: "json-children" });
  const details = h(
    "details",
    { class: "json-node" },
    h("summary", {}, label, h("span", { class: "json-shape" }, shape)),
    list,
  );
  const fill = () => {
    if (!list.childElementCount) list.append(...entries.map(([k, v]) => node(v, k, false)));
  };
  details.addEventListener("toggle", fill);
  if (open && entries.length) {
    fill();
    details.open = true;
  }
  return details;
}

function scalar(value) {
  const type = value === null ? "null" : typeof value;
  return h("span", { class: `json-${type}` }, type === "string" ? JSON.stringify(value) : String(value));
}
