// The network's quality, and the delivery rate the page asks for on it (API.md section 13, adaptive delivery).
//
// A connection of the store can ask the server to group deltas: `flushMs` (50..1000 ms: an event at the latest
// that long after its first delta was held) and `minChunk` (0..4096 UTF-16 code units: an event as soon as the
// group holds that many). On a slow link fewer, bigger events cost less (headers, JSON, wake-ups) and arrive as
// fast; on a good link the server's defaults (no parameters) keep the text flowing smoothly.
//
// The rate is chosen from `navigator.connection.effectiveType` where the browser reports it (seed 001: slow-2g
// and 2g get 500 ms / 1024, 3g gets 200 ms / 512, anything else the defaults), otherwise from the gaps between
// the events the page receives (a moving median). It applies to the next connection, never to one that is
// open: a rate is a query parameter of the request. The page's own render batches follow the same rate
// (`renderInterval`), since rendering more often than events arrive does nothing.
//
// The functions at the top are pure (no browser state); the small state at the bottom feeds them.

/** Rates by effective connection type (seed 001). A type not listed gets the server's defaults. */
export const RATES = Object.freeze({
  'slow-2g': Object.freeze({ flushMs: 500, minChunk: 1024 }),
  '2g': Object.freeze({ flushMs: 500, minChunk: 1024 }),
  '3g': Object.freeze({ flushMs: 200, minChunk: 512 }),
});
/** The server's defaults: no parameters sent (its coalescing is 50 ms). */
export const DEFAULT_RATE = Object.freeze({ flushMs: null, minChunk: null });
/** The server's own coalescing when no `flushMs` is asked for (ms). */
export const SERVER_FLUSH_MS = 50;
/** The shortest interval between two render batches of the page (ms). */
export const MIN_RENDER_MS = 100;
/** Gaps kept for the moving median. */
export const GAP_WINDOW = 32;
/** Fewest gaps measured before they are trusted. */
export const GAP_MIN_SAMPLES = 8;

/** The rate for an effective connection type, or null when the type says nothing (unknown, absent). */
export function rateForType(effectiveType) {
  if (!effectiveType) return null;
  return RATES[effectiveType] || DEFAULT_RATE;
}

/** The median of a list of numbers (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The rate for a measured median gap between events (ms), on a connection that asked for `flushMs` (null: the
 * server's 50 ms). What counts is the part of the gap the rate does not explain: a connection that asked for
 * 500 ms sees gaps of 500 ms on any network, so its excess is what the network (or a slow model) adds. An excess
 * of 400 ms or more picks the 2g rate, 150 ms or more the 3g rate, less the defaults. A slow model looks like a
 * slow network here; the cost of that mistake is only fewer, bigger events.
 */
export function rateForGaps(medianGapMs, flushMs) {
  if (!Number.isFinite(medianGapMs)) return null;
  const excess = medianGapMs - (flushMs || SERVER_FLUSH_MS);
  if (excess >= 400) return RATES['2g'];
  if (excess >= 150) return RATES['3g'];
  return DEFAULT_RATE;
}

/**
 * The rate for the next connection: from the effective type when there is one, else from the measured gaps,
 * else the defaults. `current` is the rate of the connections the gaps were measured on.
 */
export function chooseRate({ effectiveType, medianGapMs, current }) {
  return rateForType(effectiveType) || rateForGaps(medianGapMs, current && current.flushMs) || DEFAULT_RATE;
}

/** The query parameters of a rate (`&flushMs=500&minChunk=1024`), empty for the defaults. */
export function rateQuery(rate) {
  let q = '';
  if (rate && rate.flushMs != null) q += `&flushMs=${rate.flushMs}`;
  if (rate && rate.minChunk != null) q += `&minChunk=${rate.minChunk}`;
  return q;
}

/** Interval between the page's render batches for a rate (ms): never under 100 ms, never faster than events. */
export function renderInterval(rate) {
  return Math.max(MIN_RENDER_MS, (rate && rate.flushMs) || 0);
}

/** A moving window of the last `size` gaps between arrivals (ms). */
export class GapMeter {
  constructor(size = GAP_WINDOW) { this.size = size; this.gaps = []; this.last = null; }

  /** Records an arrival at `now` (ms); `fresh` is true for the first event of a new connection (no gap then). */
  arrive(now, fresh = false) {
    if (!fresh && this.last != null) {
      this.gaps.push(now - this.last);
      if (this.gaps.length > this.size) this.gaps.shift();
    }
    this.last = now;
  }

  /** The median gap, or NaN while fewer than GAP_MIN_SAMPLES gaps (or a full window, if smaller) are known. */
  median() { return this.gaps.length >= Math.min(GAP_MIN_SAMPLES, this.size) ? median(this.gaps) : NaN; }
}

/* ---------- the page's state ---------- */

const meter = new GapMeter();
/** The rate of the connections open now (what `renderInterval()` follows). */
let active = DEFAULT_RATE;

/** The browser's effective connection type, or null where it does not report one (Firefox, Safari). */
export function effectiveType() {
  const c = typeof navigator !== 'undefined' ? navigator.connection : null;
  return (c && c.effectiveType) || null;
}

/** Chooses the rate for a connection about to open, and makes it the active one. */
export function nextRate() {
  active = chooseRate({ effectiveType: effectiveType(), medianGapMs: meter.median(), current: active });
  return active;
}

/** The rate of the latest connection. */
export function activeRate() { return active; }

/**
 * Records the arrival of a `message` event (pings are left out: they come while the model is silent, and say
 * nothing of the network); `fresh` for the first of a connection.
 */
export function eventArrived(fresh = false) { meter.arrive(performance.now(), fresh); }

/** Test and debugging hook: the measured gaps and the active rate. */
export const debug = { meter, get active() { return active; } };
