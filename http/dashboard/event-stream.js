// Follows GET /admin/events with fetch and a ReadableStream (so the Authorization header is carried: EventSource
// cannot send one, and a token never goes in a URL), parses its server-sent events, and reconnects — with the
// session's current token, after a growing pause — when the stream ends (token expired) or breaks.

/** Splits a text/event-stream into events: `{ event, data }` per blank-line-terminated block; comments skipped. */
export class EventParser {
  #buffer = '';

  /** Feeds a chunk; returns the events it completed. */
  push(chunk) {
    this.#buffer += chunk.replace(/\r\n?/g, '\n');
    const events = [];
    let end;
    while ((end = this.#buffer.indexOf('\n\n')) >= 0) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length) events.push({ event, data: data.join('\n') });
    }
    return events;
  }
}

/**
 * Follows the stream until stop(). `on.snapshot(snapshot)`, `on.unavailable({code})`, `on.connection(state, detail)`
 * with state `connecting`, `live`, `retrying` or `signed-out`.
 */
export function followEvents(session, on) {
  let stopped = false;
  let controller;
  let pauseMs = 1_000;
  const run = async () => {
    while (!stopped && session.signedIn) {
      on.connection('connecting');
      controller = new AbortController();
      try {
        const res = await session.fetch('/admin/events', { headers: { accept: 'text/event-stream' }, signal: controller.signal });
        if (res.status === 401 || res.status === 403) {
          on.connection('signed-out', `The event stream refused this session (${res.status}).`);
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new EventParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const { event, data } of parser.push(value)) {
            if (event === 'snapshot') {
              pauseMs = 1_000;
              on.connection('live');
              on.snapshot(JSON.parse(data));
            } else if (event === 'unavailable') on.unavailable(JSON.parse(data));
          }
        }
        // Ended by the server (the access token expired): reconnect at once with the refreshed one.
        continue;
      } catch (e) {
        if (stopped) return;
        on.connection('retrying', e instanceof Error ? e.message : String(e));
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(pauseMs * 2, 15_000);
    }
  };
  void run();
  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}
