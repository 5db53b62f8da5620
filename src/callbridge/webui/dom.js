// Small DOM helpers: build elements, re-render a region only when its data changed (keeping keyboard
// focus on the "same" control), and set form controls from data without clobbering a user's edits.

/** `h("button", {class: "primary", onclick: go}, "Dial")`; false/null attributes and children are skipped. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(
    ...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false),
  );
  return element;
}

const signatures = new WeakMap();

/**
 * Replace `container`'s children with `build(data)` unless `data` is what was rendered last time. Focus
 * stays on the element with the same `data-key` (a refresh must not throw a keyboard user out).
 */
export function render(container, data, build) {
  const signature = JSON.stringify(data);
  if (signatures.get(container) === signature) return;
  signatures.set(container, signature);
  const active = document.activeElement;
  const focusKey = container.contains(active) ? active.dataset.key : undefined;
  container.replaceChildren(
    ...[build(data)].flat(Infinity).filter((node) => node !== null && node !== undefined && node !== false),
  );
  if (focusKey) container.querySelector(`[data-key="${CSS.escape(focusKey)}"]`)?.focus();
}

const synced = new WeakMap();

/** Set `control[property]` to `value` only when the server's value changed since the last sync. */
export function sync(control, property, value) {
  if (synced.get(control) === value) return;
  synced.set(control, value);
  control[property] = value;
}

/** Show a short outcome in a status line (an aria-live region); `kind` is "ok", "error" or "pending". */
export function say(element, text, kind = "ok") {
  element.textContent = text;
  element.dataset.kind = kind;
}

/** Run a form submission without reloading the page; its status line shows progress and the outcome. */
export function onSubmit(form, status, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    say(status, "Working…", "pending");
    try {
      say(status, (await action(new FormData(form))) ?? "Done.");
    } catch (error) {
      say(status, error.message, "error");
    } finally {
      if (button) button.disabled = false;
    }
  });
}

/** "12:03:04" in the viewer's time zone. */
export function clockTime(date) {
  return new Date(date).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** Make `container`'s children exactly `elements`, in order, moving only the ones out of place (moving an
 * element would drop its focus, and rebuilding it would close its open <details>). */
export function arrange(container, elements) {
  elements.forEach((element, index) => {
    const current = container.children[index];
    if (current !== element) container.insertBefore(element, current ?? null);
  });
  while (container.children.length > elements.length) container.lastElementChild.remove();
}
