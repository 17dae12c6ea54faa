// HTTP helpers for the gateway's API (API.md). Paths are relative so the page works under a context path.

export const API = 'api';

/** An HTTP answer that was not 2xx; `status` 0 means the request never got an answer (network). */
export class HttpError extends Error {
  constructor(message, status, problem) {
    super(message);
    this.status = status;
    this.problem = problem || null;
  }
}

/**
 * This tab's name for the connection guard (API.md section 3: `clientId`). Kept in sessionStorage, so a reload
 * keeps it (its new connections replace the old ones) while another tab gets its own.
 */
export const clientId = (() => {
  const key = 'sluice.clientId';
  let id = null;
  try { id = sessionStorage.getItem(key); } catch { /* storage disabled */ }
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(12)); // randomUUID needs a secure context
    id = 'tab-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    try { sessionStorage.setItem(key, id); } catch { /* storage disabled */ }
  }
  return id;
})();

/** Reads an RFC 9457 problem (or any error body) into the text to show. */
export async function problemText(res) {
  let text = '';
  try {
    const json = (res.headers.get('content-type') || '').includes('json');
    const body = json ? await res.json() : null;
    text = body ? body.detail || body.title || body.error || '' : (await res.text()).trim().slice(0, 300);
  } catch { /* unreadable body: the status line below */ }
  return text || `Request failed (${res.status}${res.statusText ? ' ' + res.statusText : ''})`;
}

/**
 * Whether the server answers: false after a request failed without an answer (or the browser went offline), true
 * again after any answer. `onReachability(fn)` calls `fn(reachable)` on each change.
 */
export const reachability = { reachable: navigator.onLine !== false };
const reachabilityListeners = new Set();

export function onReachability(fn) {
  reachabilityListeners.add(fn);
  return () => reachabilityListeners.delete(fn);
}

/** While the server cannot be reached: ms between two small requests that check whether it answers again. */
const PROBE_MS = 5000;
let probeTimer = null;

/** Records that a request got an answer (true) or none at all (false). */
export function markReachable(reachable) {
  if (reachability.reachable === reachable) return;
  reachability.reachable = reachable;
  clearTimeout(probeTimer);
  if (!reachable) probeTimer = setTimeout(probe, PROBE_MS);
  for (const fn of reachabilityListeners) {
    try { fn(reachable); } catch (e) { console.error(e); }
  }
}

function probe() {
  if (navigator.onLine === false) { probeTimer = setTimeout(probe, PROBE_MS); return; } // the online event comes
  api('info').catch(() => { probeTimer = setTimeout(probe, PROBE_MS); });
}

addEventListener('offline', () => markReachable(false));
// Back online: one small request tells whether the server answers again.
addEventListener('online', () => { clearTimeout(probeTimer); probe(); });

/** JSON request; throws HttpError (status 0 for a network failure). */
export async function api(path, options = {}) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) };
  if (options.body != null) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(`${API}/${path}`, { credentials: 'same-origin', ...options, headers });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    markReachable(false);
    throw new HttpError('The server could not be reached.', 0);
  }
  markReachable(true);
  if (!res.ok) throw new HttpError(await problemText(res), res.status);
  return res.status === 204 || res.status === 202 && !res.headers.get('content-type') ? null : res.json();
}

/**
 * JSON GET that also returns the response's `Link` header by relation (RFC 8288): `{body, links: {prev, ...}}`,
 * each link its URL as sent. Throws HttpError as `api` does.
 */
export async function apiWithLinks(path) {
  let res;
  try {
    res = await fetch(`${API}/${path}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  } catch (e) {
    markReachable(false);
    throw new HttpError('The server could not be reached.', 0);
  }
  markReachable(true);
  if (!res.ok) throw new HttpError(await problemText(res), res.status);
  return { body: await res.json(), links: parseLinks(res.headers.get('Link')) };
}

/** The links of a `Link` header by `rel`: `<url>; rel="prev", <url2>; rel="next"` gives `{prev: url, next: url2}`. */
export function parseLinks(header) {
  const links = {};
  for (const m of (header || '').matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const rel = /;\s*rel\s*=\s*"?([^";,]+)"?/i.exec(m[2]);
    if (rel) for (const r of rel[1].trim().split(/\s+/)) links[r.toLowerCase()] = m[1];
  }
  return links;
}

/** `path` with this tab's clientId added as a query parameter. */
export function withClient(path) {
  return `${path}${path.includes('?') ? '&' : '?'}clientId=${encodeURIComponent(clientId)}`;
}

export const enc = encodeURIComponent;
