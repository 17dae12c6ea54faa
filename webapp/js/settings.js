// Settings (model, system prompt) kept in localStorage, the server's provider info, and the settings dialog,
// whose "Generate" streams a system prompt (typed stream `system_prompt`) into its text box.

import { api } from './api.js';
import * as store from './store.js';

const KEY = 'sluice.settings';

/**
 * What the user chose; `save()` keeps it for the next visit. Each view keeps its own model: `model` for the chat,
 * `agentModel` for the agents ('' is the server's default).
 */
export const settings = {
  model: '',
  agentModel: '',
  systemPrompt: '',
  save() {
    try {
      localStorage.setItem(KEY, JSON.stringify({ model: this.model, agentModel: this.agentModel,
        systemPrompt: this.systemPrompt }));
    } catch { /* private mode */ }
  },
};
try { Object.assign(settings, JSON.parse(localStorage.getItem(KEY) || '{}')); } catch { /* ignore */ }

/** `GET /api/info`: which provider answers requests that name no model. */
export const serverInfo = { provider: null, model: null, simulated: false, loaded: false };

export async function loadInfo() {
  try {
    Object.assign(serverInfo, await api('info'), { loaded: true });
  } catch { /* the indicator says "unknown" */ }
}

/**
 * Whether the simulated model answers a request for `model` (empty: the server's default). Mirrors the
 * server's rule: the names `simulated` and `simulated-*` always go to the simulated model, and with no
 * upstream configured every request does.
 */
export function isSimulatedModel(model) {
  if (!model) return !!serverInfo.simulated || /^simulated(-|$)/.test(serverInfo.model || '');
  return serverInfo.simulated || /^simulated(-|$)/.test(model);
}

/** The indicator's text for `model`. */
export function modelLabel(model) {
  if (!serverInfo.loaded && !model) return 'Model: unknown';
  const name = model || serverInfo.model || 'provider default';
  return isSimulatedModel(model) ? `simulated · ${name}` : `${serverInfo.provider || 'upstream'} · ${name}`;
}

/* ---------- the dialog ---------- */

const $ = (id) => document.getElementById(id);

export function initSettingsDialog(onSaved) {
  const dialog = $('settings');
  const system = $('settings-system');
  const name = $('settings-name');
  const description = $('settings-description');
  const generate = $('settings-generate');
  const status = $('settings-status');
  let generating = null;

  function setGenerating(s) {
    generating = s;
    generate.textContent = s ? 'Stop' : 'Generate';
    system.readOnly = !!s;
    system.classList.toggle('rewriting', !!s);
    system.setAttribute('aria-busy', String(!!s));
  }

  store.subscribe((batch) => {
    if (!generating || !batch.includes(generating)) return;
    const s = generating;
    system.value = s.content.toString();
    system.scrollTop = system.scrollHeight;
    if (store.isRunning(s)) {
      status.textContent = s.status === 'reconnecting' ? 'Reconnecting…' : 'Writing…';
      return;
    }
    status.textContent = s.status === 'completed' ? 'Done: review it, then Save.'
      : s.error ? `Failed: ${s.error.message}` : 'Stopped.';
    setGenerating(null);
    store.forget(s);
  });

  generate.addEventListener('click', async () => {
    if (generating) { store.stop(generating).catch(() => {}); return; }
    if (!description.value.trim()) { status.textContent = 'Describe the assistant first.'; description.focus(); return; }
    status.textContent = 'Starting…';
    try {
      const metadata = name.value.trim() ? { name: name.value.trim() } : undefined;
      const s = await store.startTyped('system_prompt',
        { input: description.value, metadata, model: settings.model || undefined });
      system.value = '';
      setGenerating(s);
    } catch (e) {
      status.textContent = `Failed: ${e.message}`;
    }
  });

  // Saved on submit, which runs with the click; the dialog's `close` event comes a task later.
  $('settings-form').addEventListener('submit', (e) => {
    if (!e.submitter || e.submitter.value !== 'save') return;
    settings.systemPrompt = system.value.trim();
    settings.save();
    if (onSaved) onSaved();
  });
  dialog.addEventListener('close', () => {
    if (generating) store.stop(generating).catch(() => {});
  });

  return function open() {
    system.value = settings.systemPrompt || '';
    status.textContent = '';
    dialog.returnValue = '';
    if (!dialog.open) dialog.showModal();
    system.focus();
  };
}
