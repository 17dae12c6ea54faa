// The message pane: the conversation's messages, loaded a page at a time (newest first, older pages when the
// user scrolls to the top: GET .../messages?before=SEQ&limit=N), answers rendered newest first in time slices, the
// browser skipping the layout of what is off screen (content-visibility), and live streams placed into it.

import { apiWithLinks, enc } from '../api.js';
import * as store from '../store.js';
import { els, h } from './dom.js';
import { state } from './state.js';
import { notify, clearNotice } from './notices.js';
import { userBubble, AnswerBubble, AnswerSlot, renderBudget } from './answer-view.js';
import { setDrawer, renderSidebar } from './sidebar.js';
import { updateComposer, failedTurnEl } from './composer.js';

/* ---------- scrolling: follow the stream only while the user is at the bottom ---------- */

let pinned = true;
let scrollQueued = false;
let lastHeight = 0;
els.messages.addEventListener('scroll', () => {
  const m = els.messages;
  // A scroll that comes with a change of the content's height is the browser's (answers above rendering in time
  // slices, scroll anchoring): it does not unpin the pane, which goes back to the bottom.
  const grew = m.scrollHeight !== lastHeight;
  lastHeight = m.scrollHeight;
  if (pinned && grew) { followScroll(); return; }
  pinned = m.scrollHeight - m.scrollTop - m.clientHeight < 48;
}, { passive: true });

export function followScroll(force = false) {
  if (force) pinned = true;
  if (!pinned || scrollQueued) return;
  scrollQueued = true;
  requestAnimationFrame(() => {
    scrollQueued = false;
    els.messages.scrollTop = els.messages.scrollHeight;
    lastHeight = els.messages.scrollHeight;
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

/** Messages asked for per page: the latest page when a conversation opens, then one more per scroll to the top. */
export const PAGE_SIZE = 40;
/** Text of a page's newest answers rendered before the pane shows (UTF-16 code units); the rest renders in slices. */
const PAGE_SYNC_CHARS = 64 * 1024;

/**
 * Builds the DOM of a page of messages (oldest first) into `nodes`, registering answer slots in `state.slots`;
 * returns the slots made. Bubbles are made newest first, so that the newest answers render first.
 */
function buildPage(messages, conversationId, nodes, savedStreams) {
  const made = [];
  let lastSlot = null;
  for (const m of messages) {
    if (m.streamId) savedStreams.add(m.streamId);
    if (m.role === 'user') {
      nodes.push(userBubble(m.content || '', m.id));
      lastSlot = new AnswerSlot(m.id, conversationId);
      state.slots.set(m.id, lastSlot);
      made.push(lastSlot);
      nodes.push(lastSlot.el);
    } else if (!m.agent && (m.parentId ? state.slots.has(m.parentId) : lastSlot)) {
      (m.parentId ? state.slots.get(m.parentId) : lastSlot).addSaved(m);
    } else {
      const holder = h('div', 'answer-slot');
      nodes.push(holder);
      made.push({ show: () => holder.append(AnswerBubble.fromMessage(m).el), versions: [m] });
    }
  }
  renderBudget.left = PAGE_SYNC_CHARS;
  try {
    for (const slot of made.slice().reverse()) {
      if (!slot.versions.length) continue;
      if (!(slot instanceof AnswerSlot)) { slot.show(); continue; }
      let active = slot.versions.length - 1;
      for (let i = slot.versions.length - 1; i >= 0; i--) if (slot.versions[i].msg.active !== false) { active = i; break; }
      slot.show(active);
    }
  } finally {
    renderBudget.left = Infinity;
  }
  return made;
}

/**
 * One page of a conversation's messages (`GET .../messages?limit=N[&before=SEQ]`, oldest first) and the `before`
 * of the page older than it (from the `Link: <...>; rel="prev"` header), or null when there is none. A page never
 * starts with answers whose user message is on the older page: those go with the older page.
 */
async function loadPage(conversationId, before) {
  const { body, links } = await apiWithLinks(`conversations/${enc(conversationId)}/messages?limit=${PAGE_SIZE}`
    + (before != null ? `&before=${before}` : ''));
  let messages = Array.isArray(body) ? body : [];
  let older = null;
  const prev = links.prev && /[?&]before=(\d+)/.exec(links.prev);
  if (prev) {
    older = Number(prev[1]);
    const firstUser = messages.findIndex((m) => m.role === 'user');
    if (firstUser > 0 && typeof messages[firstUser].seq === 'number') {
      older = messages[firstUser].seq;
      messages = messages.slice(firstUser);
    }
  }
  return { messages, older };
}

/** The "older messages" control at the top of the pane: scrolling near it (or clicking it) loads the older page. */
function olderControl() {
  const b = h('button', 'link-button older-messages', 'Show older messages');
  b.type = 'button';
  b.addEventListener('click', () => loadOlder());
  return b;
}

let loadingOlder = null;

/** Loads the page before the oldest one shown and puts it on top, keeping what the user sees where it is. */
export function loadOlder() {
  const id = state.currentId;
  const before = state.older;
  if (!id || before == null || loadingOlder) return loadingOlder;
  const token = state.loadToken;
  const control = els.messages.querySelector('.older-messages');
  if (control) { control.textContent = 'Loading older messages…'; control.disabled = true; }
  loadingOlder = (async () => {
    try {
      const { messages, older } = await loadPage(id, before);
      if (token !== state.loadToken) return;
      const nodes = [];
      buildPage(messages, id, nodes, new Set());
      const m = els.messages;
      const fromBottom = m.scrollHeight - m.scrollTop;
      if (control) control.after(...nodes); else m.prepend(...nodes);
      state.older = older;
      if (control) {
        if (older == null) control.remove();
        else { control.textContent = 'Show older messages'; control.disabled = false; }
      }
      m.scrollTop = m.scrollHeight - fromBottom;
    } catch (e) {
      if (token === state.loadToken) {
        notify(`Could not load older messages: ${e.message}`, 'messages');
        if (control) { control.textContent = 'Show older messages'; control.disabled = false; }
      }
    } finally {
      loadingOlder = null;
    }
  })();
  return loadingOlder;
}

/** Near the top with older messages to show: load them. */
function maybeLoadOlder() {
  if (state.older != null && !loadingOlder && els.messages.scrollTop < OLDER_MARGIN_PX) loadOlder();
}

/** Distance from the top of the pane at which the older page is fetched (px). */
const OLDER_MARGIN_PX = 400;
els.messages.addEventListener('scroll', maybeLoadOlder, { passive: true });

export async function selectConversation(id, { updateHash = true } = {}) {
  state.currentId = id;
  const token = ++state.loadToken;
  clearNotice('messages');
  state.mounted.clear();
  state.slots.clear();
  state.older = null;
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
    const { messages, older } = await loadPage(id, null);
    if (token !== state.loadToken) return;
    const nodes = [];
    const savedStreams = new Set();
    buildPage(messages, id, nodes, savedStreams);
    // Answers still streaming (or ended after the list was read) come from the store.
    for (const s of liveStreamsHere()) {
      if (s.id && savedStreams.has(s.id)) continue;
      placeLive(s, nodes);
    }
    for (const f of state.failed) if (shownHere(f.conversationId, f.newChatKey)) nodes.push(failedTurnEl(f));
    state.older = older;
    if (older != null) nodes.unshift(olderControl());
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
  // A short page that does not fill the pane: the older one comes at once.
  requestAnimationFrame(() => {
    if (token === state.loadToken && els.messages.scrollHeight <= els.messages.clientHeight + OLDER_MARGIN_PX) {
      maybeLoadOlder();
    }
  });
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
