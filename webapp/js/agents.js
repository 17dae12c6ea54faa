// The multi-agent view: one lane per agent, live over the WebSocket `/ws/agents` (API.md section 5).
//
// Protocol (JSON text frames):
//   client -> server  {"type":"run","task","agents"?,"model"?}
//                     {"type":"resume","runId","afterSequence"}   every frame after N, then live
//                     {"type":"stop","runId","agent"?}            one agent, or the whole run
//   server -> client  run_started {runId,task,agents,dependsOn,conversationId,sequence}
//                     agent_status {runId,agent,status,code?,error?,sequence}
//                     agent_output {runId,agent,content|reasoning,sequence}
//                     run_complete {runId,status,sequence}
//                     error {code,error,runId?}
// `sequence` is strictly increasing per run, across agents, without gaps. The view applies a frame only when
// its sequence is above the run's last one, so the replay of a `resume` never repeats text. When the socket
// drops it reconnects with backoff and resumes each unfinished run after its last sequence; after a reload it
// lists the runs (`GET /api/agents/runs`) and resumes them from 0 to rebuild the lanes.
//
// The socket, its backoff and the batching of redraws are the ones the chat's streams use (conn.js), and each
// lane's text is the store's Text (store.js), so both views behave alike on a poor network.

import { api, clientId } from './api.js';
import { MarkdownView } from './markdown.js';
import { ModelPicker } from './models.js';
import { settings } from './settings.js';
import { Text } from './store.js';
import { Batcher, ResumingSocket } from './conn.js';

const $ = (id) => document.getElementById(id);
const els = {
  form: $('agent-form'), task: $('agent-task'), roster: $('agent-roster'), model: $('agent-model'),
  modelSelect: $('agent-model-select'),
  run: $('agent-run'), connection: $('agent-connection'), notice: $('agent-notice'), runs: $('agent-runs'),
};

const DEFAULT_ROSTER = [
  { name: 'planner', dependsOn: [], description: 'Breaks the task into steps' },
  { name: 'researcher', dependsOn: ['planner'], description: 'Gathers what the steps need' },
  { name: 'critic', dependsOn: ['planner'], description: 'Looks for gaps and risks' },
  { name: 'writer', dependsOn: ['researcher', 'critic'], description: 'Writes the result' },
];
const RUN_TERMINAL = new Set(['completed', 'partial', 'stopped', 'error']);
const AGENT_TERMINAL = new Set(['completed', 'stopped', 'error']);
/** Most runs rebuilt after a reload. */
const RESTORE_MAX = 5;

const runs = new Map();   // runId -> run
let pendingRuns = 0;      // `run` frames sent, whose `run_started` has not come yet
let started = false;

function h(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text != null) el.textContent = text;
  return el;
}

function notify(message) {
  els.notice.textContent = message || '';
  els.notice.hidden = !message;
}

/* ---------- the socket ---------- */

function socketUrl() {
  const url = new URL(`ws/agents?clientId=${encodeURIComponent(clientId)}`, document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

const socket = new ResumingSocket(socketUrl, {
  onState(state, attempt) {
    els.connection.textContent = state === 'open' ? 'Connected'
      : attempt ? `Reconnecting… (attempt ${attempt})` : 'Connecting…';
    els.connection.dataset.state = state;
    if (state === 'reconnecting') {
      pendingRuns = 0;
      els.run.disabled = false;
    }
  },
  onOpen(reconnected) {
    // Catch up every unfinished run from where its lanes are; what waited for the socket goes next.
    for (const run of runs.values()) {
      if (!RUN_TERMINAL.has(run.status)) socket.sendNow({ type: 'resume', runId: run.id, afterSequence: run.sequence });
    }
    // A run started just before the drop may have no lane here yet: the server's list has it.
    if (reconnected) restoreRuns();
  },
  onMessage(data) {
    let frame;
    try { frame = JSON.parse(data); } catch { return; }
    onFrame(frame);
  },
});

function send(frame) { socket.send(frame); }

/* ---------- runs and lanes ---------- */

function newRun(id, fields = {}) {
  const run = {
    id, task: '', agents: [], dependsOn: {}, conversationId: null, status: 'running', sequence: 0,
    lanes: new Map(), el: null, ...fields,
  };
  runs.set(id, run);
  return run;
}

function lane(run, agent) {
  let l = run.lanes.get(agent);
  if (!l) {
    l = { agent, status: 'waiting', error: null, text: new Text(), reasoning: new Text(), shown: 0, reasoningShown: 0,
      el: null };
    run.lanes.set(agent, l);
    if (!run.agents.includes(agent)) run.agents.push(agent);
    if (run.el) buildLanes(run);
  }
  return l;
}

function onFrame(f) {
  if (f.type === 'error') {
    if (f.code === 'RUN_NOT_FOUND' && f.runId && runs.has(f.runId)) {
      const run = runs.get(f.runId);
      if (!RUN_TERMINAL.has(run.status)) run.status = 'gone';
      mark(run);
    }
    if (pendingRuns > 0 && !f.runId) { pendingRuns -= 1; els.run.disabled = false; }
    notify(`${f.error || 'The agents failed.'}${f.code ? ` (${f.code})` : ''}`);
    return;
  }
  if (!f.runId) return;
  let run = runs.get(f.runId);
  if (!run) {
    run = newRun(f.runId);
    render(run);
  }
  if (typeof f.sequence === 'number') {
    if (f.sequence <= run.sequence) return; // replayed frame already applied
    run.sequence = f.sequence;
  }
  switch (f.type) {
    case 'run_started':
      if (pendingRuns > 0) { pendingRuns -= 1; els.run.disabled = false; }
      run.task = f.task || run.task;
      run.dependsOn = f.dependsOn || {};
      run.conversationId = f.conversationId || null;
      for (const a of f.agents || []) lane(run, a);
      buildLanes(run);
      break;
    case 'agent_status': {
      const l = lane(run, f.agent);
      l.status = f.status;
      if (f.status === 'error') l.error = `${f.error || 'failed'}${f.code ? ` (${f.code})` : ''}`;
      mark(run, l);
      break;
    }
    case 'agent_output': {
      const l = lane(run, f.agent);
      if (f.content) l.text.push(f.content);
      if (f.reasoning) l.reasoning.push(f.reasoning);
      if (l.status === 'waiting') l.status = 'running';
      mark(run, l);
      break;
    }
    case 'run_complete':
      run.status = f.status || 'completed';
      mark(run);
      break;
    default:
  }
}

/** Redraws what changed since the last batch: lanes append only their new text. */
const batcher = new Batcher((items) => {
  for (const item of items) {
    if (item.lanes) renderRunHead(item);
    else renderLane(item);
  }
});

function mark(run, l) {
  batcher.mark(run);
  if (l) batcher.mark(l);
}

function render(run) {
  run.el = h('article', 'agent-run');
  run.el.dataset.runId = run.id;
  run.head = h('header', 'agent-run-head');
  // The final result (the agent no other reads: the writer, by default) shows first once the run has ended.
  run.resultEl = h('section', 'agent-result');
  run.resultEl.hidden = true;
  // The lanes fold: open while the run works, folded when it has ended (unless the user chose).
  run.foldEl = h('details', 'lanes-fold');
  run.foldEl.open = true;
  run.foldSummary = h('summary', 'lanes-summary', 'Agents');
  run.foldEl.addEventListener('toggle', () => {
    if (run.foldEl.open !== run.autoOpen) run.foldToggled = true;
  });
  run.autoOpen = true;
  run.lanesEl = h('div', 'lanes');
  run.foldEl.append(run.foldSummary, run.lanesEl);
  run.el.append(run.head, run.resultEl, run.foldEl);
  els.runs.prepend(run.el);
  renderRunHead(run);
  buildLanes(run);
}

/** The agent whose text is the run's result: the last one in run order that no other agent reads. */
function finalAgent(run) {
  const read = new Set(Object.values(run.dependsOn || {}).flat());
  const last = run.agents.filter((a) => !read.has(a));
  return last.length ? last[last.length - 1] : run.agents[run.agents.length - 1];
}

/** Once the run has ended: the final agent's text on top, and the lanes folded away. */
function renderResult(run) {
  if (!run.resultEl || !RUN_TERMINAL.has(run.status) || run.resultShown) return;
  const agent = finalAgent(run);
  const l = agent && run.lanes.get(agent);
  if (!l) return;
  run.resultShown = true;
  const heading = h('h4', 'agent-result-heading', `Result · ${agent}`);
  const body = h('div', 'agent-result-body md');
  const md = new MarkdownView(body);
  md.append(l.text.toString());
  md.finish();
  if (!l.text.length) body.append(h('p', 'muted', l.error || `The ${agent} wrote nothing (${l.status}).`));
  run.resultEl.replaceChildren(heading, body);
  run.resultEl.hidden = false;
  if (!run.foldToggled) {
    run.autoOpen = false;
    run.foldEl.open = false;
  }
  run.foldSummary.textContent = `Agents (${run.agents.length}): each lane`;
}

function renderRunHead(run) {
  if (!run.head) return;
  run.el.dataset.status = run.status;
  const title = h('h3', 'agent-run-task', run.task || 'Run');
  const status = h('span', `badge run-status status-${run.status}`, run.status);
  const stopAll = h('button', 'button small-button stop-run', 'Stop all');
  stopAll.type = 'button';
  stopAll.hidden = RUN_TERMINAL.has(run.status) || run.status === 'gone';
  stopAll.addEventListener('click', () => send({ type: 'stop', runId: run.id }));
  const conv = h('span', 'small muted', run.conversationId ? 'saved to its conversation' : '');
  run.head.replaceChildren(title, status, conv, stopAll);
  renderResult(run);
}

function buildLanes(run) {
  if (!run.lanesEl) return;
  run.lanesEl.style.setProperty('--lanes', String(Math.max(1, run.agents.length)));
  for (const agent of run.agents) {
    const l = lane(run, agent);
    if (l.el) { run.lanesEl.append(l.el); continue; }
    l.el = h('section', 'lane');
    l.el.dataset.agent = agent;
    const head = h('header', 'lane-head');
    l.statusEl = h('span', 'badge lane-status');
    l.stopEl = h('button', 'button small-button lane-stop', 'Stop');
    l.stopEl.type = 'button';
    l.stopEl.setAttribute('aria-label', `Stop ${agent}`);
    l.stopEl.addEventListener('click', () => {
      l.stopEl.disabled = true;
      send({ type: 'stop', runId: run.id, agent });
    });
    const deps = (run.dependsOn && run.dependsOn[agent]) || [];
    head.append(h('h4', 'lane-name', agent), l.statusEl, l.stopEl);
    l.depsEl = h('p', 'lane-deps small muted', deps.length ? `after ${deps.join(', ')}` : '');
    l.reasoningEl = h('details', 'reasoning');
    l.reasoningEl.hidden = true;
    l.reasoningText = document.createTextNode('');
    const rb = h('div', 'reasoning-body');
    rb.append(l.reasoningText);
    l.reasoningEl.append(h('summary', null, 'Reasoning'), rb);
    l.body = h('div', 'lane-body md');
    l.md = new MarkdownView(l.body);
    const fold = h('button', 'lane-fold', '−');
    fold.type = 'button';
    fold.setAttribute('aria-label', `Fold ${agent}`);
    fold.setAttribute('aria-expanded', 'true');
    fold.addEventListener('click', () => {
      const folded = l.el.classList.toggle('folded');
      fold.textContent = folded ? '+' : '−';
      fold.setAttribute('aria-expanded', String(!folded));
      fold.setAttribute('aria-label', `${folded ? 'Unfold' : 'Fold'} ${agent}`);
    });
    head.prepend(fold);
    l.el.append(head, l.depsEl, l.reasoningEl, l.body);
    run.lanesEl.append(l.el);
    renderLane(l);
  }
}

function renderLane(l) {
  if (!l.el) return;
  l.el.dataset.status = l.status;
  l.statusEl.textContent = l.status;
  l.statusEl.className = `badge lane-status status-${l.status}`;
  l.stopEl.hidden = AGENT_TERMINAL.has(l.status);
  if (l.reasoningShown < l.reasoning.length) {
    const r = l.reasoning.since(l.reasoningShown);
    l.reasoningText.appendData(r.text);
    l.reasoningShown = r.cursor;
    l.reasoningEl.hidden = false;
  }
  if (l.shown < l.text.length) {
    const c = l.text.since(l.shown);
    l.md.append(c.text);
    l.shown = c.cursor;
  }
  if (AGENT_TERMINAL.has(l.status)) {
    if (!l.finished) { l.finished = true; l.md.finish(); }
  } else {
    l.md.render();
  }
  l.el.classList.toggle('streaming', l.status === 'running');
  l.el.setAttribute('aria-busy', String(l.status === 'running'));
  if (l.error && !l.errorEl) {
    l.errorEl = h('p', 'note error-text', l.error);
    l.el.append(l.errorEl);
  }
}

/* ---------- the form ---------- */

async function loadRoster() {
  let roster = DEFAULT_ROSTER;
  try {
    const answer = await api('agents/roster');
    if (answer && Array.isArray(answer.agents) && answer.agents.length) roster = answer.agents;
  } catch { /* the default roster */ }
  const legend = els.roster.querySelector('legend');
  els.roster.replaceChildren(legend);
  for (const a of roster) {
    const id = `agent-${a.name}`;
    const box = h('input');
    box.type = 'checkbox';
    box.id = id;
    box.value = a.name;
    box.checked = true;
    const label = h('label', 'agent-choice');
    label.htmlFor = id;
    label.title = a.description || '';
    label.append(box, document.createTextNode(` ${a.name}`));
    els.roster.append(label);
  }
}

async function restoreRuns() {
  let list = [];
  try { list = await api('agents/runs'); } catch { return; }
  const recent = list.slice().sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt))).slice(0, RESTORE_MAX);
  for (const r of recent.reverse()) {
    if (runs.has(r.runId)) continue;
    const run = newRun(r.runId, { task: r.task, status: 'running', conversationId: r.conversationId });
    for (const a of r.agents || []) lane(run, a);
    render(run);
    send({ type: 'resume', runId: r.runId, afterSequence: 0 });
  }
}

/** Starts the view the first time it is shown: socket, roster, and the runs held on the server. */
export function show() {
  if (started) { els.task.focus(); return; }
  started = true;
  socket.connect();
  loadRoster();
  restoreRuns();
  els.task.focus();
}

export function init() {
  els.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const task = els.task.value.trim();
    if (!task) { els.task.focus(); return; }
    const agents = [...els.roster.querySelectorAll('input:checked')].map((b) => b.value);
    const frame = { type: 'run', task };
    const all = els.roster.querySelectorAll('input').length;
    if (agents.length && agents.length !== all) frame.agents = agents;
    if (settings.agentModel) frame.model = settings.agentModel;
    notify('');
    pendingRuns += 1;
    els.run.disabled = true;
    send(frame);
    els.task.value = '';
  });
  els.task.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); els.form.requestSubmit(); }
  });
}

const picker = new ModelPicker(els.modelSelect, els.model, {
  get: () => settings.agentModel,
  set: (value) => {
    settings.agentModel = value;
    settings.save();
    document.dispatchEvent(new CustomEvent('sluice:model'));
  },
});

/** Rebuilds the agents' model list (after the server's models are known). */
export function renderModelPicker() { picker.render(); }

/** Test and debugging hook. */
export const debug = { runs };
