// The chat view's DOM helpers: the elements of index.html it uses, element builders (user text and model output
// only ever go in as text), dates and titles.

export const $ = (id) => document.getElementById(id);
export const els = {
  list: $('conversations'), empty: $('conv-empty'), newChat: $('new-chat'), search: $('conv-search'),
  drawerToggle: $('open-drawer'), scrim: $('scrim'),
  title: $('chat-title'), messages: $('messages'), notice: $('notice'), noticeText: $('notice-text'),
  noticeClose: $('notice-close'), toasts: $('toasts'),
  form: $('composer'), prompt: $('prompt'), send: $('send'), stop: $('stop'), model: $('model'),
  modelSelect: $('model-select'), optimize: $('optimize'), undoOptimize: $('undo-optimize'),
  rename: $('rename'), renameForm: $('rename-form'), renameTitle: $('rename-title'),
};

export function h(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text != null) el.textContent = text; // user text and model output never go through innerHTML unsanitized
  return el;
}

export function button(label, className, onClick, attrs = {}) {
  const b = h('button', className, label);
  b.type = 'button';
  for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
  b.addEventListener('click', onClick);
  return b;
}

export function toDate(value) {
  if (value == null || value === '') return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export const fmtShort = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });
export const fmtTime = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
export const fmtDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
export const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

export const titleOf = (c) => (c && c.title && c.title.trim()) || 'Untitled conversation';

/** A conversation's first title, before the server's: the first line of the message, as the server takes it. */
export function titleFromMessage(text) {
  const line = (text || '').trim().split(/\r?\n/)[0].trim();
  return line.length <= 60 ? line || 'New conversation' : `${line.slice(0, 59).trimEnd()}…`;
}
