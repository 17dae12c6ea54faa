// Notices (conditions that last, one per key) and toasts (events, with an optional Undo).

import { els, h, button } from './dom.js';

/* ---------- notices (conditions) and toasts (events) ---------- */

/** The conditions that have a notice now: key -> message; the latest one shows. */
export const notices = new Map();

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

export function clearNotice(key) {
  if (key) notices.delete(key); else notices.clear();
  showNotice();
}

function showNotice() {
  const last = [...notices.values()].pop();
  els.noticeText.textContent = last || '';
  els.notice.hidden = !last;
}

/** A short message at the bottom, with an optional action (Undo); it goes away by itself. */
export function toast(message, { action, onAction, timeout = 5000 } = {}) {
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
