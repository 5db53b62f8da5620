// The local cloud's control API (/emulator), as the page uses it.

import { requestJson } from "./common/http.js";

const BASE = "/emulator";

export const control = {
  get: (path) => requestJson(BASE + path),
  post: (path, body = {}) => requestJson(BASE + path, { method: "POST", body }),
  put: (path, body) => requestJson(BASE + path, { method: "PUT", body }),
  patch: (path, body) => requestJson(BASE + path, { method: "PATCH", body }),
  delete: (path) => requestJson(BASE + path, { method: "DELETE" }),
};

/** `/teams/users/{id}` with the id escaped. */
export function userPath(id, rest = "") {
  return `/teams/users/${encodeURIComponent(id)}${rest}`;
}
