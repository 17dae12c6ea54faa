// The composer: sending a turn, failed sends with Retry, Regenerate, Continue, Stop, "Optimize prompt", and the
// model picker and indicator.

import { reachability } from '../api.js';
import { ModelPicker } from '../models.js';
import { settings, isSimulatedModel, modelLabel } from '../settings.js';
import * as store from '../store.js';
import { $, els, h, button } from './dom.js';
import { state } from './state.js';
import { notify, clearNotice } from './notices.js';
import { userBubble } from './answer-view.js';
import { followScroll, shownHere, liveStreamsHere, placeLive } from './messages-pane.js';

/* ---------- sending, failed sends, Regenerate, Continue ---------- */

/** The running chat stream of the conversation on screen, if any. */
export function currentStream() {
  return liveStreamsHere().find((s) => store.isRunning(s)) || null;
}

export function updateComposer() {
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

export function send(message) {
  clearNotice('send');
  startTurn({ message, conversationId: state.currentId, newChatKey: state.newChatKey });
}

/** A turn the server never got (or refused): shown as not sent, with Retry; kept until retried or edited. */
export function failTurn(s) {
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

export function failedTurnEl(f) {
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

export function retryFailed(f) {
  dropFailed(f);
  startTurn({ message: f.message, conversationId: f.conversationId, newChatKey: f.newChatKey });
}

function editFailed(f) {
  dropFailed(f);
  els.prompt.value = f.message;
  els.prompt.focus();
}

/** A new version of the answer in `slot` (same user message; the history does not repeat it). */
export function regenerate(slot) {
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
export function continueAnswer(bubble, messageId) {
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
/* ---------- "Optimize prompt": a typed stream that writes into the input ---------- */

export async function optimize() {
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

export function optimizationProgress(s) {
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

export const chatPicker = new ModelPicker(els.modelSelect, els.model, {
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
