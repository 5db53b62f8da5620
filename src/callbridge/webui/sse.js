// Server-Sent Events read with fetch() and a stream parser, so the request can carry headers (an API key).
// It reconnects after the server's `retry:` delay (but not after 401/403) and calls onOpen on every
// (re)connection: views reload their whole state then, so nothing needs replaying (Last-Event-ID is not
// sent; it would also mislead a server restarted since, whose sequence numbers start again).

export function listen(url, { headers = {}, onOpen, onEvent, onState }) {
  const controller = new AbortController();
  let retryMs = 1000;

  const dispatch = (message) => {
    if (message.retry !== undefined) retryMs = message.retry;
    if (message.data !== undefined) onEvent?.(message);
  };

  (async () => {
    while (!controller.signal.aborted) {
      try {
        const response = await fetch(url, {
          headers: { Accept: "text/event-stream", ...headers },
          cache: "no-store",
          signal: controller.signal,
        });
        if (response.status === 401 || response.status === 403) return onState?.("refused");
        if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status}`);
        onState?.("live");
        onOpen?.();
        await readEvents(response.body, dispatch);
      } catch {
        if (controller.signal.aborted) return;
      }
      onState?.("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  })();

  return () => controller.abort();
}

/** Parse a text/event-stream body, calling `dispatch` with {event, data, id, retry} per blank-line block. */
async function readEvents(body, dispatch) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let message = {};
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === "") {
        dispatch(message);
        message = {};
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      const text = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") message.data = message.data === undefined ? text : `${message.data}\n${text}`;
      else if (field === "event") message.event = text;
      else if (field === "id") message.id = text;
      else if (field === "retry" && /^\d+$/.test(text)) message.retry = Number(text);
    }
  }
}
