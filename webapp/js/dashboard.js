// The operators' dashboard (#/dashboard): live charts of this node, from GET api/metrics every few seconds.
// Charts are drawn by uPlot (a WebJar loaded by index.html as the global `uPlot`). Each figure that is past its
// seed threshold (first token > 1 s, chunk interval > 200 ms, success rate < 95 %, > 1,500 connections; the
// server sends them) is marked, in its card and in its chart.

const REFRESH_MS = 3000;
const HISTORY = 100;            // samples kept: 5 minutes at 3 s
const SUCCESS_WINDOW_MS = 60000; // success rate over about the last minute

const $ = (id) => document.getElementById(id);
const samples = [];             // {t (s), running, connections, p50, p95, interval, ended: {status: n}, errors: {code: n}}
let charts = null;
let timer = 0;
let thresholds = { firstTokenSeconds: 1, eventIntervalSeconds: 0.2, successRate: 0.95, connections: 1500 };

/** Shows the dashboard when the hash is #/dashboard, hides it otherwise; returns whether it is shown. */
export function route() {
  const shown = location.hash.startsWith('#/dashboard');
  const view = $('dashboard-view');
  if (!view) return false;
  view.hidden = !shown;
  $('tab-dashboard')?.toggleAttribute('aria-current', shown);
  if (shown && !timer) {
    refresh();
    timer = setInterval(refresh, REFRESH_MS);
  } else if (!shown && timer) {
    clearInterval(timer);
    timer = 0;
  }
  return shown;
}

async function refresh() {
  let m;
  try {
    const r = await fetch('api/metrics', { headers: { Accept: 'application/json' } });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    m = await r.json();
  } catch (e) {
    $('dashboard-status').textContent = `Cannot read metrics (${e.message}); retrying…`;
    return;
  }
  thresholds = m.thresholds || thresholds;
  samples.push({
    t: Date.now() / 1000,
    running: m.streams.running,
    connections: m.connections,
    p50: m.firstTokenSeconds.p50,
    p95: m.firstTokenSeconds.p95,
    interval: m.eventIntervalSeconds.p95,
    ended: m.ended || {},
    errors: m.errors || {},
  });
  if (samples.length > HISTORY) samples.shift();
  draw();
  $('dashboard-status').textContent = `Updated ${new Date().toLocaleTimeString()} · every ${REFRESH_MS / 1000} s`;
  document.getElementById('dashboard-view').dataset.samples = String(samples.length); // tests wait for this
}

const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);

/** Success rate (not ended in error) over the last minute of samples, or null when no stream ended in it. */
function successRate(i) {
  const now = samples[i];
  let j = i;
  while (j > 0 && (now.t - samples[j - 1].t) * 1000 <= SUCCESS_WINDOW_MS) j--;
  const then = j === i ? { ended: {} } : samples[j];
  const ended = sum(now.ended) - sum(then.ended);
  if (ended <= 0) return j === i && sum(now.ended) > 0 ? 1 - (now.ended.error || 0) / sum(now.ended) : null;
  return 1 - ((now.ended.error || 0) - (then.ended.error || 0)) / ended;
}

function codes() {
  const all = new Set();
  for (const s of samples) Object.keys(s.errors).forEach((c) => all.add(c));
  return [...all].sort();
}

function card(id, text, over, note) {
  const el = $(id);
  el.querySelector('.figure').textContent = text;
  el.classList.toggle('over', !!over);
  el.querySelector('.note').textContent = over ? note : '';
}

const fmtS = (v) => (v == null ? '–' : v < 1 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(2)} s`);

function draw() {
  const last = samples[samples.length - 1];
  const rate = successRate(samples.length - 1);
  card('card-active', `${last.running} / ${last.connections}`, last.connections > thresholds.connections,
    `more than ${thresholds.connections} connections`);
  card('card-first-token', `${fmtS(last.p50)} / ${fmtS(last.p95)}`,
    last.p95 != null && last.p95 > thresholds.firstTokenSeconds, `p95 above ${fmtS(thresholds.firstTokenSeconds)}`);
  card('card-interval', fmtS(last.interval), last.interval != null && last.interval > thresholds.eventIntervalSeconds,
    `above ${fmtS(thresholds.eventIntervalSeconds)}`);
  card('card-success', rate == null ? '–' : `${(rate * 100).toFixed(1)} %`,
    rate != null && rate < thresholds.successRate, `below ${thresholds.successRate * 100} %`);
  card('card-errors', String(sum(last.errors)), false, '');

  const t = samples.map((s) => s.t);
  const errorCodes = codes();
  const data = {
    active: [t, samples.map((s) => s.running), samples.map((s) => s.connections)],
    firstToken: [t, samples.map((s) => s.p50), samples.map((s) => s.p95), t.map(() => thresholds.firstTokenSeconds)],
    interval: [t, samples.map((s) => s.interval), t.map(() => thresholds.eventIntervalSeconds)],
    success: [t, samples.map((_, i) => { const r = successRate(i); return r == null ? null : r * 100; }),
      t.map(() => thresholds.successRate * 100)],
    errors: [t, ...errorCodes.map((c) => samples.map((s) => s.errors[c] || 0))],
  };
  if (!charts || charts.errorCodes.join() !== errorCodes.join()) create(data, errorCodes);
  else for (const [k, chart] of Object.entries(charts.plots)) chart.setData(data[k]);
}

const PALETTE = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626'];
const THRESHOLD = { label: 'alarm', stroke: '#dc2626', dash: [6, 4], width: 1, points: { show: false } };

function create(data, errorCodes) {
  if (charts) Object.values(charts.plots).forEach((p) => p.destroy());
  const opts = (title, series, yFmt, id) => ({
    title, width: Math.max(260, $(id).clientWidth - 8), height: 180,
    scales: { x: { time: true } },
    axes: [{}, { values: (u, v) => v.map(yFmt), size: 60 }],
    series: [{}, ...series],
  });
  const line = (label, i) => ({ label, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: true });
  const s = (v) => (v == null ? '' : v < 1 ? `${Math.round(v * 1000)} ms` : `${v} s`);
  charts = {
    errorCodes,
    plots: {
      active: new uPlot(opts('Active streams and connections', [line('streams', 0), line('connections', 1)],
        (v) => v, 'chart-active'), data.active, $('chart-active')),
      firstToken: new uPlot(opts('First token p50 / p95', [line('p50', 2), line('p95', 1), THRESHOLD], s, 'chart-first-token'),
        data.firstToken, $('chart-first-token')),
      interval: new uPlot(opts('Event interval p95', [line('p95', 4), THRESHOLD], s, 'chart-interval'), data.interval,
        $('chart-interval')),
      success: new uPlot(opts('Success rate (last minute)', [line('success %', 2), THRESHOLD], (v) => `${v} %`, 'chart-success'),
        data.success, $('chart-success')),
      errors: new uPlot(opts('Errors by code (since start)', errorCodes.map((c, i) => line(c, i + 3)), (v) => v,
        'chart-errors'),
        data.errors, $('chart-errors')),
    },
  };
  for (const id of ['chart-active', 'chart-first-token', 'chart-interval', 'chart-success', 'chart-errors']) {
    $(id).dataset.drawn = 'true';
  }
}
