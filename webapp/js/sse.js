// Server-Sent Events over fetch: a WHATWG event-stream parser and a reader for a fetch Response.
//
// Why not EventSource: a chat turn starts with a POST (EventSource only GETs), and the store needs its own
// reconnection rules (backoff it can show, no reconnect after a user stop, a polling fallback), which
// EventSource's built-in reconnect would fight.

/**
 * Incremental parser of the `text/event-stream` format, following the WHATWG HTML rules:
 * - lines end in CRLF, LF or CR; a CR at the very end of a chunk waits for the next chunk, which may start
 *   with the LF of the same CRLF;
 * - `field: value` (one optional space after the colon is dropped), `field` alone means an empty value,
 *   a line starting with `:` is a comment;
 * - `data` lines are joined with LF; an empty line dispatches; an event with no data is not dispatched;
 * - `id` sets the last event id (ignored when it contains NUL) and it stays set for later events;
 * - at the end of the stream an unterminated line and an undispatched event are dropped.
 */
export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = '';      // text not yet split into lines
    this.type = '';
    this.data = '';
    this.lastEventId = '';
    this.idSeen = false;   // whether the current event had its own id line
  }

  push(text, final = false) {
    const buf = this.buffer + text;
    const eol = /\r\n?|\n/g;
    let pos = 0;
    let m;
    while ((m = eol.exec(buf)) !== null) {
      if (m[0] === '\r' && m.index === buf.length - 1 && !final) break;
      this.line(buf.slice(pos, m.index));
      pos = eol.lastIndex;
    }
    this.buffer = final ? '' : buf.slice(pos);
    if (final) { this.type = ''; this.data = ''; }
  }

  line(line) {
    if (line === '') { this.dispatch(); return; }
    if (line[0] === ':') return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data += value + '\n';
    else if (field === 'id' && !value.includes('\0')) { this.lastEventId = value; this.idSeen = true; }
    // `retry` and unknown fields are ignored: reconnection is the store's business.
  }

  dispatch() {
    const { type, data, idSeen } = this;
    this.type = '';
    this.data = '';
    this.idSeen = false;
    if (data === '') return;
    // `ownId` tells events that carried an id line (all but `ping` here) from those that inherit one.
    this.onEvent({ type: type || 'message', data: data.slice(0, -1), id: this.lastEventId, ownId: idSeen });
  }
}

/** Whether a response is an event stream. */
export function isEventStream(response) {
  return (response.headers.get('content-type') || '').toLowerCase().startsWith('text/event-stream');
}

/**
 * Reads an event-stream response to its end, calling `onEvent` for each event; `onBytes` is called for every
 * chunk received (the store's watchdog uses it: pings count as life). Resolves when the body ends or
 * `shouldStop()` turns true after an event; rejects on a network error or an abort.
 */
export async function readEventStream(response, { onEvent, onBytes, shouldStop }) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser(onEvent);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (onBytes) onBytes();
      parser.push(decoder.decode(value, { stream: true }));
      if (shouldStop && shouldStop()) return;
    }
    parser.push(decoder.decode(), true);
  } finally {
    reader.cancel().catch(() => {});
  }
}
