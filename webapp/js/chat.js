// The chat view's entry: wires the chat modules (chat/) to the page and starts the view.
//
// The view owns DOM only. Streams live in the store (store.js): leaving a conversation unmounts its bubbles,
// and coming back mounts new ones that catch up from the store's text and then follow along. The modules:
// chat/sidebar.js (conversations), chat/messages-pane.js (the paged, lazily rendered messages),
// chat/answer-view.js (answer bubbles and versions), chat/composer.js (sending, Stop, Regenerate, Continue, the
// model), chat/stream-dispatch.js (store batches to the view), chat/menus.js, chat/notices.js, chat/dom.js,
// chat/state.js.

import * as store from './store.js';
import { $, els } from './chat/dom.js';
import { state } from './chat/state.js';
import { clearNotice } from './chat/notices.js';
import { closeRowMenu } from './chat/menus.js';
import { narrow, setDrawer, renderSidebar, refreshConversations, saveRename } from './chat/sidebar.js';
import { newChat, selectConversation } from './chat/messages-pane.js';
import { chatPicker, currentStream, send, stopCurrent, optimize } from './chat/composer.js';
import { onStreams } from './chat/stream-dispatch.js';

export { notify } from './chat/notices.js';
export { closeDrawer, renderSidebar, refreshConversations } from './chat/sidebar.js';
export { selectConversation, newChat, moveConversation } from './chat/messages-pane.js';
export { renderModel, renderModelPicker, stopCurrent, regenerateLast, focusPrompt, optimize } from './chat/composer.js';
export { closeRowMenu };

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
