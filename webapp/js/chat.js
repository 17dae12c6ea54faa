// The chat view: conversation sidebar (titles stream in), messages, composer, prompt optimization.
//
// The view owns DOM only. Streams live in the store (store.js): leaving a conversation unmounts its bubbles,
// and coming back mounts new ones that catch up from the store's text and then follow along.

import { api, enc } from './api.js';
import * as store from './store.js';
import { MarkdownView, copyText } from './markdown.js';
import { settings, isSimulatedModel, modelLabel, serverInfo } from './settings.js';

const $ = (id) => document.getElementById(id);
const els = {
  list: $('conversations'), empty: $('conv-empty'), newChat: $('new-chat'),
  title: $('chat-title'), messages: $('messages'), notice: $('notice'),
  form: $('composer'), prompt: $('prompt'), send: $('send'), stop: $('stop'), model: $('model'),
  optimize: $('optimize'), undoOptimize: $('undo-optimize'),
};

const state = {
  conversations: [],   // newest first, as the server lists them
  currentId: null,     // selected conversation; null for a new chat
  newChatKey: 1,       // names the "new chat" page, so a turn started there can claim its conversation
  loadToken: 0,        // discards stale message loads when the user clicks quickly
  mounted: new Map(),  // stream state -> AnswerBubble shown in the message pane
  optimizing: null,    // {stream, draft} while "Optimize prompt" streams into the input
};

/* ---------- small helpers ---------- */

function h(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text != null) el.textContent = text; // user text and model output never go through innerHTML unsanitized
  return el;
}

function button(label, className, onClick, attrs = {}) {
  const b = h('button', className, label);
  b.type = 'button';
  for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
  b.addEventListener('click', onClick);
  return b;
}

function toDate(value) {
  if (value == null || value === '') return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

const fmtShort = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

export function notify(message) {
  els.notice.textContent = message || '';
  els.notice.hidden = !message;
}

const titleOf = (c) => (c && c.title && c.title.trim()) || 'Untitled conversation';

/** The first line of a streaming title, as the sidebar shows it before the server's cleaned title arrives. */
function streamingTitle(text) {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l) || '';
  return line.replace(/^["'“”]+|["'“”]+$/g, '').slice(0, 80);
}

/* ---------- message bubbles ---------- */

const STATUS_LABEL = { stopped: 'Stopped', error: 'Error', partial: 'Partial', rejected: 'Not sent', gone: 'Lost' };

function userBubble(text, id) {
  const el = h('article', 'msg user');
  const head = h('header', 'msg-head');
  head.append(h('span', 'msg-role', 'You'));
  el.append(head, h('div', 'msg-body plain', text));
  if (id) el.dataset.id = id;
  return el;
}

/**
 * An assistant answer: from a saved message, or live from a stream of the store. Text is appended
 * incrementally (MarkdownView for the answer, one Text node for the reasoning), so each batch costs what it
 * adds, not what came before.
 */
class AnswerBubble {
  constructor({ label = 'Assistant', model, userText }) {
    this.userText = userText || '';
    this.el = h('article', 'msg assistant');
    const head = h('header', 'msg-head');
    this.badges = h('span', 'badges');
    this.modelEl = h('span', 'msg-model');
    head.append(h('span', 'msg-role', label), this.modelEl, this.badges);
    this.details = h('details', 'reasoning');
    this.details.hidden = true;
    this.reasoningSummary = h('summary', null, 'Reasoning');
    this.reasoningText = document.createTextNode('');
    const rb = h('div', 'reasoning-body');
    rb.append(this.reasoningText);
    this.details.append(this.reasoningSummary, rb);
    // `toggle` also fires (a task later) for the view's own changes: only a state the view did not set is the user's.
    this.autoOpen = false;
    this.details.addEventListener('toggle', () => {
      if (this.details.open !== this.autoOpen) this.userToggled = true;
    });
    this.body = h('div', 'msg-body md');
    this.md = new MarkdownView(this.body);
    this.conn = h('div', 'conn-state');
    this.conn.setAttribute('role', 'status');
    this.conn.hidden = true;
    this.foot = h('footer', 'msg-foot');
    this.actions = h('span', 'msg-actions');
    this.meta = h('span', 'note meta');
    this.foot.append(this.actions, this.meta);
    this.foot.hidden = true;
    this.el.append(head, this.details, this.body, this.conn, this.foot);
    this.setModel(model);
  }

  setModel(model) {
    const m = model || serverInfo.model;
    const simulated = isSimulatedModel(model);
    this.modelEl.replaceChildren();
    if (m) this.modelEl.append(h('span', 'small muted', m));
    if (simulated) this.modelEl.append(h('span', 'badge badge-simulated', 'simulated'));
  }

  setOpen(open) {
    this.autoOpen = open;
    this.details.open = open;
  }

  setStatus(status) {
    this.el.dataset.status = status || '';
    this.badges.replaceChildren();
    if (STATUS_LABEL[status]) this.badges.append(h('span', `badge badge-${status}`, STATUS_LABEL[status]));
  }

  appendReasoning(text) {
    if (!text) return;
    this.details.hidden = false;
    this.reasoningText.appendData(text);
  }

  /** Copy and regenerate, once the answer has ended. */
  showActions(getText, canRegenerate) {
    this.actions.replaceChildren(
      button('Copy', 'link-button copy', (e) => copyText(getText(), e.currentTarget), { 'aria-label': 'Copy answer' }));
    if (canRegenerate && this.userText) {
      this.actions.append(button('Regenerate', 'link-button regenerate', () => regenerate(this.userText)));
    }
    this.foot.hidden = false;
  }

  static fromMessage(msg, userText) {
    const b = new AnswerBubble({ label: msg.agent || 'Assistant', model: msg.model, userText });
    if (msg.id) b.el.dataset.id = msg.id;
    if (msg.streamId) b.el.dataset.streamId = msg.streamId;
    if (msg.reasoning) b.appendReasoning(msg.reasoning);
    b.md.append(msg.content || '');
    b.md.finish();
    b.setStatus(msg.status);
    const parts = [];
    if (msg.status === 'error' && msg.endReason) parts.push(msg.endReason);
    if (msg.status === 'stopped' || msg.status === 'partial') parts.push(`ended: ${msg.endReason || msg.status}`);
    if (msg.timeToFirstTokenMs != null) parts.push(`first token ${secs(msg.timeToFirstTokenMs)}`);
    if (msg.durationMs != null) parts.push(`total ${secs(msg.durationMs)}`);
    if (msg.completionTokens != null) parts.push(`${msg.completionTokens} tokens`);
    const when = toDate(msg.createdAt);
    if (when) parts.push(fmtShort.format(when));
    b.meta.textContent = parts.join(' · ');
    b.showActions(() => msg.content || '', true);
    return b;
  }

  /** Binds the bubble to a live stream: `update()` then catches up and follows it. */
  static forStream(s) {
    const b = new AnswerBubble({ model: s.model, userText: s.meta.userText });
    b.stream = s;
    b.contentCursor = 0;
    b.reasoningCursor = 0;
    b.finished = false;
    b.el.classList.add('live');
    b.update();
    return b;
  }

  update() {
    const s = this.stream;
    if (s.id) this.el.dataset.streamId = s.id;
    const r = s.reasoning.since(this.reasoningCursor);
    this.reasoningCursor = r.cursor;
    if (r.text) {
      this.appendReasoning(r.text);
      if (!this.userToggled && !this.details.open && this.md.length === 0) this.setOpen(true);
    }
    const c = s.content.since(this.contentCursor);
    this.contentCursor = c.cursor;
    if (c.text) {
      // Reasoning folds away once the answer starts, unless the user opened or closed it.
      if (this.md.length === 0 && this.details.open && !this.userToggled) this.setOpen(false);
      this.md.append(c.text);
    }
    const running = store.isRunning(s);
    this.el.classList.toggle('streaming', running);
    this.el.classList.toggle('waiting', running && this.md.length === 0 && s.reasoning.length === 0);
    this.el.setAttribute('aria-busy', String(running));
    this.reasoningSummary.textContent = running && this.md.length === 0 && s.reasoning.length ? 'Reasoning…' : 'Reasoning';
    this.setStatus(s.status);
    this.renderConnection(s);
    if (running) {
      this.md.render();
    } else if (!this.finished) {
      this.finished = true;
      this.md.finish();
      this.meta.textContent = endNote(s);
      if (s.error) this.meta.classList.add('error-text');
      this.showActions(() => s.content.toString(), s.status !== 'rejected');
    }
  }

  /** The visible connection state: reconnecting, polling, or stalled (which asks the user). */
  renderConnection(s) {
    const key = `${s.status}:${s.transport}:${s.failures}`;
    if (key === this.connKey) return;
    this.connKey = key;
    this.conn.replaceChildren();
    this.conn.className = 'conn-state';
    if (s.status === 'reconnecting') {
      this.conn.classList.add('reconnecting');
      this.conn.append(h('span', 'spinner'), h('span', null, `Reconnecting… (attempt ${s.failures})`));
    } else if (s.status === 'stalled') {
      this.conn.classList.add('stalled');
      this.conn.append(h('span', null, 'The connection has been lost for a while. '),
        button('Keep waiting', 'button small-button', () => store.decide(s, true)),
        button('Stop', 'button small-button', () => store.decide(s, false)));
    } else if (store.isRunning(s) && s.transport === 'poll') {
      this.conn.classList.add('polling');
      this.conn.append(h('span', null, 'Live updates by polling (the event stream is unavailable).'));
    }
    this.conn.hidden = !this.conn.childNodes.length;
  }
}

function endNote(s) {
  if (s.error) return `${s.error.message}${s.error.code && !/^\d+$/.test(s.error.code) ? ` (${s.error.code})` : ''}`;
  const parts = [];
  if (s.status === 'stopped' || s.status === 'partial') parts.push(`Stopped${s.reason ? ` (${s.reason})` : ''}.`);
  if (s.firstTokenAt != null) parts.push(`first token ${secs(s.firstTokenAt - s.startedAt)}`);
  if (s.endedAt != null && !s.discovered) parts.push(`total ${secs(s.endedAt - s.startedAt)}`);
  const u = s.usage || {};
  const tokens = u.completion_tokens ?? u.completionTokens;
  if (tokens != null) parts.push(`${tokens} tokens`);
  if (s.resumes) parts.push(`resumed ${s.resumes}×`);
  return parts.join(' · ');
}

/* ---------- scrolling: follow the stream only while the user is at the bottom ---------- */

let pinned = true;
let scrollQueued = false;
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

/* ---------- sidebar ---------- */

/** Title streams of the store by conversation id (running, or ended but not yet in the refreshed list). */
function titleStreams() {
  const byConversation = new Map();
  for (const s of store.all()) {
    if (s.type === 'conversation_title' && s.relatedId && !s.meta.titleApplied) byConversation.set(s.relatedId, s);
  }
  return byConversation;
}

function runningChats() {
  return store.all().filter((s) => s.type === 'chat' && store.isRunning(s));
}

export function renderSidebar() {
  const titles = titleStreams();
  const live = new Set(runningChats().map((s) => s.conversationId));
  const focusedId = document.activeElement && document.activeElement.closest('.conv')?.dataset.conversationId;
  els.list.replaceChildren(...state.conversations.map((c) => {
    const li = h('li', 'conv');
    li.dataset.conversationId = c.id;
    const open = h('button', 'conv-open');
    open.type = 'button';
    const t = titles.get(c.id);
    const title = h('span', 'conv-title');
    if (t && store.isRunning(t)) {
      title.textContent = streamingTitle(t.content.toString()) || titleOf(c);
      title.classList.add('title-streaming');
      title.setAttribute('aria-busy', 'true');
    } else if (t && t.status === 'completed' && t.content.length) {
      title.textContent = streamingTitle(t.content.toString());
    } else {
      title.textContent = titleOf(c);
    }
    open.append(title);
    const when = toDate(c.updatedAt || c.createdAt);
    const sub = h('span', 'conv-time', when ? fmtShort.format(when) : '');
    if (live.has(c.id)) {
      open.classList.add('has-live');
      sub.prepend(h('span', 'live-dot', ''), document.createTextNode(' answering · '));
    }
    open.append(sub);
    if (c.id === state.currentId) open.setAttribute('aria-current', 'page');
    open.addEventListener('click', () => selectConversation(c.id));
    open.addEventListener('keydown', (e) => sidebarKey(e, c));
    const del = button('×', 'conv-delete', () => deleteConversation(c),
      { title: 'Delete conversation', 'aria-label': `Delete “${titleOf(c)}”` });
    li.append(open, del);
    return li;
  }));
  els.empty.hidden = state.conversations.length > 0;
  const current = state.conversations.find((c) => c.id === state.currentId);
  const t = current && titles.get(current.id);
  els.title.textContent = state.currentId
    ? (t && t.content.length ? streamingTitle(t.content.toString()) : titleOf(current)) : 'New chat';
  if (focusedId) els.list.querySelector(`[data-conversation-id="${CSS.escape(focusedId)}"] .conv-open`)?.focus();
}

function sidebarKey(e, c) {
  const buttons = [...els.list.querySelectorAll('.conv-open')];
  const i = buttons.indexOf(e.currentTarget);
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    const next = buttons[i + (e.key === 'ArrowDown' ? 1 : -1)];
    if (next) next.focus();
  } else if (e.key === 'Home' || e.key === 'End') {
    e.preventDefault();
    (e.key === 'Home' ? buttons[0] : buttons[buttons.length - 1])?.focus();
  } else if (e.key === 'Delete') {
    e.preventDefault();
    deleteConversation(c);
  }
}

export async function refreshConversations() {
  try {
    state.conversations = await api('conversations');
    // Titles that the refreshed list now holds no longer need their stream.
    for (const s of store.all()) {
      if (s.type === 'conversation_title' && !store.isRunning(s)) {
        s.meta.titleApplied = true;
        store.forget(s);
      }
    }
    renderSidebar();
  } catch (e) {
    notify(`Could not load conversations: ${e.message}`);
  }
}

/* ---------- the message pane ---------- */

function showEmptyState() {
  els.messages.replaceChildren(h('p', 'empty-state', 'Start a conversation: type a message below.'));
}

function unmountAll() {
  state.mounted.clear();
}

function mount(s) {
  const b = AnswerBubble.forStream(s);
  state.mounted.set(s, b);
  return b;
}

/** Streams of the store that belong in the pane now: the conversation's, or the new chat's. */
function liveStreamsHere() {
  return store.all()
    .filter((s) => s.type === 'chat' && (state.currentId
      ? s.conversationId === state.currentId
      : !s.conversationId && s.meta.newChatKey === state.newChatKey))
    .sort((a, b) => a.startedAt - b.startedAt);
}

export async function selectConversation(id, { updateHash = true } = {}) {
  state.currentId = id;
  const token = ++state.loadToken;
  notify('');
  unmountAll();
  renderSidebar();
  updateComposer();
  if (updateHash) history.replaceState(null, '', id ? `#/c/${enc(id)}` : '#/');
  if (!id) {
    state.newChatKey += 1;
    showEmptyState();
    return;
  }
  els.messages.replaceChildren();
  els.messages.setAttribute('aria-busy', 'true');
  try {
    const messages = await api(`conversations/${enc(id)}/messages`);
    if (token !== state.loadToken) return;
    const nodes = [];
    const savedStreams = new Set();
    const savedUsers = new Set();
    let lastUser = '';
    for (const m of messages) {
      if (m.role === 'user') {
        lastUser = m.content || '';
        savedUsers.add(m.id);
        nodes.push(userBubble(m.content || '', m.id));
      } else {
        if (m.streamId) savedStreams.add(m.streamId);
        nodes.push(AnswerBubble.fromMessage(m, lastUser).el);
      }
    }
    // Answers still streaming (or ended after the list was read) come from the store, after the saved ones.
    for (const s of liveStreamsHere()) {
      if (s.id && savedStreams.has(s.id)) continue;
      if (s.meta.userText && !(s.userMessageId && savedUsers.has(s.userMessageId))) {
        nodes.push(userBubble(s.meta.userText, s.userMessageId));
      }
      nodes.push(mount(s).el);
    }
    els.messages.replaceChildren(...nodes);
    if (!nodes.length) showEmptyState();
  } catch (e) {
    if (token !== state.loadToken) return;
    notify(e.status === 404 ? 'This conversation no longer exists.' : `Could not load messages: ${e.message}`);
  } finally {
    if (token === state.loadToken) els.messages.setAttribute('aria-busy', 'false');
  }
  updateComposer();
  followScroll(true);
}

export function newChat() {
  selectConversation(null);
  els.prompt.focus();
}

function moveConversation(step) {
  if (!state.conversations.length) return;
  const i = state.conversations.findIndex((c) => c.id === state.currentId);
  const next = state.conversations[Math.max(0, Math.min(state.conversations.length - 1, i < 0 ? 0 : i + step))];
  if (next) selectConversation(next.id);
}

async function deleteConversation(c) {
  if (!confirm(`Delete “${titleOf(c)}”? This cannot be undone.`)) return;
  const index = state.conversations.findIndex((x) => x.id === c.id);
  for (const s of runningChats()) if (s.conversationId === c.id) await store.stop(s).catch(() => {});
  try {
    await api(`conversations/${enc(c.id)}`, { method: 'DELETE' });
  } catch (e) {
    if (e.status !== 404) { notify(`Could not delete the conversation: ${e.message}`); return; }
  }
  state.conversations = state.conversations.filter((x) => x.id !== c.id);
  if (state.currentId === c.id) selectConversation(null); else renderSidebar();
  const next = els.list.querySelectorAll('.conv-open')[Math.min(index, state.conversations.length - 1)];
  (next || els.newChat).focus();
}

/* ---------- sending ---------- */

/** The running chat stream of the conversation on screen, if any. */
function currentStream() {
  return liveStreamsHere().find((s) => store.isRunning(s)) || null;
}

function updateComposer() {
  const s = currentStream();
  const stopHadFocus = document.activeElement === els.stop;
  els.send.disabled = !!s || !!state.optimizing;
  els.stop.hidden = !s;
  if (!s && stopHadFocus) els.prompt.focus();
  const opt = state.optimizing;
  els.optimize.textContent = opt ? 'Stop rewriting' : 'Optimize prompt';
  els.optimize.classList.toggle('active', !!opt);
}

function send(message) {
  notify('');
  els.messages.querySelector('.empty-state')?.remove();
  const s = store.startChat({
    conversationId: state.currentId, message, model: settings.model || undefined,
    systemPrompt: settings.systemPrompt || undefined,
    meta: { newChatKey: state.currentId ? null : state.newChatKey, isNew: !state.currentId },
  });
  els.messages.append(userBubble(message), mount(s).el);
  updateComposer();
  followScroll(true);
}

function regenerate(userText) {
  if (currentStream()) return;
  send(userText);
}

/** Called with each batch of changed streams (about every 100 ms). */
function onStreams(batch) {
  let sidebar = false;
  for (const s of batch) {
    if (s.type === 'conversation_title') {
      sidebar = true;
      if (!store.isRunning(s) && !s.meta.refreshed) {
        s.meta.refreshed = true;
        refreshConversations();
      }
      continue;
    }
    if (s.type === 'prompt_optimization' && state.optimizing && state.optimizing.stream === s) {
      optimizationProgress(s);
      continue;
    }
    if (s.type !== 'chat') continue;
    claimConversation(s);
    const b = state.mounted.get(s);
    if (b) {
      b.update();
      followScroll();
    }
    const running = store.isRunning(s);
    if (running !== s.meta.wasRunning) { sidebar = true; s.meta.wasRunning = running; }
    if (!running && !s.meta.ended) chatEnded(s);
  }
  if (sidebar) renderSidebar();
  updateComposer();
}

/** A turn started on the "new chat" page learns its conversation from its first event: select it. */
function claimConversation(s) {
  if (!s.conversationId || s.meta.claimed) return;
  s.meta.claimed = true;
  if (!state.conversations.some((c) => c.id === s.conversationId)) {
    state.conversations.unshift({ id: s.conversationId, title: s.meta.userText.slice(0, 60), createdAt: null });
  }
  if (!state.currentId && s.meta.newChatKey === state.newChatKey) {
    state.currentId = s.conversationId;
    history.replaceState(null, '', `#/c/${enc(s.conversationId)}`);
  }
  renderSidebar();
  refreshConversations();
}

function chatEnded(s) {
  s.meta.ended = true;
  if (s.status === 'rejected') {
    // Refused before streaming: nothing was saved, so the turn is taken back and the draft kept.
    const b = state.mounted.get(s);
    if (b) {
      b.el.previousElementSibling?.classList.contains('user') && b.el.previousElementSibling.remove();
      b.el.remove();
      state.mounted.delete(s);
    }
    if (!els.prompt.value) els.prompt.value = s.meta.userText || '';
    notify(s.error ? s.error.message : 'The message could not be sent.');
    return;
  }
  // The server starts the conversation's title stream after its first answer: find it and follow it.
  store.discover().then(() => renderSidebar());
  refreshConversations();
  if (s.meta.isNew) {
    setTimeout(refreshConversations, 2000);
    setTimeout(refreshConversations, 6000);
  }
}

/* ---------- "Optimize prompt": a typed stream that writes into the input ---------- */

async function optimize() {
  if (state.optimizing) { store.stop(state.optimizing.stream).catch(() => {}); return; }
  const draft = els.prompt.value;
  if (!draft.trim()) { els.prompt.focus(); return; }
  notify('');
  els.optimize.disabled = true;
  try {
    const s = await store.startTyped('prompt_optimization', { input: draft, model: settings.model || undefined });
    state.optimizing = { stream: s, draft };
    els.prompt.readOnly = true;
    els.prompt.classList.add('rewriting');
    els.prompt.setAttribute('aria-busy', 'true');
    els.undoOptimize.hidden = true;
  } catch (e) {
    notify(`Could not optimize the prompt: ${e.message}`);
  } finally {
    els.optimize.disabled = false;
    updateComposer();
  }
}

function optimizationProgress(s) {
  const text = s.content.toString();
  if (text) els.prompt.value = text;
  if (store.isRunning(s)) return;
  const { draft } = state.optimizing;
  state.optimizing = null;
  els.prompt.readOnly = false;
  els.prompt.classList.remove('rewriting');
  els.prompt.setAttribute('aria-busy', 'false');
  if (s.status === 'completed' && text) {
    els.undoOptimize.hidden = false;
    els.undoOptimize.onclick = () => {
      els.prompt.value = draft;
      els.undoOptimize.hidden = true;
      els.prompt.focus();
    };
  } else if (!text || s.status === 'error') {
    els.prompt.value = draft;
    if (s.error) notify(`Could not optimize the prompt: ${s.error.message}`);
  }
  els.prompt.focus();
  store.forget(s);
  updateComposer();
}

/* ---------- model indicator ---------- */

export function renderModel() {
  const indicator = $('model-indicator');
  const simulated = isSimulatedModel(settings.model);
  $('model-text').textContent = modelLabel(settings.model);
  indicator.classList.toggle('simulated', simulated);
  indicator.title = simulated
    ? 'The built-in simulated model answers: no real model is called.'
    : `Answers come from the upstream model${settings.model ? ` ${settings.model}` : ''}. Click to change.`;
  if (els.model.value !== (settings.model || '')) els.model.value = settings.model || '';
}

/* ---------- wiring ---------- */

export function stopCurrent() {
  if (state.optimizing) { store.stop(state.optimizing.stream).catch(() => {}); return true; }
  const s = currentStream();
  if (!s) return false;
  els.stop.disabled = true;
  store.stop(s).catch((e) => notify(`Could not stop: ${e.message}`)).finally(() => { els.stop.disabled = false; });
  return true;
}

export function regenerateLast() {
  const answers = els.messages.querySelectorAll('.msg.assistant .regenerate');
  if (answers.length) answers[answers.length - 1].click();
}

export function focusPrompt() { els.prompt.focus(); }
export { moveConversation, optimize };

export function init() {
  store.subscribe(onStreams);
  els.form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (currentStream() || state.optimizing) return;
    const message = els.prompt.value;
    if (!message.trim()) { els.prompt.focus(); return; }
    els.prompt.value = '';
    els.undoOptimize.hidden = true;
    send(message);
  });
  els.prompt.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing) return;
    e.preventDefault();
    els.form.requestSubmit();
  });
  els.stop.addEventListener('click', stopCurrent);
  els.newChat.addEventListener('click', newChat);
  els.optimize.addEventListener('click', optimize);
  els.model.addEventListener('change', () => {
    settings.model = els.model.value.trim();
    settings.save();
    renderModel();
  });
}

/** The conversation named by the location hash (`#/c/ID`), if it is one of the user's. */
export function conversationFromHash() {
  const m = /^#\/c\/(.+)$/.exec(location.hash);
  if (!m) return null;
  let id = null;
  try { id = decodeURIComponent(m[1]); } catch { return null; }
  return id;
}

export async function start() {
  await refreshConversations();
  const fromHash = conversationFromHash();
  const known = fromHash && state.conversations.some((c) => c.id === fromHash);
  await selectConversation(known ? fromHash : null, { updateHash: !!fromHash && !known });
}

export { state as chatState };
