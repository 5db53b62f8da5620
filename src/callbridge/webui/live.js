// Keep a view live: reload its state on every (re)connection and after every change event, with bursts of
// events coalesced into one reload at a time. Reloads are idempotent, so a page is right after a reload,
// in several tabs, and after the connection drops.

import { listen } from "./sse.js";

/** A trigger that runs `task` soon; triggers while it runs cause exactly one more run afterwards. */
export function coalesce(task, delayMs = 40) {
  let running = null;
  let again = false;
  return function trigger() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          await task();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

/**
 * Listen to `url` (SSE) and call `refresh` whenever something may have changed; `status` shows the link. A
 * hidden tab lets go of its stream (browsers allow only a few connections per server) and reloads when shown.
 */
export function stayLive(url, refresh, status, headers = {}) {
  const words = { live: "Live", reconnecting: "Reconnecting…", refused: "Not authorised" };
  const show = (state) => {
    status.dataset.state = state;
    status.textContent = words[state];
  };
  let stop = null;
  const follow = () => {
    if (document.hidden) {
      stop?.();
      stop = null;
    } else {
      stop ??= listen(url, { headers, onOpen: refresh, onEvent: refresh, onState: show });
    }
  };
  document.addEventListener("visibilitychange", follow);
  follow();
  return () => {
    document.removeEventListener("visibilitychange", follow);
    stop?.();
  };
}
