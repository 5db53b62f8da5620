// The operator console: active calls and call history from the operator API, reloaded whenever the service
// reports a change (GET /api/events), so every tab shows the same, reloads included.

import { api, keyHeaders, loadKey, saveKey } from "./api.js";
import { activeCalls } from "./calls.js";
import { say } from "./common/dom.js";
import { coalesce, stayLive } from "./common/live.js";
import { callHistory } from "./history.js";

const ACTIVE = ["answering", "connected"];
const problem = document.getElementById("problem");
const keyForm = document.getElementById("key-form");
let stop = null;

const refresh = coalesce(async () => {
  try {
    const [active, recent] = await Promise.all([
      api.get("/calls?active=true"),
      api.get("/calls?active=false&limit=50"),
    ]);
    const details = await Promise.all(
      active.value.map((call) => api.get(`/calls/${encodeURIComponent(call.callKey)}`)),
    );
    showCalls(details);
    showHistory(recent.value.filter((call) => !ACTIVE.includes(call.state)));
    say(problem, "");
  } catch (error) {
    if (error.status === 401) askForKey("The service refused this key; enter the operator API key.");
    else say(problem, `Could not load the calls: ${error.message}`, "error");
  }
});
const showCalls = activeCalls(refresh);
const showHistory = callHistory();

function start() {
  keyForm.hidden = true;
  stop?.();
  stop = stayLive("/api/events", refresh, document.getElementById("live"), keyHeaders());
  refresh();
}

function askForKey(why) {
  stop?.();
  stop = null;
  keyForm.hidden = false;
  say(problem, why, "error");
  keyForm.elements.key.focus();
}

keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  saveKey(keyForm.elements.key.value.trim());
  keyForm.reset();
  say(problem, "");
  start();
});

if (loadKey()) start();
else askForKey("Enter the operator API key to see the calls.");
