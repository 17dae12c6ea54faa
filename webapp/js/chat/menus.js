// The small menus (a conversation's Rename/Delete, an answer's Show raw) and the raw-record dialog (API.md 13).

import { api, enc } from '../api.js';
import { h, button } from './dom.js';
import { renameConversation, deleteConversation } from './sidebar.js';

/* ---------- the row menu: Rename, Delete ---------- */

let rowMenu = null;

export function closeRowMenu(focusBack = false) {
  if (!rowMenu) return false;
  const { el, anchor } = rowMenu;
  rowMenu = null;
  el.remove();
  anchor.setAttribute('aria-expanded', 'false');
  if (focusBack && anchor.isConnected) anchor.focus();
  return true;
}

export function openRowMenu(c, anchor) {
  openMenu(anchor, [['Rename', () => renameConversation(c)], ['Delete', () => deleteConversation(c)]]);
}

/** Opens a menu of `[label, action]` items after `anchor` (a button with aria-haspopup), or closes it if open. */
export function openMenu(anchor, items) {
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
export async function showRaw(conversationId, messageId, returnTo) {
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
