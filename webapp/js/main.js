// Sluice web UI: start-up, the two views (chat, agents), dialogs and keyboard shortcuts.
// ES modules, no build step; the Markdown libraries are WebJars loaded by index.html.

import * as store from './store.js';
import * as chat from './chat.js';
import * as agents from './agents.js';
import * as dashboard from './dashboard.js';
import { loadInfo, initSettingsDialog, settings } from './settings.js';
import { loadModels } from './models.js';

const $ = (id) => document.getElementById(id);

function route() {
  const agentsView = location.hash.startsWith('#/agents');
  const dashboardView = dashboard.route();
  if (dashboardView) chat.closeDrawer(); // the drawer's Dashboard link on a phone
  $('chat-view').hidden = agentsView || dashboardView;
  $('agents-view').hidden = !agentsView;
  $('tab-chat').toggleAttribute('aria-current', !agentsView);
  $('tab-agents').toggleAttribute('aria-current', agentsView);
  chat.renderModel(); // the indicator says what the view on screen will use
  if (agentsView) {
    agents.show();
  } else if (!dashboardView) {
    const id = chat.conversationFromHash();
    if (id !== chat.chatState.currentId && (id || location.hash === '#/' || location.hash === '')) {
      if (!id || chat.chatState.conversations.some((c) => c.id === id)) chat.selectConversation(id, { updateHash: false });
    }
  }
}

const openSettings = initSettingsDialog(() => chat.renderModel());
const help = $('help');

function typing(target) {
  return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

document.addEventListener('keydown', (e) => {
  if (document.querySelector('dialog[open]')) return; // dialogs handle their own keys (Esc closes)
  const key = e.key.toLowerCase();
  if (e.key === 'Escape') {
    if (chat.closeRowMenu(true) || chat.closeDrawer() || chat.stopCurrent()) e.preventDefault();
    return;
  }
  if ((e.ctrlKey || e.metaKey) && e.key === ',') { e.preventDefault(); openSettings(); return; }
  if ((e.ctrlKey || e.metaKey) && e.key === '/') { e.preventDefault(); help.showModal(); return; }
  if (e.altKey && !e.ctrlKey && !e.metaKey) {
    const actions = {
      n: () => { location.hash = '#/'; chat.newChat(); },
      o: () => chat.optimize(),
      r: () => chat.regenerateLast(),
      c: () => { location.hash = '#/'; chat.focusPrompt(); },
      g: () => { location.hash = '#/agents'; },
      arrowup: () => chat.moveConversation(-1),
      arrowdown: () => chat.moveConversation(1),
    };
    const action = actions[key] || actions[e.code === 'KeyN' ? 'n' : e.code === 'KeyO' ? 'o' : e.code === 'KeyR' ? 'r'
      : e.code === 'KeyC' ? 'c' : e.code === 'KeyG' ? 'g' : ''];
    if (action) { e.preventDefault(); action(); }
    return;
  }
  if (!typing(e.target) && !e.ctrlKey && !e.metaKey) {
    if (e.key === '/') { e.preventDefault(); chat.focusPrompt(); }
    else if (e.key === '?') { e.preventDefault(); help.showModal(); }
  }
});

$('open-settings').addEventListener('click', openSettings);
$('open-help').addEventListener('click', () => help.showModal());
// On a narrow screen the top bar has no room for "?": the settings dialog leads to the shortcuts too.
$('settings-shortcuts').addEventListener('click', () => { $('settings').close(); help.showModal(); });
$('model-indicator').addEventListener('click', () => {
  const agentsView = location.hash.startsWith('#/agents');
  const select = agentsView ? $('agent-model-select') : $('model-select');
  const input = agentsView ? $('agent-model') : $('model');
  (input.hidden ? select : input).focus();
});
addEventListener('hashchange', route);
document.addEventListener('sluice:model', () => chat.renderModel());

async function start() {
  chat.init();
  agents.init();
  // After a reload: streams still running on the server are found and followed again, from their start. This
  // goes first: the server keeps a stream that got an unload beacon only for its unload grace.
  await Promise.all([store.discover(), loadInfo(), loadModels()]);
  chat.renderModelPicker();
  agents.renderModelPicker();
  chat.renderModel();
  await chat.start();
  route();
  if (!location.hash.startsWith('#/agents') && !location.hash.startsWith('#/dashboard')) chat.focusPrompt();
  document.documentElement.dataset.ready = 'true'; // tests wait for this
}

start();

// For tests and debugging from the console.
window.sluice = { store: store.debug, agents: agents.debug, chat: chat.chatState };
