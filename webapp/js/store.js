// The global stream store: a map of stream id -> stream state, independent of any view.
//
// Views never own a stream: they subscribe to the store and render whatever state it holds, so switching
// conversations (or views) only mounts and unmounts DOM, and every stream goes on arriving in the store.
//
// Following rules (API.md sections 2 and 3):
// - A chat turn starts with `POST /api/chat/stream`; its first event (`stream`) names the stream. Other
//   streams are created with `POST /api/streams` and followed with `GET /api/streams/{id}/events`.
// - Every event but `ping` has an integer id, strictly increasing within the stream. The store applies an
//   event only when its id is above the last one applied, so a replay that overlaps never repeats text.
// - A dropped connection (network error, body ended without a terminal event, silence past the watchdog) is
//   not the end: the store reconnects with `lastEventId` = the last id applied, after a backoff it shows as
//   the `reconnecting` state. The server sends exactly the events after that id, so every character arrives
//   exactly once. While a stream generates, the server sends a `ping` after 1 s without an event, so 2 s of
//   silence means a dead connection (a path that died without FIN or RST): the watchdog (conn.js) aborts it
//   and the stream resumes within about 2.5 s. The browser's `online` event, and a hidden tab becoming
//   visible, end a silent connection and cut any backoff short.
// - Each connection asks for the delivery rate that suits the network (net.js: `flushMs`, `minChunk`), chosen
//   when it opens; views are told about changes in batches at the same rate.
// - A user stop is final: the stream is marked `userStopped` and is never followed again.
// - When the event stream cannot be opened while plain requests work (a proxy that buffers or refuses
//   `text/event-stream`), the store switches that stream to the polling fallback
//   (`GET /api/streams/{id}?after=N&wait=S`).
// - After a long run of failures the stream is `stalled`: the view asks the user to keep waiting or stop.
// - On `pagehide`, running streams get a `navigator.sendBeacon` abort with reason `unload`; the server waits
//   its unload grace, so a reload (which finds them again with `GET /api/streams?status=active`) keeps them.

import { API, HttpError, api, clientId, enc, markReachable, problemText, withClient } from './api.js';
import { isEventStream, readEventStream } from './sse.js';
import { Batcher, GENERATING_SILENCE_MS, IDLE_SILENCE_MS, Watchdog, backoff, onRevive } from './conn.js';
import * as net from './net.js';

/** Statuses after which nothing more arrives. */
export const TERMINAL = new Set(['completed', 'stopped', 'partial', 'error', 'rejected', 'gone']);
/** Failed attempts in a row after which the user is asked (about 30 s of trying). */
const STALL_AFTER = 9;
/**
 * Running streams that `discover()` follows again: chats and conversation titles (and, below, conversation topics).
 * Agent streams are the agents
 * view's (over the WebSocket); a prompt rewrite or a system prompt started before a reload has lost the box it
 * was writing into, so it is left to end on the server (its resume grace).
 */
const DISCOVERED_TYPES = new Set(['chat', 'conversation_title']);
/** A topic_title stream that the server started for a conversation (after its title) is followed too. */
const discovered = (item) => DISCOVERED_TYPES.has(item.type) || (item.type === 'topic_title' && item.conversationId);
/** Seconds a poll of the fallback waits for news. */
const POLL_WAIT_S = 20;

const streams = new Map();
const listeners = new Set();
let localIds = 0;
const lastTyped = {}; // type -> id of the latest typed stream this page started (debug hook)

/**
 * Ids of the running streams this tab started, kept in sessionStorage so that they survive a reload of the tab.
 * Only these get the unload beacon: a stream that another tab started (and this one follows after `discover()`)
 * must not be aborted because this tab closes.
 */
const tabStreams = (() => {
  const key = 'sluice.tabStreams';
  let ids = [];
  try { ids = JSON.parse(sessionStorage.getItem(key) || '[]'); } catch { /* storage disabled */ }
  const set = new Set(Array.isArray(ids) ? ids : []);
  const save = () => { try { sessionStorage.setItem(key, JSON.stringify([...set])); } catch { /* ignore */ } };
  return {
    has: (id) => set.has(id),
    add(id) { set.add(id); save(); },
    delete(id) { if (set.delete(id)) save(); },
    /** Forgets the ids that are no longer running (they ended while the tab was away). */
    retain(running) { for (const id of [...set]) if (!running.has(id)) set.delete(id); save(); },
  };
})();

/**
 * A stream's text as a list of deltas: appending is O(delta) (never a concatenation of the whole text, which
 * would be O(n^2) over an answer), and a view reads only what is new to it. Cursors count UTF-16 code units, so
 * `toString()` can join the parts into one and keep only that: the text is held once, whatever its size.
 */
export class Text {
  constructor() { this.parts = []; this.length = 0; }
  push(s) { if (s) { this.parts.push(s); this.length += s.length; } }
  reset(s) { this.parts = s ? [s] : []; this.length = s ? s.length : 0; }
  /** `{text, cursor}`: what was added after `cursor` (a length already read), and the new cursor. */
  since(cursor) {
    if (cursor >= this.length) return { text: '', cursor: this.length };
    let i = this.parts.length;
    let at = this.length;
    while (i > 0 && at > cursor) at -= this.parts[--i].length;
    const first = this.parts[i].slice(cursor - at);
    const text = i + 1 === this.parts.length ? first : first + this.parts.slice(i + 1).join('');
    return { text, cursor: this.length };
  }
  /** The whole text; the parts are joined into one, which replaces them. */
  toString() {
    if (this.parts.length > 1) this.parts = [this.parts.join('')];
    return this.parts.length ? this.parts[0] : '';
  }
}

function newState(fields) {
  return {
    id: null, localId: `local-${++localIds}`, type: 'chat', relatedId: null, conversationId: null,
    userMessageId: null, messageId: null, model: null,
    status: 'connecting', transport: 'sse', lastEventId: 0,
    content: new Text(), reasoning: new Text(),
    finishReason: null, usage: null, reason: null, error: null,
    userStopped: false, failures: 0, sseFailures: 0, resumes: 0, heartbeatMs: 0, silentDrops: 0,
    events: 0, // `message` events applied (each may group several deltas: see net.js)
    startedAt: performance.now(), firstTokenAt: null, endedAt: null, reasoningAt: null, answerAt: null,
    continues: null, // for a Continue: the saved answer this stream continues
    controller: null, wake: null, decide: null, following: false,
    meta: {}, // what views keep about a stream (e.g. the user's text of a chat turn)
    ...fields,
  };
}

/* ---------- batched change notification ---------- */

const batcher = new Batcher((batch) => {
  for (const fn of listeners) {
    try { fn(batch); } catch (e) { console.error(e); }
  }
});

function changed(s) { batcher.mark(s); }

/** Tells listeners now (also used at a stream's end, so its last state is not held back). */
export function flush() { batcher.flush(); }

/** Calls `fn(changedStreams)` in batches (every 100 ms, or the network's coarser rate); returns the unsubscribe function. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function get(id) { return streams.get(id); }
export function all() { return [...streams.values()]; }
export function isRunning(s) { return !TERMINAL.has(s.status); }

/* ---------- applying events ---------- */

function parse(data) {
  if (typeof data !== 'string') return data || {};
  try { return JSON.parse(data); } catch { return {}; }
}

function register(s) {
  if (s.id) streams.set(s.id, s);
  changed(s);
}

/**
 * Applies one event of the stream's log. `id` is its event id (0 for `ping`); events at or below the last
 * applied id are replays already seen and are skipped.
 */
function apply(s, name, id, rawData) {
  if (name === 'ping') {
    const now = performance.now();
    if (s.lastPingAt) s.heartbeatMs = s.heartbeatMs ? Math.min(s.heartbeatMs, now - s.lastPingAt) : now - s.lastPingAt;
    s.lastPingAt = now;
    return;
  }
  if (id) {
    if (id <= s.lastEventId) return;
    s.lastEventId = id;
  }
  const data = parse(rawData);
  s.failures = 0;
  switch (name) {
    case 'stream':
      if (data.streamId && !s.id) {
        s.id = data.streamId;
        streams.set(s.id, s);
        if (s.meta.startedHere) tabStreams.add(s.id);
      }
      if (data.conversationId) s.conversationId = data.conversationId;
      if (data.userMessageId) s.userMessageId = data.userMessageId;
      if (data.type) s.type = data.type;
      if (data.continues) s.continues = data.continues;
      if (data.relatedId !== undefined && data.relatedId !== null) s.relatedId = data.relatedId;
      if (s.status === 'connecting' || s.status === 'reconnecting') s.status = 'streaming';
      break;
    case 'message':
      s.events += 1;
      if (data.reasoning) s.reasoning.push(data.reasoning);
      if (data.delta) s.content.push(data.delta);
      if (s.firstTokenAt == null && (data.delta || data.reasoning)) s.firstTokenAt = performance.now();
      if (s.reasoningAt == null && data.reasoning) s.reasoningAt = performance.now();
      if (s.answerAt == null && data.delta) s.answerAt = performance.now();
      s.status = 'streaming';
      break;
    case 'done':
      end(s, data.status || 'completed');
      s.messageId = data.messageId || s.messageId;
      s.finishReason = data.finishReason || null;
      s.usage = data.usage || null;
      break;
    case 'stopped':
      s.messageId = data.messageId || s.messageId;
      s.reason = data.reason || null;
      end(s, data.status === 'partial' ? 'partial' : 'stopped');
      break;
    case 'error':
      s.messageId = data.messageId || s.messageId;
      s.error = { message: data.error || 'The generation failed.', code: data.code || null, details: data.details };
      end(s, 'error');
      break;
    default:
      return;
  }
  changed(s);
}

function end(s, status) {
  s.status = status;
  s.endedAt = performance.now();
  if (s.id) tabStreams.delete(s.id);
}

/* ---------- following ---------- */

const sleep = (s, ms) => new Promise((resolve) => {
  const timer = setTimeout(done, ms);
  function done() { clearTimeout(timer); if (s.wake === done) s.wake = null; resolve(); }
  s.wake = done; // `online`, stop and "keep trying" call it to cut the wait short
});

/**
 * Silence after which the connection of `s` is deemed dead (ms): 2 s while the stream generates (the server
 * pings after 1 s without an event), else 2.5 heartbeats (15 s on an idle connection), or 45 s while unknown.
 */
function silenceLimit(s) {
  if (isRunning(s) && s.lastEventId > 0) return GENERATING_SILENCE_MS;
  return s.heartbeatMs ? Math.max(2.5 * s.heartbeatMs, 5000) : IDLE_SILENCE_MS;
}

/**
 * Reads one event-stream response into the stream; resolves when the response ends. A watchdog aborts a
 * connection that goes silent past `silenceLimit` (pings count), since a dead TCP path may never error.
 */
async function consume(s, response, controller) {
  const watchdog = new Watchdog(() => silenceLimit(s), () => {
    s.silentDrops += 1;
    s.silentDrop = true; // the path died, nothing refused us: the first retry goes at once
    controller.abort();
  });
  let fresh = true;
  try {
    await readEventStream(response, {
      onBytes: () => watchdog.touch(),
      onEvent: (ev) => {
        if (ev.type === 'message') { net.eventArrived(fresh); fresh = false; }
        apply(s, ev.type, ev.ownId ? Number(ev.id) || 0 : 0, ev.data);
      },
      shouldStop: () => TERMINAL.has(s.status),
    });
  } finally {
    watchdog.stop();
  }
}

/** One SSE connection from the last applied id: returns 'ended', 'dropped', or throws. */
async function connectSse(s) {
  const controller = new AbortController();
  s.controller = controller;
  let res;
  try {
    res = await fetch(withClient(`${API}/streams/${enc(s.id)}/events?lastEventId=${s.lastEventId}`)
      + net.rateQuery(net.nextRate()), {
      credentials: 'same-origin', headers: { Accept: 'text/event-stream' }, signal: controller.signal,
    });
  } catch (e) {
    if (s.userStopped) return 'ended';
    markReachable(false);
    throw Object.assign(new HttpError('network', 0), { connect: true });
  }
  markReachable(true);
  if (!res.ok) throw Object.assign(new HttpError(await problemText(res), res.status), { connect: true });
  if (!isEventStream(res) || !res.body) throw Object.assign(new HttpError('not an event stream', res.status), { connect: true });
  s.sseFailures = 0;
  s.failures = 0;
  if (s.status === 'reconnecting' || s.status === 'stalled' || s.status === 'connecting') {
    s.status = 'streaming';
    changed(s);
  }
  try {
    await consume(s, res, controller);
  } catch (e) {
    if (s.userStopped) return 'ended';
    return 'dropped';
  } finally {
    if (s.controller === controller) s.controller = null;
  }
  return TERMINAL.has(s.status) ? 'ended' : 'dropped';
}

/** One poll of the fallback: applies the events after the last id, waiting up to `wait` seconds. */
async function poll(s, wait) {
  const controller = new AbortController();
  s.controller = controller;
  try {
    const answer = await api(withClient(`streams/${enc(s.id)}?after=${s.lastEventId}&wait=${wait}`),
      { signal: controller.signal });
    for (const ev of answer.events || []) apply(s, ev.event, Number(ev.id) || 0, ev.data);
    if (s.status === 'reconnecting' || s.status === 'stalled' || s.status === 'connecting') {
      s.status = 'streaming';
      changed(s);
    }
    // A poll that reports the stream ended but holds no terminal event (evicted log): take the final state.
    if (TERMINAL.has(answer.status) && !TERMINAL.has(s.status) && !(answer.events || []).length) await settle(s);
  } finally {
    if (s.controller === controller) s.controller = null;
  }
}

/** Takes the final state of a stream whose events can no longer be replayed (410, or gone from memory). */
async function settle(s) {
  try {
    const state = await api(`streams/${enc(s.id)}`);
    if (state.content != null && state.content.length >= s.content.length) s.content.reset(state.content);
    if (state.reasoning != null && state.reasoning.length >= s.reasoning.length) s.reasoning.reset(state.reasoning);
    s.messageId = state.messageId || s.messageId;
    s.reason = state.endReason || s.reason;
    end(s, TERMINAL.has(state.status) ? state.status : 'partial');
  } catch (e) {
    end(s, e.status === 404 ? 'gone' : 'error');
    if (e.status !== 404) s.error = { message: e.message, code: null };
  }
  changed(s);
}

/** The wait before the next attempt: none after a first silent drop (a dead path), else the backoff. */
function retryWait(s) {
  const silent = s.silentDrop;
  s.silentDrop = false;
  return silent && s.failures <= 1 ? 0 : backoff(s.failures - 1);
}

/**
 * Follows a stream until it ends or the user stops it: SSE (or the polling fallback), reconnecting from the
 * last applied event id with backoff. Only one loop runs per stream.
 */
async function follow(s) {
  if (s.following) return;
  s.following = true;
  try {
    while (!TERMINAL.has(s.status) && !s.userStopped) {
      let problem = null;
      try {
        if (s.transport === 'poll') {
          await poll(s, POLL_WAIT_S);
          continue;
        }
        const outcome = await connectSse(s);
        if (outcome === 'ended') continue;
        problem = 'dropped';
      } catch (e) {
        if (e.name === 'AbortError' && s.userStopped) break;
        if (e.status === 404 || e.status === 410) { await settle(s); break; }
        problem = e;
      }
      if (TERMINAL.has(s.status) || s.userStopped) break;
      // Could not open the event stream at all: try one poll. If polls work where SSE does not, SSE is
      // blocked on the way (not the network): switch this stream to polling.
      if (problem && problem.connect && s.transport === 'sse') {
        try {
          await poll(s, 0);
          if (++s.sseFailures >= 2) s.transport = 'poll';
          continue;
        } catch { /* the network is down as well: back off */ }
      }
      s.failures += 1;
      s.resumes += 1;
      s.status = s.failures >= STALL_AFTER ? 'stalled' : 'reconnecting';
      changed(s);
      if (s.status === 'stalled') {
        // A timeout asks the user: keep waiting, or stop.
        const keepWaiting = await new Promise((resolve) => { s.decide = resolve; });
        s.decide = null;
        if (!keepWaiting) break;
        s.failures = 0;
        s.status = 'reconnecting';
        changed(s);
      } else {
        await sleep(s, retryWait(s));
      }
    }
  } finally {
    s.following = false;
    flush();
  }
}

/** The user's answer to a stalled stream: keep trying (true) or give up and stop it (false). */
export function decide(s, keepWaiting) {
  if (!keepWaiting) { stop(s); return; }
  if (s.decide) s.decide(true);
}

/* ---------- creating and finding streams ---------- */

/**
 * Starts a chat turn (`POST /api/chat/stream`) and follows it: a new `message`, a new version of the answer to the
 * user message `parentId` (Regenerate), or the continuation of the answer `continueFrom` (Continue). Resolves with
 * the stream state at once; its `status` is `rejected` (with `error`) when the server refused the turn before
 * streaming, and `error.code` is `NETWORK` when the request got no answer at all.
 */
export function startChat({ conversationId, message, parentId, continueFrom, model, systemPrompt, meta }) {
  const s = newState({ type: 'chat', conversationId: conversationId || null, model: model || null,
    continues: continueFrom || null });
  Object.assign(s.meta, meta || {}, { userText: message, startedHere: true });
  changed(s);
  const body = {};
  if (message != null) body.message = message;
  if (parentId) body.parentId = parentId;
  if (continueFrom) body.continueFrom = continueFrom;
  if (conversationId) body.conversationId = conversationId;
  if (model) body.model = model;
  if (systemPrompt) body.systemPrompt = systemPrompt;
  (async () => {
    const controller = new AbortController();
    s.controller = controller;
    let res;
    try {
      res = await fetch(withClient(`${API}/chat/stream`) + net.rateQuery(net.nextRate()), {
        method: 'POST', credentials: 'same-origin', signal: controller.signal,
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: JSON.stringify(body),
      });
    } catch (e) {
      s.controller = null;
      if (s.userStopped) { end(s, 'stopped'); changed(s); flush(); return; }
      markReachable(false);
      // No answer at all: the turn may or may not have started on the server. Say so, and look for it.
      s.error = { message: 'The server could not be reached.', code: 'NETWORK' };
      end(s, 'rejected');
      changed(s);
      flush();
      setTimeout(discover, 1500);
      return;
    }
    markReachable(true);
    if (!res.ok || !isEventStream(res) || !res.body) {
      s.controller = null;
      s.error = { message: res.ok ? 'The server did not answer with an event stream.' : await problemText(res),
        code: String(res.status) };
      end(s, 'rejected');
      changed(s);
      flush();
      return;
    }
    s.status = 'streaming';
    changed(s);
    try {
      await consume(s, res, controller);
    } catch { /* dropped: resumed below */ }
    s.controller = null;
    if (!s.id) {
      // Dropped before the first event: nothing names the stream; look for it among the running ones.
      if (!TERMINAL.has(s.status)) {
        s.error = { message: 'The connection dropped before the answer started.', code: 'NETWORK' };
        end(s, s.userStopped ? 'stopped' : 'error');
        changed(s);
        setTimeout(discover, 1500);
      }
      flush();
      return;
    }
    if (!TERMINAL.has(s.status) && !s.userStopped) {
      s.status = 'reconnecting';
      s.failures = 1;
      changed(s);
      await sleep(s, retryWait(s));
    }
    follow(s);
  })();
  return s;
}

/**
 * Creates a typed stream (`POST /api/streams`, API.md section 3) and follows it. Resolves with its state, or
 * throws HttpError when the server refuses it.
 */
export async function startTyped(type, fields, meta) {
  const created = await api(withClient('streams'), { method: 'POST', body: JSON.stringify({ type, ...fields }) });
  const s = newState({ id: created.streamId, type: created.type || type, relatedId: created.relatedId || null,
    model: fields.model || null, status: 'connecting' });
  Object.assign(s.meta, meta || {}, { startedHere: true });
  lastTyped[s.type] = s.id;
  tabStreams.add(s.id);
  register(s);
  follow(s);
  return s;
}

/**
 * Finds the caller's running streams (`GET /api/streams?status=active`) and follows those the store does not
 * know yet, from their first event. Used at start-up (after a reload), after a chat ends (its conversation
 * title stream starts then), and when the browser comes back online.
 */
export async function discover() {
  let list;
  try { list = await api('streams?status=active'); } catch { return []; }
  // Ids of this tab's streams that ended while it was away are dropped (not those started since the list was read).
  const running = new Set(list.map((item) => item.id));
  for (const s of streams.values()) if (s.id && isRunning(s)) running.add(s.id);
  tabStreams.retain(running);
  const found = [];
  for (const item of list) {
    if (streams.has(item.id) || !discovered(item)) continue;
    const s = newState({
      id: item.id, type: item.type, relatedId: item.relatedId, conversationId: item.conversationId,
      model: item.model, messageId: item.messageId, status: 'connecting', discovered: true,
      // a chat stream whose relatedId is not its conversation continues that answer (README: Continue)
      continues: item.type === 'chat' && item.relatedId && item.relatedId !== item.conversationId
        ? item.relatedId : null,
    });
    register(s);
    found.push(s);
    follow(s);
  }
  if (found.length) flush();
  return found;
}

/**
 * Stops a stream for good (`POST /api/streams/{id}/stop`). The live connection then brings `stopped`; if
 * there is none, one catch-up request takes what was produced up to the stop. Never resumes afterwards.
 */
export async function stop(s) {
  if (TERMINAL.has(s.status)) return;
  s.userStopped = true;
  if (s.decide) s.decide(false);
  if (!s.id) { if (s.controller) s.controller.abort(); return; }
  const live = s.controller && s.status === 'streaming' && s.transport === 'sse';
  if (s.wake) s.wake();
  try {
    await api(`streams/${enc(s.id)}/stop`, { method: 'POST' });
  } catch (e) {
    if (e.status !== 404) { s.userStopped = false; throw e; }
  }
  if (!live) {
    if (s.controller) s.controller.abort();
    try {
      const answer = await api(`streams/${enc(s.id)}?after=${s.lastEventId}&wait=2`);
      for (const ev of answer.events || []) apply(s, ev.event, Number(ev.id) || 0, ev.data);
    } catch { /* keep what arrived */ }
    if (!TERMINAL.has(s.status)) { end(s, 'stopped'); changed(s); }
    flush();
  }
}

/** Forgets ended streams a view no longer needs. */
export function forget(s) {
  if (s.id && !isRunning(s)) streams.delete(s.id);
}

/* ---------- browser events ---------- */

// Back online, or a hidden tab shown again: every waiting stream retries now (conn.js has already ended the
// connections that went silent), and on `online` streams started meanwhile (a title) are found.
onRevive((why) => {
  for (const s of streams.values()) if (s.wake) s.wake();
  if (why === 'online') discover();
});

// Leaving the page: a beacon abort with reason "unload" for each running stream this tab started (before a
// reload too). The server keeps the stream for its unload grace, so a reload (which re-attaches) loses nothing,
// and a closed tab stops the generation.
addEventListener('pagehide', () => {
  for (const s of streams.values()) {
    if (!s.id || !isRunning(s) || s.userStopped || !tabStreams.has(s.id)) continue;
    const body = new Blob([JSON.stringify({ streamId: s.id, reason: 'unload' })], { type: 'text/plain' });
    navigator.sendBeacon(`${API}/chat/abort`, body);
  }
});

/** Test and debugging hook: the store's state, read-only by convention. */
export const debug = { streams, clientId, lastTyped, tabStreams, net: net.debug };
