// Connection code shared by every live view: the store's event streams (chat, titles, rewrites) and the agents'
// WebSocket use the same backoff, the same liveness watchdog, the same "revive" signals and the same batching of
// view updates, so that they behave alike on a poor network.

import { renderInterval, activeRate } from './net.js';

/** Backoff before reconnect attempt n (ms), then the last value; up to 25 % jitter is added. */
export const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];

/** The wait before reconnect attempt `attempt` (0-based), with jitter (ms). */
export function backoff(attempt) {
  const base = BACKOFF_MS[Math.min(Math.max(attempt, 0), BACKOFF_MS.length - 1)];
  return base + Math.floor(Math.random() * base * 0.25);
}

/**
 * Silence after which a connection whose stream is generating is deemed dead (ms). The server sends a `ping`
 * after 1 s without an event while a stream generates (API.md section 13), so a healthy connection is never
 * silent for much more than 1.25 s; 2 s leaves room for the network's jitter.
 */
export const GENERATING_SILENCE_MS = 2000;
/** Silence after which an idle connection (15 s heartbeats) is deemed dead, when its heartbeat is unknown (ms). */
export const IDLE_SILENCE_MS = 45000;

/**
 * A watchdog over one connection: `touch()` at every byte received; `onDead()` is called once when the silence
 * passes `limit()` (ms, read at each check, so that it follows the stream's state). A dead TCP path (no FIN, no
 * RST) never errors by itself: this is how the page notices.
 */
export class Watchdog {
  constructor(limit, onDead, checkMs = 250) {
    this.limit = limit;
    this.onDead = onDead;
    this.last = performance.now();
    this.dead = false;
    this.timer = setInterval(() => this.check(), checkMs);
    watchdogs.add(this);
  }

  touch() { this.last = performance.now(); }

  silentFor() { return performance.now() - this.last; }

  /** Calls `onDead` if the connection has been silent past its limit, or past `limit` when given. */
  check(limit = this.limit()) {
    if (this.dead || this.silentFor() <= limit) return false;
    this.dead = true;
    this.stop();
    this.onDead();
    return true;
  }

  stop() {
    clearInterval(this.timer);
    watchdogs.delete(this);
  }
}

const watchdogs = new Set();
const revivers = new Set();

/**
 * Calls `fn()` when the network may be back or the page's timers may have been asleep: the browser's `online`
 * event, and a hidden tab becoming visible (its timers were throttled, so a dead connection may not have been
 * noticed yet). Before `fn`, every watched connection silent for more than `REVIVE_SILENCE_MS` is declared
 * dead, so that it reconnects now rather than at its watchdog's next check. Returns the unsubscribe function.
 */
export function onRevive(fn) {
  revivers.add(fn);
  return () => revivers.delete(fn);
}

/** On `online` or visibility: silence past which a watched connection is taken for dead at once (ms). */
export const REVIVE_SILENCE_MS = 1500;

function revive(why) {
  for (const w of [...watchdogs]) w.check(Math.min(REVIVE_SILENCE_MS, w.limit()));
  for (const fn of revivers) {
    try { fn(why); } catch (e) { console.error(e); }
  }
}

addEventListener('online', () => revive('online'));
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') revive('visible'); });

/**
 * Batches view updates: `mark(item)` collects changed items, and `onFlush(items)` gets them together at most
 * every `renderInterval()` of the network's rate (100 ms, or the coarser server rate on a slow network: drawing
 * more often than events arrive draws nothing new). `flush()` delivers at once (at a stream's end).
 */
export class Batcher {
  constructor(onFlush) {
    this.onFlush = onFlush;
    this.dirty = new Set();
    this.timer = null;
  }

  mark(item) {
    this.dirty.add(item);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), renderInterval(activeRate()));
  }

  flush() {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (!this.dirty.size) return;
    const batch = [...this.dirty];
    this.dirty.clear();
    this.onFlush(batch);
  }
}

/**
 * A WebSocket that reconnects by itself with the shared backoff (and at once on `online` or when the tab is shown
 * again), for views whose protocol resumes by itself on a new socket (the agents' `resume` frames). `handlers`:
 * `onOpen(reconnected)` (send the resume frames there), `onMessage(data)`, `onState(state, attempt)` with state
 * `connecting`, `open` or `reconnecting`. Frames sent while closed wait in an outbox, in order.
 */
export class ResumingSocket {
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.socket = null;
    this.open = false;
    this.attempts = 0;
    this.outbox = [];
    this.retryTimer = null;
    onRevive(() => { if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = null; this.connect(); } });
  }

  connect() {
    const socket = new WebSocket(this.url());
    this.socket = socket;
    this.handlers.onState(this.attempts ? 'reconnecting' : 'connecting', this.attempts);
    socket.addEventListener('open', () => {
      this.open = true;
      const reconnected = this.attempts > 0;
      this.attempts = 0;
      this.handlers.onState('open', 0);
      this.handlers.onOpen(reconnected);
      while (this.open && this.outbox.length) socket.send(this.outbox.shift());
    });
    socket.addEventListener('message', (e) => this.handlers.onMessage(e.data));
    socket.addEventListener('close', () => {
      this.open = false;
      this.socket = null;
      this.attempts += 1;
      this.handlers.onState('reconnecting', this.attempts);
      this.retryTimer = setTimeout(() => { this.retryTimer = null; this.connect(); }, backoff(this.attempts - 1));
    });
  }

  /** Sends a JSON frame now, or when the socket is open again. */
  send(frame) {
    const text = JSON.stringify(frame);
    if (this.open) this.socket.send(text);
    else this.outbox.push(text);
  }

  /** Sends a JSON frame only if the socket is open now (for frames that `onOpen` sends again anyway). */
  sendNow(frame) {
    if (this.open) this.socket.send(JSON.stringify(frame));
  }
}
