// The operator API (/api) with the key from this tab's session. `callbridge up` links to the console as
// /console/#key=…: the fragment never leaves the browser; the page moves the key into sessionStorage and
// drops it from the address bar.

import { requestJson } from "./common/http.js";

const STORAGE = "callbridge.operatorApiKey";

export function loadKey() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.has("key")) {
    sessionStorage.setItem(STORAGE, fragment.get("key"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(STORAGE);
}

export function saveKey(key) {
  sessionStorage.setItem(STORAGE, key);
}

export function keyHeaders() {
  return { "X-API-Key": sessionStorage.getItem(STORAGE) ?? "" };
}

const call = (method, path, body) => requestJson(`/api${path}`, { method, body, headers: keyHeaders() });

export const api = {
  get: (path) => call("GET", path),
  post: (path, body = {}) => call("POST", path, body),
  delete: (path) => call("DELETE", path),
};

/** `/calls/{key}` with the key escaped, plus `rest`. */
export function callPath(callKey, rest = "") {
  return `/calls/${encodeURIComponent(callKey)}${rest}`;
}
