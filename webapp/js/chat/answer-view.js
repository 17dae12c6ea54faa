// Answers in the message pane: a bubble per answer (saved, or live from a store stream, rendered incrementally and
// in time slices by MarkdownView), and the slot of an answer's versions (Regenerate) with its ‹ n/m › switch.

import { api, enc } from '../api.js';
import { MarkdownView, copyText } from '../markdown.js';
import { isSimulatedModel, serverInfo } from '../settings.js';
import * as store from '../store.js';
import { h, button, toDate, fmtShort, secs } from './dom.js';
import { state } from './state.js';
import { notify } from './notices.js';
import { openMenu, showRaw } from './menus.js';
import { regenerate, continueAnswer } from './composer.js';
import { followScroll } from './messages-pane.js';

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

/**
 * Text of saved answers that may still be rendered at once (UTF-16 code units): the message pane sets it for a
 * page, so that its newest answers show at once and the others render in time slices; outside a page, any answer
 * up to SAVED_SYNC_CHARS renders at once.
 */
export const renderBudget = { left: Infinity };
/** The longest saved answer rendered at once; longer ones render in time slices. */
const SAVED_SYNC_CHARS = 64 * 1024;
/** After a slice of a live answer is drawn: the pane follows it if the user is at the bottom. */
const scrolled = () => followScroll();

const STATUS_LABEL = { stopped: 'Stopped', error: 'Error', partial: 'Cut off', gone: 'Lost' };

/** Why an answer that did not complete ended, when it is worth saying (a user's own stop is not). */
const END_NOTE = {
  unload: 'Stopped when its page was closed',
  client_disconnected: 'Cut off: no page followed it for a while',
  server_shutdown: 'Cut off: the server stopped',
};

export function userBubble(text, id) {
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
export class AnswerBubble {
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
    const content = msg.content || '';
    b.md.appendLater(content);
    if (content.length <= Math.min(renderBudget.left, SAVED_SYNC_CHARS)) {
      renderBudget.left -= content.length;
      b.md.finish();
    } else {
      b.md.schedule(true, scrolled, false, true); // in time slices, after the answers made before it; the pane stays at the bottom
    }
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
    this.endShown = false;
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
    // An ended status shows once the text is all rendered (a big answer's last blocks render in time slices).
    if (running || this.endShown) this.setStatus(s.status === 'rejected' ? 'error' : s.status);
    this.renderConnection(s);
    if (running) {
      this.md.schedule(false, scrolled);
    } else if (!this.finished) {
      this.finished = true;
      this.md.schedule(true, () => this.showEnd(s));
    }
  }

  /** The stream has ended and its text is rendered: the status, the numbers, and the answer's actions. */
  showEnd(s) {
    if (this.stream !== s) return;
    this.endShown = true;
    this.setStatus(s.status === 'rejected' ? 'error' : s.status);
    this.meta.textContent = endNote(s);
    this.end = {
      text: this.text(), messageId: s.messageId || s.continues, status: s.status, finishReason: s.finishReason,
      error: s.error ? { code: s.error.code, details: s.error.details, message: s.error.message } : null,
    };
    this.renderEnd();
    followScroll();
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
export class AnswerSlot {
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
