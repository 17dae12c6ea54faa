// The conversation sidebar: a drawer on phones, search, day groups, titles and topics that stream in, rename, and
// delete with Undo.

import { api, enc } from '../api.js';
import { cleanTitle, cleanTopic } from '../titles.js';
import * as store from '../store.js';
import { els, h, button, toDate, fmtTime, fmtDate, titleOf } from './dom.js';
import { UNDO_MS, state } from './state.js';
import { notify, clearNotice, toast } from './notices.js';
import { openRowMenu } from './menus.js';
import { selectConversation } from './messages-pane.js';

/* ---------- sidebar: a drawer on narrow screens ---------- */

export const narrow = matchMedia('(max-width: 720px)');

export function setDrawer(open) {
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

export function renameConversation(c) {
  els.renameTitle.value = titleOf(c);
  els.rename.returnValue = '';
  els.rename.dataset.conversationId = c.id;
  els.rename.showModal();
  els.renameTitle.select();
}

export async function saveRename() {
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

export function deleteConversation(c) {
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
