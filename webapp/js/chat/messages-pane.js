// The message pane: the conversation's messages, loaded a page at a time (newest first, older pages when the
// user scrolls to the top: GET .../messages?before=SEQ&limit=N), answers rendered newest first in time slices, the
// browser skipping the layout of what is off screen (content-visibility), and live streams placed into it.

import { api, enc } from '../api.js';
import * as store from '../store.js';
import { els, h } from './dom.js';
import { state } from './state.js';
import { notify, clearNotice } from './notices.js';
import { userBubble, AnswerBubble, AnswerSlot } from './answer-view.js';
import { setDrawer, renderSidebar } from './sidebar.js';
import { updateComposer, failedTurnEl } from './composer.js';

/* ---------- scrolling: follow the stream only while the user is at the bottom ---------- */

let pinned = true;
let scrollQueued = false;
els.messages.addEventListener('scroll', () => {
  const m = els.messages;
  pinned = m.scrollHeight - m.scrollTop - m.clientHeight < 48;
}, { passive: true });

export function followScroll(force = false) {
  if (force) pinned = true;
  if (!pinned || scrollQueued) return;
  scrollQueued = true;
  requestAnimationFrame(() => {
    scrollQueued = false;
    els.messages.scrollTop = els.messages.scrollHeight;
  });
}

/* ---------- the message pane ---------- */

function showEmptyState() {
  els.messages.replaceChildren(h('p', 'empty-state', 'Start a conversation: type a message below.'));
}

/** Whether a turn of (conversation, new-chat page) shows in the pane now. */
export function shownHere(conversationId, newChatKey) {
  return state.currentId ? conversationId === state.currentId : !conversationId && newChatKey === state.newChatKey;
}

/** Streams of the store that belong in the pane now: the conversation's, or the new chat's. */
export function liveStreamsHere() {
  return store.all()
    .filter((s) => s.type === 'chat' && shownHere(s.conversationId, s.meta.newChatKey))
    .sort((a, b) => a.startedAt - b.startedAt);
}

/**
 * Puts a live chat stream in the pane: into the answer it continues, as a version of its user message's answer, or
 * as a new turn at the end. A stream followed again after a reload waits for its first event, which names its user
 * message. Returns the bubble, or null when it cannot be placed yet.
 */
export function placeLive(s, nodes) {
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

export function moveConversation(step) {
  const list = state.conversations.filter((c) => !state.deleting.has(c.id));
  if (!list.length) return;
  const i = list.findIndex((c) => c.id === state.currentId);
  const next = list[Math.max(0, Math.min(list.length - 1, i < 0 ? 0 : i + step))];
  if (next) selectConversation(next.id);
}
