// A directory search box (ARIA combobox): as the operator types, matching Teams users appear with their
// presence dots; Arrow keys and Enter pick one, or Enter sends the text as typed (a name, UPN or number).

import { h } from "./common/dom.js";
import { presenceDot } from "./common/presence.js";

const DEBOUNCE_MS = 200;
let boxes = 0;

/** `search(text)` returns users; `choose({query, name})` acts on the pick. */
export function userPicker({ label, action, placeholder, search, choose }) {
  const id = `picker-${++boxes}`;
  const input = h("input", {
    id,
    role: "combobox",
    autocomplete: "off",
    spellcheck: "false",
    placeholder,
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": `${id}-list`,
    "data-key": id,
  });
  const list = h("ul", {
    id: `${id}-list`,
    role: "listbox",
    class: "plain options",
    "aria-label": "Matching users",
    hidden: true,
  });
  const note = h("p", { class: "status", role: "status" });
  const form = h(
    "form",
    { class: "picker" },
    h("label", { for: id }, label),
    h("div", { class: "combo" }, input, list),
    h("button", { type: "submit", "data-key": `${id}-go` }, action),
    note,
  );
  let users = [];
  let active = -1;
  let timer = 0;
  let asked = 0;

  const show = (found) => {
    users = found;
    active = -1;
    list.replaceChildren(
      ...found.map((user, index) =>
        h(
          "li",
          {
            id: `${id}-option-${index}`,
            role: "option",
            "aria-selected": "false",
            onmousedown: (e) => e.preventDefault(),
            onclick: () => pick(user),
          },
          presenceDot(user.presence),
          h("span", { class: "option-name" }, user.displayName),
          h("span", { class: "hint" }, [user.jobTitle, user.userPrincipalName].filter(Boolean).join(" · ")),
        ),
      ),
    );
    list.hidden = found.length === 0;
    input.setAttribute("aria-expanded", String(found.length > 0));
    input.removeAttribute("aria-activedescendant");
  };
  const highlight = (index) => {
    active = index;
    [...list.children].forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) input.setAttribute("aria-activedescendant", `${id}-option-${index}`);
  };
  const pick = (user) => finish({ query: user.id, name: user.displayName });
  const finish = (choice) => {
    input.value = "";
    show([]);
    note.textContent = "";
    choose(choice);
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (!text) return show([]);
    timer = setTimeout(async () => {
      const ticket = ++asked;
      try {
        const found = await search(text);
        if (ticket === asked && input.value.trim() === text && document.activeElement === input) show(found);
        note.textContent = "";
      } catch (error) {
        note.textContent = error.message;
        note.dataset.kind = "error";
      }
    }, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && users.length) highlight((active + 1) % users.length);
    else if (event.key === "ArrowUp" && users.length) highlight((active - 1 + users.length) % users.length);
    else if (event.key === "Escape") show([]);
    else return;
    event.preventDefault();
  });
  input.addEventListener("blur", () => show([]));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (active >= 0) return pick(users[active]);
    const text = input.value.trim();
    if (text) finish({ query: text, name: text });
  });
  return form;
}
