// The chat view: conversation sidebar (a drawer on phones; search, day groups, titles that stream in, rename and
// delete with Undo), messages with answer versions, composer, failed sends, prompt optimization.
//
// The view owns DOM only. Streams live in the store (store.js): leaving a conversation unmounts its bubbles,
// and coming back mounts new ones that catch up from the store's text and then follow along.

import { api, enc, onReachability, reachability } from './api.js';
import * as store from './store.js';
import { MarkdownView, copyText } from './markdown.js';
import { ModelPicker } from './models.js';
import { settings, isSimulatedModel, modelLabel, serverInfo } from './settings.js';
import { cleanTitle, cleanTopic } from './titles.js';

const $ = (id) => document.getElementById(id);
const els = {
  list: $('conversations'), empty: $('conv-empty'), newChat: $('new-chat'), search: $('conv-search'),
  drawerToggle: $('open-drawer'), scrim: $('scrim'),
  title: $('chat-title'), messages: $('messages'), notice: $('notice'), noticeText: $('notice-text'),
  noticeClose: $('notice-close'), toasts: $('toasts'),
  form: $('composer'), prompt: $('prompt'), send: $('send'), stop: $('stop'), model: $('model'),
  modelSelect: $('model-select'), optimize: $('optimize'), undoOptimize: $('undo-optimize'),
  rename: $('rename'), renameForm: $('rename-form'), renameTitle: $('rename-title'),
};

/** How long a deleted conversation can be brought back (ms); the server deletes it after that. */
const UNDO_MS = 6000;

const state = {
  conversations: [],   // newest first, as the server lists them
  currentId: null,     // selected conversation; null for a new chat
  newChatKey: 1,       // names the "new chat" page, so a turn started there can claim its conversation
  loadToken: 0,        // discards stale message loads when the user clicks quickly
  mounted: new Map(),  // stream state -> AnswerBubble shown in the message pane
  slots: new Map(),    // user message id -> AnswerSlot (the versions of its answer) in the message pane
  failed: [],          // turns that could not be sent: {message, conversationId, newChatKey, error, network}
  deleting: new Map(), // conversation id -> {conversation, timer} while its Undo is offered
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
const fmtTime = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const fmtDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

/* ---------- notices (conditions) and toasts (events) ---------- */

/** The conditions that have a notice now: key -> message; the latest one shows. */
const notices = new Map();

/**
 * Shows a notice about a condition; `key` names the condition, so that `clearNotice(key)` takes it away when the
 * condition ends (and only then), showing the one before it if that condition still holds. An empty message
 * clears them all.
 */
export function notify(message, key = 'general') {
  if (!message) { clearNotice(); return; }
  notices.delete(key);
  notices.set(key, message);
  showNotice();
}

function clearNotice(key) {
  if (key) notices.delete(key); else notices.clear();
  showNotice();
}

function showNotice() {
  const last = [...notices.values()].pop();
  els.noticeText.textContent = last || '';
  els.notice.hidden = !last;
}

/** A short message at the bottom, with an optional action (Undo); it goes away by itself. */
function toast(message, { action, onAction, timeout = 5000 } = {}) {
  const el = h('div', 'toast');
  el.append(h('span', null, message));
  const close = () => { clearTimeout(timer); el.remove(); };
  if (action) {
    el.append(button(action, 'button small-button toast-action', () => { close(); onAction(); }));
  }
  el.append(button('×', 'toast-close', close, { 'aria-label': 'Dismiss' }));
  els.toasts.append(el);
  const timer = setTimeout(close, timeout);
  return close;
}

const titleOf = (c) => (c && c.title && c.title.trim()) || 'Untitled conversation';

/** A conversation's first title, before the server's: the first line of the message, as the server takes it. */
function titleFromMessage(text) {
  const line = (text || '').trim().split(/\r?\n/)[0].trim();
  return line.length <= 60 ? line || 'New conversation' : `${line.slice(0, 59).trimEnd()}…`;
}

/* ---------- errors in people's words ---------- */

const ERROR_TEXT = {
  RATE_LIMITED: (d) => `The model is busy (rate limited). Try again ${d && d.retryAfterSeconds != null
    ? `in ${d.retryAfterSeconds} s` : 'in a moment'}.`,
  UPSTREAM_ERROR: () => 'The model service failed. Try again.',
  UPSTREAM_TIMEOUT: () => 'The model took too long to answer. Try again.',
  UPSTREAM_UNAVAILABLE: () => 'The model service could not be reached. Try again.',
  UPSTREAM_AUTH: () => 'The model service refused this server\'s credentials. Ask the administrator to check its API key.',
  UPSTREAM_PROTOCOL: () => 'The model service answered in a way Sluice could not read. Try again.',
  GENERATION_TOO_LONG: () => 'The answer grew past the longest answer this server allows.',
  INTERNAL_ERROR: () => 'Something went wrong on the server. Try again.',
  NETWORK: () => 'The connection was lost before the answer started. Try again.',
};

/** `{text, details}`: a sentence for people, and the code, upstream status and message for the details line. */
function describeError(code, details, message) {
  const text = ERROR_TEXT[code] ? ERROR_TEXT[code](details) : 'The answer failed. Try again.';
  const parts = [];
  if (code) parts.push(code);
  if (details && details.upstreamStatus != null) parts.push(`upstream status ${details.upstreamStatus}`);
  if (details && details.retryAfterSeconds != null) parts.push(`Retry-After ${details.retryAfterSeconds} s`);
  if (message && message !== text) parts.push(message);
  return { text, details: parts.join(' · ') };
}

/* ---------- message bubbles ---------- */

const STATUS_LABEL = { stopped: 'Stopped', error: 'Error', partial: 'Cut off', gone: 'Lost' };

/** Why an answer that did not complete ended, when it is worth saying (a user's own stop is not). */
const END_NOTE = {
  unload: 'Stopped when its page was closed',
  client_disconnected: 'Cut off: no page followed it for a while',
  server_shutdown: 'Cut off: the server stopped',
};

function userBubble(text, id) {
  const el = h('article', 'msg user');
  const head = h('header', 'msg-head');
  head.append(h('span', 'msg-role', 'You'));
  el.append(head, h('div', 'msg-body plain', text));
  if (id) el.dataset.id = id;
  return el;
}

/**
 * An assistant answer: from a saved message, or live from a stream of the store (and, after Continue, from the
 * stream that continues it). Text is appended incrementally (MarkdownView for the answer, one Text node for the
 * reasoning), so each batch costs what it adds, not what came before.
 */
class AnswerBubble {
  constructor({ label = 'Assistant', model }) {
    this.slot = null;      // the AnswerSlot this answer is a version in (chat answers)
    this.saved = null;     // the saved message, when it came from one
    this.el = h('article', 'msg assistant');
    const head = h('header', 'msg-head');
    this.badges = h('span', 'badges');
    this.modelEl = h('span', 'msg-model');
    head.append(h('span', 'msg-role', label), this.modelEl, this.badges);
    this.details = h('details', 'reasoning');
    this.details.hidden = true;
    this.reasoningSummary = h('summary', null, 'Thoughts');
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
    this.errorBox = h('div', 'error-box');
    this.errorBox.hidden = true;
    this.conn = h('div', 'conn-state');
    this.conn.setAttribute('role', 'status');
    this.conn.hidden = true;
    this.foot = h('footer', 'msg-foot');
    this.actions = h('span', 'msg-actions');
    this.meta = h('span', 'note meta');
    this.foot.append(this.actions, this.meta);
    this.foot.hidden = true;
    this.el.append(head, this.details, this.body, this.errorBox, this.conn, this.foot);
    this.setModel(model);
    this.end = null; // how it ended: {text, messageId, status, finishReason, error:{code,details,message}}
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

  /** Shows how the answer ended: its actions, a cut-off note with Continue, or the error with Retry. */
  renderEnd() {
    const e = this.end;
    if (!e) return;
    this.actions.replaceChildren();
    if (e.text) {
      this.actions.append(button('Copy', 'link-button copy', (ev) => copyText(e.text, ev.currentTarget),
        { 'aria-label': 'Copy answer' }));
    }
    const canRevise = !!(this.slot && this.slot.parentId);
    if (canRevise && !e.error) {
      this.actions.append(button('Regenerate', 'link-button regenerate', () => regenerate(this.slot)));
    }
    if (e.finishReason === 'length' && e.messageId && e.text) {
      this.actions.append(h('span', 'cutoff-note', 'Cut off at the length limit'),
        button('Continue', 'button small-button continue', () => continueAnswer(this, e.messageId)));
    }
    if (e.messageId) {
      // the answer's menu: "Show raw" (the upstream request and response, for debugging)
      const more = button('⋯', 'link-button answer-menu', (ev) => openMenu(ev.currentTarget, [['Show raw', () => {
        showRaw((this.stream && this.stream.conversationId) || state.currentId, e.messageId, more);
      }]]), { 'aria-label': 'More actions for this answer', 'aria-haspopup': 'menu', 'aria-expanded': 'false' });
      this.actions.append(more);
    }
    this.errorBox.replaceChildren();
    this.errorBox.hidden = !e.error;
    if (e.error) {
      const { text, details } = describeError(e.error.code, e.error.details, e.error.message);
      const line = h('p', 'error-message', text);
      this.errorBox.append(line);
      if (canRevise) this.errorBox.append(button('Retry', 'button small-button retry', () => regenerate(this.slot)));
      if (details) {
        const more = h('details', 'error-details');
        more.append(h('summary', null, 'Details'), h('code', null, details));
        this.errorBox.append(more);
      }
    }
    if (this.slot) this.slot.renderPager(this);
    this.foot.hidden = false;
  }

  static fromMessage(msg) {
    const b = new AnswerBubble({ label: msg.agent || 'Assistant', model: msg.model });
    b.saved = msg;
    if (msg.id) b.el.dataset.id = msg.id;
    if (msg.streamId) b.el.dataset.streamId = msg.streamId;
    if (msg.reasoning) b.appendReasoning(msg.reasoning);
    b.md.append(msg.content || '');
    b.md.finish();
    b.setStatus(msg.status);
    b.applySaved(msg);
    return b;
  }

  /** Takes the saved message's numbers (for an answer followed after a reload: the page's own clock missed them). */
  applySaved(msg) {
    const parts = [];
    if ((msg.status === 'stopped' || msg.status === 'partial') && END_NOTE[msg.endReason]) {
      parts.push(END_NOTE[msg.endReason]);
    }
    if (msg.timeToFirstTokenMs != null) parts.push(`first token ${secs(msg.timeToFirstTokenMs)}`);
    if (msg.durationMs != null) parts.push(`total ${secs(msg.durationMs)}`);
    if (msg.completionTokens != null) parts.push(`${msg.completionTokens} tokens`);
    const when = toDate(msg.createdAt);
    if (when) parts.push(fmtShort.format(when));
    this.meta.textContent = parts.join(' · ');
    this.end = {
      text: msg.content || '', messageId: msg.id, status: msg.status, finishReason: msg.finishReason,
      error: msg.status === 'error'
        ? { code: msg.endReason, details: null, message: msg.error ? msg.error.error : null } : null,
    };
    this.renderEnd();
  }

  /** Binds the bubble to a live stream: `update()` then catches up and follows it. */
  static forStream(s) {
    const b = new AnswerBubble({ model: s.model });
    b.follow(s);
    return b;
  }

  follow(s) {
    this.stream = s;
    this.contentCursor = 0;
    this.reasoningCursor = 0;
    this.finished = false;
    this.el.classList.add('live');
    this.update();
  }

  /**
   * Continue: the stream `s` streams the rest of this answer into it. The text so far becomes the start of a new
   * Markdown view, so that a paragraph cut off mid-sentence goes on as one paragraph.
   */
  attachContinuation(s) {
    const before = this.text();
    this.prefix = before;
    this.md = new MarkdownView(this.body);
    this.md.append(before);
    this.end = null;
    this.foot.hidden = true;
    this.errorBox.hidden = true;
    this.meta.classList.remove('error-text');
    this.follow(s);
  }

  /** The answer's whole text so far. */
  text() {
    if (this.stream) return (this.prefix || '') + this.stream.content.toString();
    return this.saved ? this.saved.content || '' : '';
  }

  update() {
    const s = this.stream;
    if (s.id) this.el.dataset.streamId = s.id;
    const r = s.reasoning.since(this.reasoningCursor);
    this.reasoningCursor = r.cursor;
    const answerStarted = this.md.length > 0;
    if (r.text) {
      this.appendReasoning(r.text);
      if (!this.userToggled && !this.details.open && !answerStarted) this.setOpen(true);
    }
    const c = s.content.since(this.contentCursor);
    this.contentCursor = c.cursor;
    if (c.text) this.md.append(c.text);
    const running = store.isRunning(s);
    // Reasoning folds away once the answer starts, or when the stream ends, unless the user opened or closed it.
    if ((this.md.length > 0 || !running) && this.details.open && !this.userToggled) this.setOpen(false);
    this.el.classList.toggle('streaming', running);
    this.el.classList.toggle('waiting', running && this.md.length === 0 && s.reasoning.length === 0);
    this.el.setAttribute('aria-busy', String(running));
    this.reasoningSummary.textContent = reasoningLabel(s, running, this.md.length > 0);
    this.setStatus(s.status === 'rejected' ? 'error' : s.status);
    this.renderConnection(s);
    if (running) {
      this.md.render();
    } else if (!this.finished) {
      this.finished = true;
      this.md.finish();
      this.meta.textContent = endNote(s);
      this.end = {
        text: this.text(), messageId: s.messageId || s.continues, status: s.status, finishReason: s.finishReason,
        error: s.error ? { code: s.error.code, details: s.error.details, message: s.error.message } : null,
      };
      this.renderEnd();
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

/** "Thinking…" while the model reasons, then "Thought for N s" (or "Thoughts" when the page missed the timing). */
function reasoningLabel(s, running, answerStarted) {
  if (running && !answerStarted) return 'Thinking…';
  if (s.reasoningAt == null || s.discovered) return 'Thoughts';
  const until = s.answerAt ?? s.endedAt ?? performance.now();
  const seconds = Math.round((until - s.reasoningAt) / 1000);
  return seconds < 1 ? 'Thought for under 1 s' : `Thought for ${seconds} s`;
}

function endNote(s) {
  const parts = [];
  if ((s.status === 'stopped' || s.status === 'partial') && END_NOTE[s.reason]) parts.push(END_NOTE[s.reason]);
  if (s.firstTokenAt != null && !s.discovered) parts.push(`first token ${secs(s.firstTokenAt - s.startedAt)}`);
  if (s.endedAt != null && !s.discovered) parts.push(`total ${secs(s.endedAt - s.startedAt)}`);
  const u = s.usage || {};
  const tokens = u.completion_tokens ?? u.completionTokens;
  if (tokens != null) parts.push(`${tokens} tokens`);
  if (s.resumes) parts.push(`resumed ${s.resumes}×`);
  return parts.join(' · ');
}

/**
 * The answers to one user message: its versions (Regenerate adds one), one shown at a time with ‹ n/m ›. The shown
 * version is the active one, which the server uses for later turns; switching makes another one active.
 */
class AnswerSlot {
  constructor(parentId, conversationId) {
    this.parentId = parentId;
    this.conversationId = conversationId;
    this.el = h('div', 'answer-slot');
    this.versions = []; // {msg} saved, or {stream} live; each gets its bubble when first shown
    this.index = -1;
  }

  addSaved(msg) { this.versions.push({ msg }); }

  /** A live version (a new turn's answer, or a regeneration): shown at once. */
  addLive(s, bubble) {
    const b = bubble || AnswerBubble.forStream(s);
    b.slot = this;
    this.versions.push({ stream: s, bubble: b });
    this.show(this.versions.length - 1);
    return b;
  }

  removeLive(s) {
    const i = this.versions.findIndex((v) => v.stream === s);
    if (i < 0) return;
    this.versions.splice(i, 1);
    if (this.versions.length) this.show(Math.min(i, this.versions.length - 1));
    else this.el.replaceChildren();
  }

  bubble(i) {
    const v = this.versions[i];
    if (!v.bubble) {
      v.bubble = AnswerBubble.fromMessage(v.msg);
      v.bubble.slot = this;
      v.bubble.renderEnd();
    }
    return v.bubble;
  }

  /** The bubble of the saved version `messageId`, shown (for a Continue found after a reload). */
  bubbleOf(messageId) {
    const i = this.versions.findIndex((v) => v.msg && v.msg.id === messageId);
    if (i < 0) return null;
    if (i !== this.index) this.show(i);
    return this.bubble(i);
  }

  show(i) {
    this.index = i;
    const b = this.bubble(i);
    this.el.replaceChildren(b.el);
    this.renderPager(b);
  }

  running() { return this.versions.some((v) => v.stream && store.isRunning(v.stream)); }

  messageId(v) { return v.msg ? v.msg.id : v.stream && v.stream.messageId; }

  /** The ‹ n/m › switch in the shown bubble's footer. */
  renderPager(b) {
    b.foot.querySelector('.versions')?.remove();
    if (this.versions.length < 2 || this.versions[this.index]?.bubble !== b) return;
    const pager = h('span', 'versions');
    const busy = this.running();
    const prev = button('‹', 'version-prev', () => this.switchTo(this.index - 1),
      { 'aria-label': 'Previous version' });
    const next = button('›', 'version-next', () => this.switchTo(this.index + 1), { 'aria-label': 'Next version' });
    prev.disabled = busy || this.index === 0;
    next.disabled = busy || this.index === this.versions.length - 1;
    pager.append(prev, h('span', 'version-count', `${this.index + 1}/${this.versions.length}`), next);
    pager.setAttribute('aria-label', `Version ${this.index + 1} of ${this.versions.length}`);
    b.foot.prepend(pager);
  }

  /** Shows another version and makes it the active one on the server. */
  async switchTo(i) {
    if (i < 0 || i >= this.versions.length || this.running()) return;
    this.show(i);
    this.el.querySelector(i > 0 ? '.version-prev' : '.version-next')?.focus();
    const id = this.messageId(this.versions[i]);
    const conversationId = this.conversationId || state.currentId;
    if (!id || !conversationId) return;
    try {
      await api(`conversations/${enc(conversationId)}/messages/${enc(id)}/activate`, { method: 'POST' });
      for (const v of this.versions) if (v.msg) v.msg.active = v === this.versions[i];
    } catch (e) {
      notify(`Could not switch versions: ${e.message}`, 'versions');
    }
  }
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

/* ---------- sidebar: a drawer on narrow screens ---------- */

const narrow = matchMedia('(max-width: 720px)');

function setDrawer(open) {
  const isOpen = open && narrow.matches;
  document.body.classList.toggle('drawer-open', isOpen);
  els.drawerToggle.setAttribute('aria-expanded', String(isOpen));
  els.scrim.hidden = !isOpen;
  if (isOpen) (els.list.querySelector('.conv-open[aria-current]') || els.newChat).focus();
}

export function closeDrawer() {
  if (!document.body.classList.contains('drawer-open')) return false;
  setDrawer(false);
  els.drawerToggle.focus();
  return true;
}

/** Title streams of the store by conversation id (running, or ended but not yet in the refreshed list). */
function titleStreams() {
  const byConversation = new Map();
  for (const s of store.all()) {
    if (s.type === 'conversation_title' && s.relatedId && !s.meta.titleApplied) byConversation.set(s.relatedId, s);
  }
  return byConversation;
}

/** Topic streams (started by the server after a conversation's title) by conversation id, as titleStreams(). */
function topicStreams() {
  const byConversation = new Map();
  for (const s of store.all()) {
    if (s.type === 'topic_title' && s.conversationId && !s.meta.topicApplied) byConversation.set(s.conversationId, s);
  }
  return byConversation;
}

/** The topic a conversation shows now: its streaming topic (cleaned as the server will clean it), else its own. */
function shownTopic(c, topics) {
  const t = topics.get(c.id);
  if (t && (store.isRunning(t) || t.status === 'completed') && t.content.length) {
    return { text: cleanTopic(t.content.toString()) || c.topic || '', streaming: store.isRunning(t) };
  }
  return { text: c.topic || '', streaming: false };
}

function runningChats() {
  return store.all().filter((s) => s.type === 'chat' && store.isRunning(s));
}

/** The title a conversation shows now: its streaming title (cleaned as the server will clean it), else its own. */
function shownTitle(c, titles) {
  const t = titles.get(c.id);
  if (t && (store.isRunning(t) || t.status === 'completed') && t.content.length) {
    return { text: cleanTitle(t.content.toString()) || titleOf(c), streaming: store.isRunning(t) };
  }
  return { text: titleOf(c), streaming: false };
}

/** 'Today', 'Yesterday' or 'Earlier', by the local calendar day. */
function dayGroup(date) {
  if (!date) return 'Today'; // just created: the server's time comes with the next refresh
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  const day = new Date(date);
  day.setHours(0, 0, 0, 0);
  const days = Math.round((today - day) / 86400000);
  return days <= 0 ? 'Today' : days === 1 ? 'Yesterday' : 'Earlier';
}

export function renderSidebar() {
  const titles = titleStreams();
  const topics = topicStreams();
  const live = new Set(runningChats().map((s) => s.conversationId));
  const focusedId = document.activeElement && document.activeElement.closest('.conv')?.dataset.conversationId;
  const query = els.search.value.trim().toLowerCase();
  const groups = new Map([['Today', []], ['Yesterday', []], ['Earlier', []]]);
  let shown = 0;
  for (const c of state.conversations) {
    if (state.deleting.has(c.id)) continue;
    const title = shownTitle(c, titles);
    const topic = shownTopic(c, topics);
    if (query && !`${title.text}\n${topic.text}`.toLowerCase().includes(query)) continue;
    const when = toDate(c.updatedAt || c.createdAt);
    groups.get(dayGroup(when)).push(conversationRow(c, title, when, live.has(c.id), topic));
    shown++;
  }
  const sections = [];
  for (const [name, rows] of groups) {
    if (!rows.length) continue;
    const section = h('section', 'conv-group');
    const heading = h('h3', 'conv-group-heading', name);
    heading.id = `conv-group-${name.toLowerCase()}`;
    const ul = h('ul', 'conv-list');
    ul.setAttribute('aria-labelledby', heading.id);
    ul.append(...rows);
    section.append(heading, ul);
    sections.push(section);
  }
  els.list.replaceChildren(...sections);
  const visible = state.conversations.filter((c) => !state.deleting.has(c.id)).length;
  els.empty.hidden = shown > 0;
  els.empty.textContent = visible ? 'No conversation matches.' : 'No conversations yet.';
  const current = state.conversations.find((c) => c.id === state.currentId);
  els.title.textContent = state.currentId ? (current ? shownTitle(current, titles).text : 'Conversation') : 'New chat';
  if (focusedId) els.list.querySelector(`[data-conversation-id="${CSS.escape(focusedId)}"] .conv-open`)?.focus();
}

function conversationRow(c, title, when, live, topic) {
  const li = h('li', 'conv');
  li.dataset.conversationId = c.id;
  const open = h('button', 'conv-open');
  open.type = 'button';
  const titleEl = h('span', 'conv-title', title.text);
  if (title.streaming) {
    titleEl.classList.add('title-streaming');
    titleEl.setAttribute('aria-busy', 'true');
  }
  open.append(titleEl);
  if (topic.text) {
    const topicEl = h('span', 'conv-topic', topic.text);
    if (topic.streaming) topicEl.classList.add('topic-streaming');
    open.append(topicEl);
  }
  const sub = h('span', 'conv-time', when ? (dayGroup(when) === 'Earlier' ? fmtDate : fmtTime).format(when) : '');
  if (live) {
    open.classList.add('has-live');
    sub.prepend(h('span', 'live-dot', ''), document.createTextNode(' answering · '));
  }
  open.append(sub);
  if (c.id === state.currentId) open.setAttribute('aria-current', 'page');
  open.addEventListener('click', () => { selectConversation(c.id); setDrawer(false); });
  open.addEventListener('keydown', (e) => sidebarKey(e, c));
  const menu = button('⋯', 'conv-menu', (e) => openRowMenu(c, e.currentTarget),
    { 'aria-label': `Actions for “${title.text}”`, 'aria-haspopup': 'menu', 'aria-expanded': 'false' });
  li.append(open, menu);
  return li;
}

/* ---------- the row menu: Rename, Delete ---------- */

let rowMenu = null;

function closeRowMenu(focusBack = false) {
  if (!rowMenu) return false;
  const { el, anchor } = rowMenu;
  rowMenu = null;
  el.remove();
  anchor.setAttribute('aria-expanded', 'false');
  if (focusBack && anchor.isConnected) anchor.focus();
  return true;
}

function openRowMenu(c, anchor) {
  openMenu(anchor, [['Rename', () => renameConversation(c)], ['Delete', () => deleteConversation(c)]]);
}

/** Opens a menu of `[label, action]` items after `anchor` (a button with aria-haspopup), or closes it if open. */
function openMenu(anchor, items) {
  const again = rowMenu && rowMenu.anchor === anchor;
  closeRowMenu();
  if (again) return;
  const el = h('div', 'row-menu');
  el.setAttribute('role', 'menu');
  const item = (label, action) => {
    const b = button(label, 'row-menu-item', () => { closeRowMenu(); action(); });
    b.setAttribute('role', 'menuitem');
    return b;
  };
  el.append(...items.map(([label, action]) => item(label, action)));
  el.addEventListener('keydown', (e) => {
    const items = [...el.querySelectorAll('[role=menuitem]')];
    const i = items.indexOf(document.activeElement);
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closeRowMenu(true); }
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      items[(i + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length].focus();
    }
  });
  anchor.after(el);
  anchor.setAttribute('aria-expanded', 'true');
  rowMenu = { el, anchor };
  el.querySelector('[role=menuitem]').focus();
}

document.addEventListener('click', (e) => {
  if (rowMenu && !rowMenu.el.contains(e.target) && e.target !== rowMenu.anchor) closeRowMenu();
});

/* ---------- the raw record of an answer (API.md section 13), for debugging ---------- */

let rawDialog = null;

function rawDialogParts() {
  if (rawDialog) return rawDialog;
  const dialog = h('dialog', 'dialog raw-dialog');
  dialog.setAttribute('aria-labelledby', 'raw-heading');
  const heading = h('h2', null, 'Raw upstream exchange');
  heading.id = 'raw-heading';
  const body = h('div', 'raw-body');
  const actions = h('div', 'dialog-actions');
  const close = button('Close', 'button raw-close', () => dialog.close());
  actions.append(close);
  dialog.append(heading, body, actions);
  // Esc closes a modal dialog by itself; focus goes back to the answer's menu button
  dialog.addEventListener('close', () => {
    body.replaceChildren();
    if (rawDialog.returnTo && rawDialog.returnTo.isConnected) rawDialog.returnTo.focus();
  });
  document.body.append(dialog);
  rawDialog = { dialog, body, close, returnTo: null };
  return rawDialog;
}

function rawJson(value) {
  return h('pre', 'raw-json', typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}

/** Shows the request sent upstream for an answer and the response's chunks, each with its arrival time. */
async function showRaw(conversationId, messageId, returnTo) {
  const parts = rawDialogParts();
  parts.returnTo = returnTo;
  parts.body.replaceChildren(h('p', 'muted small', 'Loading…'));
  if (!parts.dialog.open) parts.dialog.showModal();
  parts.close.focus();
  let raw;
  try {
    raw = await api(`conversations/${enc(conversationId)}/messages/${enc(messageId)}/raw`);
  } catch (err) {
    parts.body.replaceChildren(h('p', 'error-text', `The raw record could not be loaded: ${err.message}`));
    return;
  }
  if (!parts.dialog.open) return;
  const nodes = [h('h3', null, 'Request'), rawJson(raw.request), h('h3', null, 'Response')];
  const r = raw.response;
  if (!r) {
    nodes.push(h('p', 'muted small', 'No response was kept for this answer.'));
  } else {
    const facts = [`${r.chunks.length} chunk${r.chunks.length === 1 ? '' : 's'}`,
      `status ${r.status ?? '–'}`, r.doneAt != null ? `[DONE] at ${r.doneAt} ms` : 'no [DONE]',
      `truncated: ${r.truncated ? 'yes (past SLUICE_RAW_MAX_BYTES)' : 'no'}`];
    const summary = h('p', 'raw-summary small', facts.join(' · '));
    summary.dataset.truncated = String(r.truncated);
    nodes.push(summary);
    const list = h('ol', 'raw-chunks');
    r.chunks.forEach((chunk, i) => {
      const li = h('li', 'raw-chunk');
      li.append(h('span', 'raw-at small muted', `${r.receivedAt[i]} ms`), rawJson(chunk));
      list.append(li);
    });
    nodes.push(list);
  }
  parts.body.replaceChildren(...nodes);
}

function renameConversation(c) {
  els.renameTitle.value = titleOf(c);
  els.rename.returnValue = '';
  els.rename.dataset.conversationId = c.id;
  els.rename.showModal();
  els.renameTitle.select();
}

async function saveRename() {
  const id = els.rename.dataset.conversationId;
  const title = els.renameTitle.value.trim();
  if (!id || !title) return;
  try {
    const updated = await api(`conversations/${enc(id)}`, { method: 'PATCH', body: JSON.stringify({ title }) });
    const c = state.conversations.find((x) => x.id === id);
    if (c) Object.assign(c, updated);
    // A title stream still running for it no longer shows: the user's title stays.
    for (const s of store.all()) if (s.type === 'conversation_title' && s.relatedId === id) s.meta.titleApplied = true;
    renderSidebar();
  } catch (e) {
    notify(`Could not rename the conversation: ${e.message}`, 'rename');
  }
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
    clearNotice('conversations');
    // Titles that the refreshed list now holds no longer need their stream.
    for (const s of store.all()) {
      if (s.type === 'conversation_title' && !store.isRunning(s)) {
        s.meta.titleApplied = true;
        store.forget(s);
      } else if (s.type === 'topic_title' && s.conversationId && !store.isRunning(s)) {
        s.meta.topicApplied = true;
        store.forget(s);
      }
    }
    renderSidebar();
  } catch (e) {
    notify(`Could not load conversations: ${e.message}`, 'conversations');
  }
}

/* ---------- deleting, with Undo ---------- */

function deleteConversation(c) {
  if (state.deleting.has(c.id)) return;
  const visible = [...els.list.querySelectorAll('.conv-open')];
  const index = visible.findIndex((b) => b.closest('.conv')?.dataset.conversationId === c.id);
  const timer = setTimeout(() => commitDelete(c.id), UNDO_MS);
  const closeToast = toast(`Deleted “${titleOf(c)}”.`, {
    action: 'Undo', timeout: UNDO_MS, onAction: () => undoDelete(c.id),
  });
  state.deleting.set(c.id, { conversation: c, timer, closeToast, wasCurrent: state.currentId === c.id });
  if (state.currentId === c.id) selectConversation(null); else renderSidebar();
  const rest = els.list.querySelectorAll('.conv-open');
  (rest[Math.min(Math.max(index, 0), rest.length - 1)] || els.newChat).focus();
}

function undoDelete(id) {
  const d = state.deleting.get(id);
  if (!d) return;
  clearTimeout(d.timer);
  state.deleting.delete(id);
  if (d.wasCurrent && !state.currentId) selectConversation(id); else renderSidebar();
}

/** Deletes on the server once the Undo is over (or now, with `keepalive`, when the page goes away). */
async function commitDelete(id, keepalive = false) {
  const d = state.deleting.get(id);
  if (!d) return;
  clearTimeout(d.timer);
  d.closeToast();
  for (const s of runningChats()) if (s.conversationId === id) await store.stop(s).catch(() => {});
  try {
    await api(`conversations/${enc(id)}`, { method: 'DELETE', keepalive });
  } catch (e) {
    if (e.status !== 404) {
      state.deleting.delete(id);
      renderSidebar();
      notify(`Could not delete the conversation: ${e.message}`, 'delete');
      return;
    }
  }
  state.deleting.delete(id);
  state.conversations = state.conversations.filter((x) => x.id !== id);
  renderSidebar();
}

addEventListener('pagehide', () => {
  for (const id of [...state.deleting.keys()]) commitDelete(id, true);
});

/* ---------- the message pane ---------- */

function showEmptyState() {
  els.messages.replaceChildren(h('p', 'empty-state', 'Start a conversation: type a message below.'));
}

/** Whether a turn of (conversation, new-chat page) shows in the pane now. */
function shownHere(conversationId, newChatKey) {
  return state.currentId ? conversationId === state.currentId : !conversationId && newChatKey === state.newChatKey;
}

/** Streams of the store that belong in the pane now: the conversation's, or the new chat's. */
function liveStreamsHere() {
  return store.all()
    .filter((s) => s.type === 'chat' && shownHere(s.conversationId, s.meta.newChatKey))
    .sort((a, b) => a.startedAt - b.startedAt);
}

/**
 * Puts a live chat stream in the pane: into the answer it continues, as a version of its user message's answer, or
 * as a new turn at the end. A stream followed again after a reload waits for its first event, which names its user
 * message. Returns the bubble, or null when it cannot be placed yet.
 */
function placeLive(s, nodes) {
  if (s.continues) {
    for (const slot of state.slots.values()) {
      const b = slot.bubbleOf(s.continues);
      if (b) {
        if (b.stream !== s) b.attachContinuation(s);
        state.mounted.set(s, b);
        return b;
      }
    }
  }
  const slot = s.userMessageId && state.slots.get(s.userMessageId);
  if (slot) {
    const b = slot.addLive(s);
    state.mounted.set(s, b);
    return b;
  }
  if (!s.meta.startedHere && !s.userMessageId) return null;
  const add = (...els2) => (nodes ? nodes.push(...els2) : els.messages.append(...els2));
  if (s.meta.userText) {
    s.meta.userEl = userBubble(s.meta.userText, s.userMessageId);
    add(s.meta.userEl);
  }
  const fresh = new AnswerSlot(s.userMessageId, s.conversationId);
  if (s.userMessageId) state.slots.set(s.userMessageId, fresh);
  s.meta.slot = fresh;
  add(fresh.el);
  const b = fresh.addLive(s);
  state.mounted.set(s, b);
  return b;
}

export async function selectConversation(id, { updateHash = true } = {}) {
  state.currentId = id;
  const token = ++state.loadToken;
  clearNotice('messages');
  state.mounted.clear();
  state.slots.clear();
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
    let lastSlot = null;
    for (const m of messages) {
      if (m.streamId) savedStreams.add(m.streamId);
      if (m.role === 'user') {
        nodes.push(userBubble(m.content || '', m.id));
        lastSlot = new AnswerSlot(m.id, id);
        state.slots.set(m.id, lastSlot);
        nodes.push(lastSlot.el);
      } else if (!m.agent && (m.parentId ? state.slots.has(m.parentId) : lastSlot)) {
        (m.parentId ? state.slots.get(m.parentId) : lastSlot).addSaved(m);
      } else {
        nodes.push(AnswerBubble.fromMessage(m).el);
      }
    }
    for (const slot of state.slots.values()) {
      if (!slot.versions.length) continue;
      let active = slot.versions.length - 1;
      for (let i = slot.versions.length - 1; i >= 0; i--) if (slot.versions[i].msg.active !== false) { active = i; break; }
      slot.show(active);
    }
    // Answers still streaming (or ended after the list was read) come from the store.
    for (const s of liveStreamsHere()) {
      if (s.id && savedStreams.has(s.id)) continue;
      placeLive(s, nodes);
    }
    for (const f of state.failed) if (shownHere(f.conversationId, f.newChatKey)) nodes.push(failedTurnEl(f));
    els.messages.replaceChildren(...nodes);
    if (!nodes.length) showEmptyState();
  } catch (e) {
    if (token !== state.loadToken) return;
    notify(e.status === 404 ? 'This conversation no longer exists.' : `Could not load messages: ${e.message}`,
      'messages');
  } finally {
    if (token === state.loadToken) els.messages.setAttribute('aria-busy', 'false');
  }
  updateComposer();
  followScroll(true);
}

export function newChat() {
  selectConversation(null);
  setDrawer(false);
  els.prompt.focus();
}

function moveConversation(step) {
  const list = state.conversations.filter((c) => !state.deleting.has(c.id));
  if (!list.length) return;
  const i = list.findIndex((c) => c.id === state.currentId);
  const next = list[Math.max(0, Math.min(list.length - 1, i < 0 ? 0 : i + step))];
  if (next) selectConversation(next.id);
}

/* ---------- sending, failed sends, Regenerate, Continue ---------- */

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
  els.optimize.querySelector('.label-long').textContent = opt ? 'Stop rewriting' : 'Optimize prompt';
  els.optimize.querySelector('.label-short').textContent = opt ? 'Stop' : 'Optimize';
  els.optimize.classList.toggle('active', !!opt);
}

const modelOptions = () => ({ model: settings.model || undefined, systemPrompt: settings.systemPrompt || undefined });

/** Starts a turn; it shows in the pane when its conversation (or new-chat page) is on screen. */
function startTurn({ message, conversationId, newChatKey }) {
  const s = store.startChat({
    conversationId, message, ...modelOptions(),
    meta: { newChatKey: conversationId ? null : newChatKey, isNew: !conversationId, kind: 'turn' },
  });
  if (shownHere(conversationId, newChatKey)) {
    els.messages.querySelector('.empty-state')?.remove();
    placeLive(s);
    followScroll(true);
  }
  updateComposer();
  return s;
}

function send(message) {
  clearNotice('send');
  startTurn({ message, conversationId: state.currentId, newChatKey: state.newChatKey });
}

/** A turn the server never got (or refused): shown as not sent, with Retry; kept until retried or edited. */
function failTurn(s) {
  const f = {
    message: s.meta.userText || '', conversationId: s.conversationId || null, newChatKey: s.meta.newChatKey,
    error: s.error, network: !!s.error && s.error.code === 'NETWORK',
    offline: navigator.onLine === false, // sent again by itself when the browser is back online
  };
  state.failed.push(f);
  const slot = s.meta.slot;
  state.mounted.delete(s);
  if (slot) slot.el.remove();
  const user = s.meta.userEl;
  if (user && user.isConnected) user.replaceWith(failedTurnEl(f));
  else if (shownHere(f.conversationId, f.newChatKey)) els.messages.append(failedTurnEl(f));
}

function failedTurnEl(f) {
  const el = userBubble(f.message);
  el.classList.add('failed');
  el.dataset.status = 'not-sent';
  const foot = h('footer', 'send-failed');
  const reason = f.offline ? 'Not sent: you are offline. It is sent again when the connection is back.'
    : f.network ? 'Not sent: the server could not be reached.'
      : `Not sent: ${f.error ? f.error.message : 'the server refused it'}`;
  foot.append(h('span', 'failed-text', reason),
    button('Retry', 'button small-button retry', () => retryFailed(f)),
    button('Edit', 'link-button edit', () => editFailed(f)));
  el.append(foot);
  f.el = el;
  return el;
}

function dropFailed(f) {
  state.failed = state.failed.filter((x) => x !== f);
  if (f.el) f.el.remove();
}

function retryFailed(f) {
  dropFailed(f);
  startTurn({ message: f.message, conversationId: f.conversationId, newChatKey: f.newChatKey });
}

function editFailed(f) {
  dropFailed(f);
  els.prompt.value = f.message;
  els.prompt.focus();
}

/** A new version of the answer in `slot` (same user message; the history does not repeat it). */
function regenerate(slot) {
  if (currentStream() || !slot.parentId) return;
  const s = store.startChat({
    conversationId: slot.conversationId || state.currentId, parentId: slot.parentId, ...modelOptions(),
    meta: { kind: 'regenerate', slot },
  });
  state.mounted.set(s, slot.addLive(s));
  updateComposer();
  followScroll(true);
}

/** Streams the rest of a cut-off answer into its bubble; the server saves the joined text. */
function continueAnswer(bubble, messageId) {
  if (currentStream()) return;
  const s = store.startChat({
    conversationId: bubble.slot?.conversationId || state.currentId, continueFrom: messageId, ...modelOptions(),
    meta: { kind: 'continue' },
  });
  bubble.attachContinuation(s);
  state.mounted.set(s, bubble);
  updateComposer();
  followScroll(true);
}

/** Called with each batch of changed streams (about every 100 ms). */
function onStreams(batch) {
  let sidebar = false;
  for (const s of batch) {
    if (s.type === 'conversation_title' || (s.type === 'topic_title' && s.conversationId)) {
      sidebar = true;
      if (!store.isRunning(s) && !s.meta.refreshed) {
        s.meta.refreshed = true;
        refreshConversations();
        // a saved title starts the conversation's topic stream (seed 003's chain): find it and follow it
        if (s.type === 'conversation_title') store.discover().then(() => renderSidebar());
      }
      continue;
    }
    if (s.type === 'prompt_optimization' && state.optimizing && state.optimizing.stream === s) {
      optimizationProgress(s);
      continue;
    }
    if (s.type !== 'chat') continue;
    claimConversation(s);
    let b = state.mounted.get(s);
    if (!b && s.status !== 'rejected' && shownHere(s.conversationId, s.meta.newChatKey)) b = placeLive(s);
    if (b) {
      if (b.slot && !b.slot.parentId && s.userMessageId && !s.continues) {
        b.slot.parentId = s.userMessageId;
        b.slot.conversationId = s.conversationId;
        if (state.currentId === s.conversationId) state.slots.set(s.userMessageId, b.slot);
      }
      b.update();
      followScroll();
    }
    const running = store.isRunning(s);
    if (running !== s.meta.wasRunning) { sidebar = true; s.meta.wasRunning = running; }
    if (!running && !s.meta.ended) chatEnded(s, b);
  }
  if (sidebar) renderSidebar();
  updateComposer();
}

/** A turn started on the "new chat" page learns its conversation from its first event: select it. */
function claimConversation(s) {
  if (!s.conversationId || s.meta.claimed) return;
  s.meta.claimed = true;
  if (!state.conversations.some((c) => c.id === s.conversationId)) {
    state.conversations.unshift({
      id: s.conversationId, title: s.meta.userText ? titleFromMessage(s.meta.userText) : '', createdAt: null,
    });
  }
  if (!state.currentId && s.meta.newChatKey === state.newChatKey) {
    state.currentId = s.conversationId;
    history.replaceState(null, '', `#/c/${enc(s.conversationId)}`);
    if (s.meta.slot && s.userMessageId) state.slots.set(s.userMessageId, s.meta.slot);
  }
  renderSidebar();
  refreshConversations();
}

function chatEnded(s, b) {
  s.meta.ended = true;
  try {
    endTurn(s, b);
  } finally {
    delete s.meta.slot; // the store keeps ended streams: it need not keep their DOM too
    delete s.meta.userEl;
  }
}

function endTurn(s, b) {
  if (s.status === 'rejected') {
    // Refused before streaming (or no answer at all): nothing was saved.
    const kind = s.meta.kind;
    if (kind === 'regenerate') {
      state.mounted.delete(s);
      s.meta.slot?.removeLive(s);
      notify(`Could not regenerate: ${s.error ? s.error.message : 'the server refused it'}`, 'send');
    } else if (kind === 'continue') {
      state.mounted.delete(s);
      notify(`Could not continue: ${s.error ? s.error.message : 'the server refused it'}`, 'send');
      if (state.currentId) selectConversation(state.currentId, { updateHash: false });
    } else {
      failTurn(s);
    }
    return;
  }
  if (b && b.slot) b.slot.renderPager(b);
  // Followed again after a reload: the page's clock missed the start, the saved message has the numbers.
  if (s.discovered && s.conversationId) refreshSavedNumbers(s, b);
  // The server starts the conversation's title stream after its first answer: find it and follow it.
  store.discover().then(() => renderSidebar());
  refreshConversations();
  if (s.meta.isNew) {
    setTimeout(refreshConversations, 2000);
    setTimeout(refreshConversations, 6000);
  }
}

async function refreshSavedNumbers(s, b) {
  if (!b) return;
  try {
    const messages = await api(`conversations/${enc(s.conversationId)}/messages`);
    const id = s.messageId || s.continues;
    const saved = messages.find((m) => m.id === id);
    if (saved) {
      b.saved = saved;
      b.applySaved(saved);
    }
  } catch { /* keep what the stream told */ }
}

// Back online (the server answers again): what could not load loads now (its notice goes), then the turns that
// could not be sent go.
onReachability(async (reachable) => {
  renderModel();
  if (!reachable) return;
  if (notices.has('messages') && state.currentId) await selectConversation(state.currentId, { updateHash: false });
  if (navigator.onLine === false) return;
  for (const f of state.failed.filter((x) => x.offline)) retryFailed(f);
  refreshConversations();
});

/* ---------- "Optimize prompt": a typed stream that writes into the input ---------- */

async function optimize() {
  if (state.optimizing) { store.stop(state.optimizing.stream).catch(() => {}); return; }
  const draft = els.prompt.value;
  if (!draft.trim()) { els.prompt.focus(); return; }
  clearNotice('optimize');
  els.optimize.disabled = true;
  try {
    const s = await store.startTyped('prompt_optimization', { input: draft, model: settings.model || undefined });
    state.optimizing = { stream: s, draft };
    els.prompt.readOnly = true;
    els.prompt.classList.add('rewriting');
    els.prompt.setAttribute('aria-busy', 'true');
    els.undoOptimize.hidden = true;
  } catch (e) {
    notify(`Could not optimize the prompt: ${e.message}`, 'optimize');
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
    if (s.error) notify(`Could not optimize the prompt: ${s.error.message}`, 'optimize');
  }
  els.prompt.focus();
  store.forget(s);
  updateComposer();
}

/* ---------- model picker and indicator ---------- */

const chatPicker = new ModelPicker(els.modelSelect, els.model, {
  get: () => settings.model,
  set: (value) => { settings.model = value; settings.save(); renderModel(); },
});

/**
 * The top bar's indicator: the model the current view will use (the chat's or the agents' choice), and whether
 * the server can be reached (its dot).
 */
export function renderModel() {
  const indicator = $('model-indicator');
  const agentsView = location.hash.startsWith('#/agents');
  const model = agentsView ? settings.agentModel : settings.model;
  const simulated = isSimulatedModel(model);
  const online = reachability.reachable;
  // "provider · model": on a narrow screen only the model shows (the provider part is hidden by the style sheet).
  const label = modelLabel(model);
  const cut = label.indexOf(' · ');
  const provider = h('span', 'model-provider', cut < 0 ? '' : label.slice(0, cut + 3));
  $('model-text').replaceChildren(provider, cut < 0 ? label : label.slice(cut + 3), online ? '' : ' · offline');
  $('connection-text').textContent = online ? '' : ' (the server cannot be reached)';
  indicator.dataset.connection = online ? 'online' : 'offline';
  indicator.classList.toggle('simulated', simulated);
  indicator.title = `${simulated
    ? 'The built-in simulated model answers: no real model is called.'
    : `Answers come from the upstream model${model ? ` ${model}` : ''}.`}${online ? '' : ' The server cannot be reached now.'}`
    + ' Click to change.';
}

/** Rebuilds the chat's model list (after the server's models are known). */
export function renderModelPicker() { chatPicker.render(); }

/* ---------- wiring ---------- */

export function stopCurrent() {
  if (state.optimizing) { store.stop(state.optimizing.stream).catch(() => {}); return true; }
  const s = currentStream();
  if (!s) return false;
  els.stop.disabled = true;
  store.stop(s).catch((e) => notify(`Could not stop: ${e.message}`, 'stop')).finally(() => { els.stop.disabled = false; });
  return true;
}

export function regenerateLast() {
  const answers = els.messages.querySelectorAll('.msg.assistant .regenerate, .msg.assistant .retry');
  if (answers.length) answers[answers.length - 1].click();
}

export function focusPrompt() { els.prompt.focus(); }
export { moveConversation, optimize, closeRowMenu };

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
  els.search.addEventListener('input', renderSidebar);
  els.drawerToggle.addEventListener('click', () => setDrawer(!document.body.classList.contains('drawer-open')));
  els.scrim.addEventListener('click', () => setDrawer(false));
  narrow.addEventListener('change', () => setDrawer(false));
  els.noticeClose.addEventListener('click', () => clearNotice());
  els.renameForm.addEventListener('submit', (e) => {
    if (e.submitter && e.submitter.value === 'save') saveRename();
  });
  // Enter in the title renames (the form's first button is Cancel).
  els.renameTitle.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.isComposing) return;
    e.preventDefault();
    els.renameForm.requestSubmit($('rename-save'));
  });
  chatPicker.render();
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
