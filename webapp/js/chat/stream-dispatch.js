// Routes each batch of changed store streams to the view: chat answers to their bubbles, titles and topics to the
// sidebar, a prompt rewrite to the input; and what follows a turn's end.

import { api, enc, onReachability } from '../api.js';
import * as store from '../store.js';
import { titleFromMessage } from './dom.js';
import { state } from './state.js';
import { notices, notify } from './notices.js';
import { renderSidebar, refreshConversations } from './sidebar.js';
import { followScroll, shownHere, placeLive, selectConversation } from './messages-pane.js';
import { updateComposer, failTurn, retryFailed, regenerate, optimizationProgress, renderModel } from './composer.js';

export function onStreams(batch) {
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
    const messages = await api(`conversations/${enc(s.conversationId)}/messages?limit=20`);
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
