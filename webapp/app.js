// Sluice web UI: a plain ES module, no dependencies, no build step.
// Uses only the public contract (docs: /work/shared/API.md, sections 2, 4 and 7).

const API = 'api'; // relative, so the page also works when the WAR has a context path

const $ = (id) => document.getElementById(id);
const els = {
  list: $('conversations'), empty: $('conv-empty'), newChat: $('new-chat'),
  title: $('chat-title'), messages: $('messages'), notice: $('notice'),
  form: $('composer'), prompt: $('prompt'), send: $('send'), stop: $('stop'),
  modelBox: $('model-indicator'), modelText: $('model-text'),
};

const state = {
  conversations: [], // newest first, as the server lists them
  currentId: null,   // selected conversation, null for a new chat
  stream: null,      // the running stream, see send()
  loadToken: 0,      // discards stale message loads when the user clicks quickly
};

/* ---------- small helpers ---------- */

function h(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text != null) el.textContent = text; // model output only ever goes through textContent / Text nodes
  return el;
}

function toDate(value) {
  if (value == null || value === '') return null;
  const d = typeof value === 'number' ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

const fmtShort = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;

function notify(message) { els.notice.textContent = message; els.notice.hidden = !message; }

class HttpError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

// Reads an RFC 9457 problem (or any error body) and returns the text to show.
async function problemText(res) {
  let text = '';
  try {
    const body = (res.headers.get('content-type') || '').includes('json') ? await res.json() : null;
    text = body ? body.detail || body.title || body.error || '' : (await res.text()).trim().slice(0, 300);
  } catch { /* unreadable body: fall back to the status line */ }
  return text || `Request failed (${res.status}${res.statusText ? ' ' + res.statusText : ''})`;
}

async function api(path, options = {}) {
  const headers = { Accept: 'application/json' };
  if (options.body) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${API}/${path}`, { credentials: 'same-origin', headers, ...options });
  if (!res.ok) throw new HttpError(await problemText(res), res.status);
  return res.status === 204 ? null : res.json();
}

/* ---------- Server-Sent Events parser (WHATWG rules) ---------- */

export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = this.type = this.data = this.lastEventId = ''; // buffer: text not yet split into lines
  }

  // Feeds decoded text. Lines end in CRLF, LF or CR; a CR at the very end of a chunk
  // waits for the next chunk, which may start with the LF of the same CRLF.
  push(text, final = false) {
    const buf = this.buffer + text, eol = /\r\n?|\n/g;
    let pos = 0, m;
    while ((m = eol.exec(buf)) !== null) {
      if (m[0] === '\r' && m.index === buf.length - 1 && !final) break;
      this.line(buf.slice(pos, m.index));
      pos = eol.lastIndex;
    }
    // At the end of the stream an unterminated line and an undispatched event are dropped.
    this.buffer = final ? '' : buf.slice(pos);
  }

  line(line) {
    if (line === '') return this.dispatch();
    if (line[0] === ':') return; // comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data += value + '\n';
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    // "retry" and unknown fields are ignored: this is a one-shot POST stream.
  }

  dispatch() {
    const { type, data } = this;
    this.type = this.data = '';
    if (data === '') return;
    this.onEvent({ type: type || 'message', data: data.slice(0, -1), id: this.lastEventId });
  }
}

/* ---------- message bubbles ---------- */

const STATUS_LABEL = { stopped: 'Stopped', error: 'Error', partial: 'Partial' };

// One bubble keeps one Text node for its answer (and one for its reasoning) so that
// streamed deltas are appended with appendData instead of re-rendering the whole string.
function makeBubble(role, label) {
  const el = h('article', `msg ${role}`);
  const head = h('header', 'msg-head');
  const badges = h('span', 'badges');
  head.append(h('span', 'msg-role', label), badges);
  el.append(head);

  let details = null;
  const reasoningText = document.createTextNode('');
  if (role === 'assistant') {
    details = h('details', 'reasoning');
    details.hidden = true;
    const reasoningBody = h('div', 'reasoning-body');
    reasoningBody.append(reasoningText);
    details.append(h('summary', null, 'Reasoning'), reasoningBody);
    el.append(details);
  }
  const body = h('div', 'msg-body');
  const text = document.createTextNode('');
  body.append(text);
  const foot = h('footer', 'msg-foot');
  foot.hidden = true;
  el.append(body, foot);

  return {
    el,
    appendText(delta) { text.appendData(delta); el.classList.remove('waiting'); },
    appendReasoning(delta) {
      if (!details) return;
      details.hidden = false;
      reasoningText.appendData(delta);
      el.classList.remove('waiting');
    },
    setStatus(status) {
      badges.replaceChildren();
      el.dataset.status = status || '';
      if (STATUS_LABEL[status]) badges.append(h('span', `badge badge-${status}`, STATUS_LABEL[status]));
    },
    addNote(note, className = '') {
      if (!note) return;
      foot.hidden = false;
      foot.append(h('span', `note ${className}`.trim(), note));
    },
    setStreaming(on) { // aria-busy defers announcements of the live region until the answer is complete
      el.classList.toggle('streaming', on);
      el.classList.toggle('waiting', on);
      if (on) el.setAttribute('aria-live', 'polite');
      el.setAttribute('aria-busy', String(on));
    },
  };
}

function storedBubble(msg) {
  const role = msg.role === 'user' ? 'user' : 'assistant';
  const b = makeBubble(role, role === 'user' ? 'You' : msg.agent || 'Assistant');
  if (msg.id) b.el.dataset.id = msg.id;
  if (msg.reasoning) b.appendReasoning(msg.reasoning);
  b.appendText(msg.content || '');
  if (role === 'assistant') {
    b.setStatus(msg.status);
    if (msg.finishReason && msg.status !== 'completed' && msg.finishReason !== 'stop') {
      b.addNote(`Finish reason: ${msg.finishReason}`);
    }
    const when = toDate(msg.createdAt);
    b.addNote([msg.model, when && fmtShort.format(when)].filter(Boolean).join(' · '), 'meta');
  }
  return b;
}

/* ---------- scrolling: follow the stream only while the user is at the bottom ---------- */

let pinned = true, scrollQueued = false;
els.messages.addEventListener('scroll', () => {
  const m = els.messages;
  pinned = m.scrollHeight - m.scrollTop - m.clientHeight < 48;
}, { passive: true });

function followScroll(force = false) {
  if (force) pinned = true;
  if (!pinned || scrollQueued) return;
  scrollQueued = true;
  requestAnimationFrame(() => {
    scrollQueued = false;
    els.messages.scrollTop = els.messages.scrollHeight;
  });
}

/* ---------- sidebar and conversation view ---------- */

const titleOf = (c) => (c && c.title && c.title.trim()) || 'Untitled conversation';

function renderSidebar() {
  els.list.replaceChildren(...state.conversations.map((c) => {
    const li = h('li', 'conv');
    const open = h('button', 'conv-open');
    open.type = 'button';
    open.append(h('span', 'conv-title', titleOf(c)));
    const when = toDate(c.updatedAt || c.createdAt);
    if (when) open.append(h('span', 'conv-time', fmtShort.format(when)));
    if (c.id === state.currentId) open.setAttribute('aria-current', 'page');
    open.addEventListener('click', () => selectConversation(c.id));

    const del = h('button', 'conv-delete', '×');
    del.type = 'button';
    del.title = 'Delete conversation';
    del.setAttribute('aria-label', `Delete “${titleOf(c)}”`);
    del.addEventListener('click', () => deleteConversation(c));
    li.append(open, del);
    return li;
  }));
  els.empty.hidden = state.conversations.length > 0;
  const current = state.conversations.find((c) => c.id === state.currentId);
  els.title.textContent = state.currentId ? titleOf(current) : 'New chat';
}

async function refreshConversations() {
  try {
    state.conversations = await api('conversations');
    renderSidebar();
  } catch (e) {
    notify(`Could not load conversations: ${e.message}`);
  }
}

function showEmptyState() {
  els.messages.replaceChildren(h('p', 'empty-state', 'Start a conversation: type a message below.'));
}

async function selectConversation(id) {
  state.currentId = id;
  const token = ++state.loadToken;
  notify('');
  renderSidebar();
  history.replaceState(null, '', id ? `#${encodeURIComponent(id)}` : location.pathname + location.search);
  if (!id) return showEmptyState();

  els.messages.replaceChildren();
  els.messages.setAttribute('aria-busy', 'true');
  try {
    const messages = await api(`conversations/${encodeURIComponent(id)}/messages`);
    if (token !== state.loadToken) return;
    els.messages.replaceChildren(...messages.map((m) => storedBubble(m).el));
    const s = state.stream; // a generation still running here: show its live bubble again
    const live = s && s.conversationId === id;
    if (live) els.messages.append(s.bubble.el);
    if (!messages.length && !live) showEmptyState();
  } catch (e) {
    if (token !== state.loadToken) return;
    notify(e.status === 404 ? 'This conversation no longer exists.' : `Could not load messages: ${e.message}`);
  } finally {
    if (token === state.loadToken) els.messages.setAttribute('aria-busy', 'false');
  }
  followScroll(true);
}

function newChat() {
  selectConversation(null);
  els.prompt.focus();
}

async function deleteConversation(c) {
  if (!confirm(`Delete “${titleOf(c)}”? This cannot be undone.`)) return;
  const index = state.conversations.findIndex((x) => x.id === c.id);
  if (state.stream && state.stream.conversationId === c.id) state.stream.controller.abort();
  try {
    await api(`conversations/${encodeURIComponent(c.id)}`, { method: 'DELETE' });
  } catch (e) {
    if (e.status !== 404) return notify(`Could not delete the conversation: ${e.message}`);
  }
  state.conversations = state.conversations.filter((x) => x.id !== c.id);
  if (state.currentId === c.id) selectConversation(null); else renderSidebar();
  const next = els.list.querySelectorAll('.conv-open')[Math.min(index, state.conversations.length - 1)];
  (next || els.newChat).focus();
}

/* ---------- streaming a chat turn ---------- */

function setStreaming(s) {
  state.stream = s;
  els.send.disabled = !!s;
  const stopHadFocus = document.activeElement === els.stop;
  els.stop.hidden = !s;
  if (!s && stopHadFocus) els.prompt.focus();
}

function finish(s, status, note, noteClass) {
  if (s.ended) return;
  s.ended = true;
  s.bubble.setStreaming(false); s.bubble.setStatus(status); s.bubble.addNote(note, noteClass);
}

function handleEvent(s, ev) {
  if (ev.type === 'ping') return;
  let data;
  try { data = JSON.parse(ev.data); } catch { return; }
  switch (ev.type) {
    case 'stream': {
      s.streamId = data.streamId;
      if (data.userMessageId) s.userEl.dataset.id = data.userMessageId;
      if (!s.conversationId && data.conversationId) {
        s.conversationId = data.conversationId;
        s.isNew = true;
        state.conversations.unshift({ id: data.conversationId, title: s.message.slice(0, 60) });
        // Select the new conversation unless the user has already moved elsewhere.
        if (state.currentId === null && s.bubble.el.isConnected) {
          state.currentId = data.conversationId;
          history.replaceState(null, '', `#${encodeURIComponent(data.conversationId)}`);
        }
        renderSidebar();
        refreshConversations();
      }
      break;
    }
    case 'message':
      if (s.firstTokenAt == null && (data.delta || data.reasoning)) s.firstTokenAt = performance.now();
      if (data.reasoning) s.bubble.appendReasoning(data.reasoning);
      if (data.delta) s.bubble.appendText(data.delta);
      if (s.bubble.el.isConnected) followScroll();
      break;
    case 'done': {
      const parts = [];
      if (s.firstTokenAt != null) parts.push(`first token ${secs(s.firstTokenAt - s.startedAt)}`);
      parts.push(`total ${secs(performance.now() - s.startedAt)}`);
      const u = data.usage || {};
      const tokens = u.completion_tokens ?? u.completionTokens ?? u.output_tokens;
      if (tokens != null) parts.push(`${tokens} tokens`);
      finish(s, data.status || 'completed', parts.join(' · '), 'meta');
      break;
    }
    case 'stopped':
      finish(s, 'stopped', data.reason ? `Stopped (${data.reason}).` : 'Stopped.');
      break;
    case 'error':
      finish(s, 'error', `${data.error || 'The generation failed.'}${data.code ? ` (${data.code})` : ''}`, 'error-text');
      break;
  }
}

async function send(message) {
  notify('');
  els.messages.querySelector('.empty-state')?.remove();
  const userBubble = makeBubble('user', 'You');
  userBubble.appendText(message);
  const bubble = makeBubble('assistant', 'Assistant');
  bubble.setStreaming(true);
  els.messages.append(userBubble.el, bubble.el);
  followScroll(true);

  const s = {
    controller: new AbortController(), conversationId: state.currentId, message,
    bubble, userEl: userBubble.el, startedAt: performance.now(), firstTokenAt: null, ended: false,
  };
  setStreaming(s);
  const body = { message };
  if (s.conversationId) body.conversationId = s.conversationId;

  try {
    const res = await fetch(`${API}/chat/stream`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(body),
      signal: s.controller.signal,
    });
    if (!res.ok) {
      // Rejected before streaming: nothing was saved, so take the turn back and keep the draft.
      const detail = await problemText(res);
      s.ended = true;
      userBubble.el.remove(); bubble.el.remove();
      if (!els.prompt.value) els.prompt.value = message;
      return notify(detail);
    }
    if (!(res.headers.get('content-type') || '').includes('text/event-stream') || !res.body) {
      throw new Error('The server did not answer with an event stream.');
    }
    const reader = res.body.getReader(), decoder = new TextDecoder();
    const parser = new SseParser((ev) => handleEvent(s, ev));
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(decoder.decode(value, { stream: true }));
      if (s.ended) { reader.cancel().catch(() => {}); break; } // terminal event received
    }
    if (!s.ended) {
      parser.push(decoder.decode(), true);
      finish(s, 'partial', 'The connection closed before the answer was complete.', 'error-text');
    }
  } catch (e) {
    if (e.name === 'AbortError') finish(s, 'stopped', 'Stopped.');
    else finish(s, 'error', e.message || 'Network error.', 'error-text');
  } finally {
    setStreaming(null);
    if (s.conversationId) {
      refreshConversations();
      // The server may name a new conversation shortly after its first answer.
      if (s.isNew) setTimeout(refreshConversations, 4000);
    }
  }
}

/* ---------- model indicator ---------- */

async function loadInfo() {
  try {
    const info = await api('info');
    const simulated = !!info.simulated;
    els.modelText.textContent = simulated
      ? `Simulated model${info.model && info.model !== 'simulated' ? ` (${info.model})` : ''}`
      : `${info.provider || 'upstream'} · ${info.model || 'default model'}`;
    els.modelBox.classList.toggle('simulated', simulated);
    els.modelBox.title = simulated
      ? 'No upstream is configured: answers come from the built-in simulated model.'
      : `Provider: ${info.provider}, default model: ${info.model}`;
  } catch { els.modelText.textContent = 'Model: unavailable'; }
}

/* ---------- wiring ---------- */

els.form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (state.stream) return;
  const message = els.prompt.value;
  if (!message.trim()) return els.prompt.focus();
  els.prompt.value = '';
  send(message);
});

els.prompt.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter' || e.shiftKey || e.isComposing) return;
  e.preventDefault();
  if (!state.stream) els.form.requestSubmit();
});

// Stop ends the generation on the server (API.md section 3): the answer is saved as stopped and the
// `stopped` event closes this stream. Dropping the connection alone would not stop it. Before the stream
// has an id (no `stream` event yet), cancelling the request is all there is to do.
els.stop.addEventListener('click', async () => {
  const s = state.stream;
  if (!s) return;
  if (!s.streamId) { s.controller.abort(); return; }
  els.stop.disabled = true;
  try {
    const response = await fetch(`api/streams/${encodeURIComponent(s.streamId)}/stop`, { method: 'POST' });
    if (!response.ok) s.controller.abort();
  } catch {
    s.controller.abort();
  } finally {
    els.stop.disabled = false;
  }
});
els.newChat.addEventListener('click', newChat);

async function start() {
  loadInfo();
  await refreshConversations();
  let fromHash = '';
  try { fromHash = decodeURIComponent(location.hash.slice(1)); } catch { /* malformed hash */ }
  const known = state.conversations.some((c) => c.id === fromHash);
  selectConversation(known ? fromHash : null);
  els.prompt.focus();
}

start();
