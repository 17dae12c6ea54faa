// Markdown rendering of streamed text, sanitized, in time linear in the text's length, with math.
//
// The libraries come from the WAR (see index.html): marked (Markdown to HTML), DOMPurify (sanitizing: model
// output is untrusted), highlight.js (code blocks) and KaTeX (math). They are classic scripts that set globals.
//
// Math: `$…$` and `\(…\)` inline, `$$…$$` and `\[…\]` display, and a bare `\boxed{…}`, are marked extensions
// rendered by KaTeX (no trust: no \href, no HTML); the HTML then goes through DOMPurify like the rest. Code spans
// and code blocks keep their dollars. A `$` counts as math only as pandoc reads it: not followed by a space when
// it opens, not preceded by one when it closes, and not followed by a digit when it closes ("$5 and $10" stays
// text).
//
// Rendering a whole answer again at every batch of deltas costs O(n) per batch, O(n^2) per answer. Instead
// the text is cut into blocks at blank lines outside code fences. A block is rendered once, when the text after
// it shows it is complete ("committed"), and never touched again; only the open tail is re-rendered at each
// batch. A tail longer than TAIL_MARKDOWN_MAX (a huge code block, say) is shown as plain text, appended in
// place, until its block completes. So each character is parsed a bounded number of times.
//
// A very long answer (10 MB) is rendered in time slices (`MarkdownView.schedule`): complete blocks are committed
// at most COMMIT_SLICE characters at a time, in tasks of about 10 ms, so the page never blocks (no long task).
// While committed blocks wait, the open tail is not redrawn; committed blocks keep no copy of their text.

const { marked, DOMPurify, hljs, katex } = window;

/** Largest open tail re-rendered as Markdown at each batch (UTF-16 code units). */
const TAIL_MARKDOWN_MAX = 16 * 1024;
/** Largest code block that gets syntax highlighting. */
const HIGHLIGHT_MAX = 20 * 1024;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

if (marked) marked.setOptions({ gfm: true, breaks: false });
if (marked && katex) marked.use({ extensions: mathExtensions() });
// Raw HTML in model output loses its event-handler attributes before it is parsed at all. DOMPurify removes them too,
// but parsing markup that carries one makes Chromium report a Content-Security-Policy violation (script-src 'self')
// even in DOMPurify's inert document; this keeps the console clean. The sanitizing itself stays DOMPurify's.
// Raw HTML that opens a foreign or raw-text context (<style>, <math>, <svg>, <textarea>, ...) is shown as text instead:
// such markup can swallow or hide all the text after it (the <math><mtext><table><mglyph><style> shape), and a
// <style> would restyle the whole page. KaTeX's own MathML is not raw HTML: it comes from the math extension.
const TAG = /<[a-z][^>]*>/gi;
const HANDLER = /\s+on[a-z]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?/gi;
const SWALLOWING = /<\/?(?:style|math|mglyph|malignmark|svg|template|noscript|xmp|plaintext|textarea|title|iframe|noembed|noframes|object|embed)\b/i;
if (marked) {
  marked.use({
    walkTokens(token) {
      if (token.type !== 'html') return;
      token.text = SWALLOWING.test(token.text)
        ? escapeHtml(token.text)
        : token.text.replace(TAG, (tag) => tag.replace(HANDLER, ''));
    },
  });
}
if (hljs) hljs.configure({ ignoreUnescapedHTML: true });
if (DOMPurify) {
  // Links from model output open elsewhere and carry no referrer.
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A' && node.getAttribute('href')) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  });
}

/* ---------- math ---------- */

/** KaTeX's HTML for `tex`; a TeX error shows as KaTeX's red source text, never as an exception. */
function renderMath(tex, displayMode) {
  try {
    return katex.renderToString(tex, {
      displayMode, throwOnError: false, trust: false, strict: 'ignore', output: 'htmlAndMathml', maxExpand: 1000,
    });
  } catch {
    return `<code class="math-error">${escapeHtml(tex)}</code>`;
  }
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

/** `\boxed{…}` with balanced braces at the start of `src`: its length, or 0. */
function boxedLength(src) {
  if (!src.startsWith('\\boxed{')) return 0;
  let depth = 0;
  for (let i = 6; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') { i++; continue; }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
    else if (c === '\n' && src[i + 1] === '\n') return 0;
  }
  return 0;
}

/** The inline `$…$` at the start of `src` (pandoc's rule, one line), or null. */
const INLINE_DOLLAR = /^\$(?!\s)((?:\\.|[^$\\\n])+?)(?<!\s)\$(?!\d)/;

function mathExtensions() {
  const block = {
    name: 'mathBlock',
    level: 'block',
    start(src) {
      const m = /(?:^|\n) {0,3}(?:\$\$|\\\[)/.exec(src);
      return m ? m.index + (m[0][0] === '\n' ? 1 : 0) : undefined;
    },
    tokenizer(src) {
      const m = /^ {0,3}(?:\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\])[ \t]*(?:\n+|$)/.exec(src);
      if (!m) return undefined;
      return { type: 'mathBlock', raw: m[0], text: (m[1] ?? m[2]).trim() };
    },
    renderer(token) { return `<div class="math-display">${renderMath(token.text, true)}</div>\n`; },
  };
  const inline = {
    name: 'mathInline',
    level: 'inline',
    start(src) {
      const i = src.search(/\$|\\\(|\\\[|\\boxed\{/);
      return i < 0 ? undefined : i;
    },
    tokenizer(src) {
      let m = /^\$\$((?:\\.|[^$\\])+?)\$\$/.exec(src) || /^\\\[([\s\S]+?)\\\]/.exec(src);
      if (m) return { type: 'mathInline', raw: m[0], text: m[1].trim(), display: true };
      m = /^\\\(([\s\S]+?)\\\)/.exec(src) || INLINE_DOLLAR.exec(src);
      if (m) return { type: 'mathInline', raw: m[0], text: m[1].trim(), display: false };
      const boxed = boxedLength(src);
      if (boxed) return { type: 'mathInline', raw: src.slice(0, boxed), text: src.slice(0, boxed), display: false };
      return undefined;
    },
    renderer(token) { return renderMath(token.text, token.display); },
  };
  return [block, inline];
}

/* ---------- streaming: what the open tail shows before it is complete ---------- */

/** Stands where a pending part of the tail goes, so that it stays inline with the text before it. */
const PENDING = '\uE000';

/**
 * The open tail of a streaming answer, made safe to render at each batch (the rest of the answer never changes):
 * - an emphasis or code marker that has not closed yet (`**`, `~~`, `` ` ``, `*`) is hidden until it closes, so no
 *   lone `**` shows;
 * - math that has not closed yet (`$…`, `\(…`, a display `$$…` or `\[…`) is shown as plain text, set apart, rather
 *   than as Markdown that would turn into math a moment later.
 * Inside an open code fence nothing is changed. Returns `{markdown, pending, display}`: `markdown` holds PENDING
 * where the inline `pending` text goes; a pending `display` block follows the Markdown.
 *
 * @param {string} text the tail
 * @param {boolean} inFence whether the tail ends inside a code fence
 */
export function streamingSafe(text, inFence) {
  if (inFence) return { markdown: text, pending: '', display: '' };
  let display = '';
  const open = openDisplayMath(text);
  if (open >= 0) {
    display = text.slice(open);
    text = text.slice(0, open);
  }
  const paragraphStart = Math.max(text.lastIndexOf('\n\n') + 1, 0);
  const head = text.slice(0, paragraphStart);
  let last = text.slice(paragraphStart);
  let pending = '';
  const lineStart = last.lastIndexOf('\n') + 1;
  const math = openInlineMath(last.slice(lineStart));
  if (math >= 0) {
    pending = last.slice(lineStart + math);
    last = last.slice(0, lineStart + math);
  }
  last = hideUnclosedMarkers(last);
  return { markdown: head + last + (pending ? PENDING : ''), pending, display };
}

/** Offset of a display-math opener (`$$` or `\[` at a line start) that has no closer after it, or -1. */
function openDisplayMath(text) {
  const re = /(^|\n) {0,3}(\$\$|\\\[)/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    const start = m.index + m[1].length;
    const closer = m[2] === '$$' ? '$$' : '\\]';
    const end = text.indexOf(closer, start + m[0].length - m[1].length);
    if (end < 0) return start;
    re.lastIndex = end + closer.length;
  }
  return -1;
}

/** Offset in one line of inline math that opened (`$` or `\(`) and has not closed, or -1. */
function openInlineMath(line) {
  let open = -1;
  let paren = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '`') { // a code span keeps its dollars
      const end = line.indexOf('`', i + 1);
      if (end < 0) break;
      i = end;
      continue;
    }
    if (c === '\\') {
      if (line[i + 1] === '(' && open < 0) { open = i; paren = true; }
      else if (line[i + 1] === ')' && paren) { open = -1; paren = false; }
      i++;
      continue;
    }
    if (c !== '$' || paren) continue;
    if (line[i + 1] === '$') { i++; continue; } // `$$` inline: closed by the Markdown, or shown as text
    if (open < 0) {
      if (i + 1 === line.length || !/\s/.test(line[i + 1])) open = i;
    } else if (!/\s/.test(line[i - 1]) && !/\d/.test(line[i + 1] || '')) {
      open = -1;
    }
  }
  return open;
}

/** The paragraph without the last of each marker that has no partner yet (code spans left alone). */
function hideUnclosedMarkers(paragraph) {
  let text = paragraph;
  // Code spans first: an odd backtick is an opened span.
  const ticks = [...text.matchAll(/(?<!`)`(?!`)/g)].map((m) => m.index);
  if (ticks.length % 2 === 1) text = removeAt(text, ticks[ticks.length - 1], 1);
  const masked = text.replace(/`[^`]*`/g, (m) => ' '.repeat(m.length));
  for (const marker of ['**', '~~']) {
    const at = [...masked.matchAll(marker === '**' ? /\*\*/g : /~~/g)].map((m) => m.index);
    if (at.length % 2 === 1) return hideSingleStar(removeAt(text, at[at.length - 1], 2));
  }
  return hideSingleStar(text);
}

/** Hides the last single `*` of emphasis that has not closed (bullets and spaced stars are not emphasis). */
function hideSingleStar(text) {
  const masked = text.replace(/`[^`]*`/g, (m) => ' '.repeat(m.length)).replace(/\*\*/g, '  ');
  const at = [];
  for (const m of masked.matchAll(/\*/g)) {
    const before = masked[m.index - 1];
    const after = masked[m.index + 1];
    const bullet = (m.index === 0 || before === '\n' || /^\s*$/.test(masked.slice(masked.lastIndexOf('\n', m.index) + 1, m.index)))
      && after === ' ';
    const spaced = (before === undefined || /\s/.test(before)) && (after === undefined || /\s/.test(after));
    if (!bullet && !(spaced && after !== undefined)) at.push(m.index);
  }
  return at.length % 2 === 1 ? removeAt(text, at[at.length - 1], 1) : text;
}

function removeAt(text, index, length) {
  return text.slice(0, index) + text.slice(index + length);
}

/* ---------- rendering ---------- */

/**
 * Work done, for tests: UTF-16 code units handed to the Markdown parser so far; blocks committed and the ms spent
 * parsing and committing them; time slices run and their ms.
 */
export const stats = { parsedChars: 0, parseMs: 0, commits: 0, commitMs: 0, slices: 0, sliceMs: 0 };

/** DOMPurify's settings: its defaults, plus the MathML wrapper KaTeX uses for screen readers, minus style sheets. */
const PURIFY = { ADD_TAGS: ['semantics', 'annotation'], ADD_ATTR: ['encoding'],
  FORBID_TAGS: ['style', 'mglyph', 'malignmark'] };

/** Sanitized DOM fragment of a piece of Markdown. */
export function markdownFragment(text) {
  stats.parsedChars += text.length;
  if (!marked || !DOMPurify) {
    const f = document.createDocumentFragment();
    const p = document.createElement('p');
    p.className = 'md-raw';
    p.textContent = text;
    f.append(p);
    return f;
  }
  const html = marked.parse(text, { async: false });
  // DOMPurify's string (its documented use), parsed by a template: the nodes DOMPurify walked, and their JS
  // wrappers, stay in its inert document and can be collected; the page gets fresh nodes that no script touched.
  const template = document.createElement('template');
  template.innerHTML = DOMPurify.sanitize(html, PURIFY);
  return template.content;
}

/** The fragment of a streaming tail (see streamingSafe): pending math stays plain text, in place. */
function tailFragment(text, inFence) {
  const { markdown, pending, display } = streamingSafe(text, inFence);
  const f = markdown ? markdownFragment(markdown) : document.createDocumentFragment();
  if (pending) {
    const walker = document.createTreeWalker(f, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.data.indexOf(PENDING);
      if (at < 0) continue;
      const rest = node.splitText(at);
      rest.deleteData(0, PENDING.length);
      const span = document.createElement('span');
      span.className = 'math-pending';
      span.textContent = pending;
      rest.before(span);
      break;
    }
  }
  if (display) {
    const pre = document.createElement('div');
    pre.className = 'math-pending math-pending-display';
    pre.textContent = display;
    f.append(pre);
  }
  return f;
}

/** Highlights code blocks and gives each a copy button (committed blocks only: they never change again). */
function decorateCode(root) {
  for (const code of root.querySelectorAll('pre > code')) {
    const pre = code.parentElement;
    if (hljs && code.textContent.length <= HIGHLIGHT_MAX) {
      try { hljs.highlightElement(code); } catch { /* unknown language: leave it plain */ }
    }
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'code-copy';
    button.textContent = 'Copy';
    button.setAttribute('aria-label', 'Copy code');
    button.addEventListener('click', () => copyText(code.textContent, button));
    pre.classList.add('has-copy');
    pre.append(button);
  }
}

/** Copies text to the clipboard and says so on the button for a moment. */
export async function copyText(text, button) {
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    const area = document.createElement('textarea'); // no clipboard API (plain http): the old way
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    area.remove();
  }
  if (button) {
    const label = button.textContent;
    button.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => { button.textContent = label; }, 1500);
  }
  return ok;
}

/** Most text committed as one block of DOM in one step of a sliced render (UTF-16 code units). */
const COMMIT_SLICE = 24 * 1024;
/** Most text scanned for block boundaries in one step, for text handed over at once (a saved answer). */
const FEED_SLICE = 256 * 1024;
/** Work below this size (text not yet committed) is done at once rather than in slices. */
const SYNC_MAX = 64 * 1024;
/**
 * Committed blocks per group. The page skips the layout of what is off screen per group
 * (`content-visibility: auto` on `.md-group` in app.css), not per block: the browser checks every such element at
 * each frame, so with one per block a 10 MB answer's 430 blocks made each frame's check and layout grow with the
 * answer (a 10 MiB answer rendered 2 to 3 times slower).
 */
const GROUP_BLOCKS = 16;
/** Length of one slice of rendering work before the browser gets the thread back (ms). */
const SLICE_MS = 10;

/*
 * Time-sliced work: jobs run one after the other in tasks of about SLICE_MS, so that rendering a 10 MB answer
 * never blocks the page (no task of 200 ms). A job is `{run(deadline) -> done}`; the first job keeps the
 * thread until it is done, so the newest answer (scheduled first) shows first.
 */
const jobs = [];
let slicePosted = false;
const sliceChannel = new MessageChannel();
sliceChannel.port1.onmessage = runSlice;

function postSlice() {
  if (slicePosted) return;
  slicePosted = true;
  sliceChannel.port2.postMessage(0);
}

function runSlice() {
  slicePosted = false;
  const t0 = performance.now();
  stats.slices++;
  const deadline = t0 + SLICE_MS;
  while (jobs.length && performance.now() < deadline) {
    const job = jobs[0];
    let done = true;
    try { done = job.run(deadline); } catch (e) { console.error(e); }
    if (done) { jobs.shift(); job.queued = false; }
  }
  stats.sliceMs += performance.now() - t0;
  if (jobs.length) postSlice();
}

/** Queues a job of time-sliced work (once: a job already queued keeps its place, or moves first with `first`). */
export function sliced(job, first = false) {
  if (job.queued) {
    if (!first || jobs[0] === job) return;
    jobs.splice(jobs.indexOf(job), 1);
  }
  job.queued = true;
  if (first) jobs.unshift(job); else jobs.push(job);
  postSlice();
}

/**
 * Renders a growing Markdown text into an element. `append(delta)` is cheap; `render()` (called once per
 * batch) commits complete blocks and redraws only the open tail; `finish()` commits everything. `schedule()`
 * does the same work in time slices (see `sliced`), for answers too big to render in one task.
 *
 * The tail is kept as a list of pieces and scanned line by line as deltas arrive, so no step re-reads (or
 * makes the engine flatten) the whole tail at each delta. Committed blocks are DOM only: the view keeps no copy
 * of their text, and the page skips their layout while they are off screen (`content-visibility` in app.css).
 */
export class MarkdownView {
  constructor(el) {
    this.el = el;
    this.blocks = document.createElement('div');
    this.blocks.className = 'md-blocks';
    this.group = null;     // the group that the next committed block joins (see GROUP_BLOCKS)
    this.tailEl = document.createElement('div');
    this.tailEl.className = 'md-tail';
    el.replaceChildren(this.blocks, this.tailEl);
    this.parts = [];       // the tail: text after the last committed block
    this.tailLength = 0;
    this.line = '';        // the tail's last, incomplete line
    this.fence = null;     // the open fence's marker while inside a code block
    this.mathFence = null; // the closer awaited while inside a display-math block ($$ or \])
    this.candidate = -1;   // offset in the tail after a blank line: a block may end there
    this.boundaries = [];  // offsets in the tail, ascending, at which complete blocks end
    this.tailDirty = false;
    this.rawNode = null;   // plain-text tail node while the tail is too long for Markdown
    this.rawShown = 0;     // pieces of the tail the raw node shows
    this.length = 0;
    this.feed = [];        // text handed over but not scanned yet (see `appendLater`)
    this.feedLength = 0;
    this.final = false;    // the text is complete: `schedule` commits everything
    this.done = [];        // callbacks for when a scheduled render has caught up
    this.job = { run: (deadline) => this.step(deadline), queued: false };
  }

  /**
   * Adds text. A delta longer than SYNC_MAX (a live answer's batch after the page was busy can hold megabytes), and
   * any delta behind one, is scanned in the slices of `schedule()` rather than now, so that no batch blocks the page.
   */
  append(delta) {
    if (!delta) return;
    if (this.feed.length || delta.length > SYNC_MAX) {
      this.appendLater(delta);
      return;
    }
    this.length += delta.length;
    this.scan(delta);
  }

  /** Like `append`, but the text is scanned in the slices of `schedule()` (a whole saved answer at once). */
  appendLater(text) {
    if (!text) return;
    this.length += text.length;
    this.feed.push(text);
    this.feedLength += text.length;
  }

  /** Adds text to the tail, finding the complete blocks it ends. */
  scan(delta) {
    const start = this.tailLength;
    this.parts.push(delta);
    this.tailLength += delta.length;
    this.tailDirty = true;
    let from = 0;
    let nl;
    while ((nl = delta.indexOf('\n', from)) >= 0) {
      this.scanLine(this.line + delta.slice(from, nl), start + nl + 1);
      this.line = '';
      from = nl + 1;
    }
    if (from < delta.length) this.line += delta.slice(from);
  }

  /**
   * One complete line of the tail, ending at offset `end`. A blank line outside a fence makes a candidate
   * boundary, which becomes a real one when the next non-blank line is not indented (an indented line may
   * continue a list item). A closing fence line is a boundary at once.
   */
  scanLine(line, end) {
    if (this.mathFence) { // an open display-math block: it ends at its closer, blank lines included
      if (line.includes(this.mathFence)) {
        this.mathFence = null;
        this.candidate = -1;
      }
      return;
    }
    const fence = FENCE.exec(line);
    if (this.fence) {
      if (fence && fence[1][0] === this.fence[0] && fence[1].length >= this.fence.length
          && /^\s*$/.test(line.slice(fence[0].length))) {
        this.fence = null;
        this.addBoundary(end);
        this.candidate = -1;
      }
    } else if (/^\s*$/.test(line)) {
      if (this.candidate < 0) this.candidate = end;
    } else {
      if (this.candidate >= 0 && !/^[ \t]/.test(line)) this.addBoundary(this.candidate);
      this.candidate = -1;
      if (fence) this.fence = fence[1];
      const math = /^ {0,3}(\$\$|\\\[)/.exec(line);
      if (math && !line.slice(math[0].length).includes(math[1] === '$$' ? '$$' : '\\]')) {
        this.mathFence = math[1] === '$$' ? '$$' : '\\]';
      }
    }
  }

  addBoundary(offset) {
    const last = this.boundaries.length ? this.boundaries[this.boundaries.length - 1] : 0;
    if (offset > last) this.boundaries.push(offset);
  }

  /** Removes and returns the first `k` characters of the tail. */
  takeFront(k) {
    const out = [];
    let n = 0;
    let i = 0;
    while (n < k) {
      const p = this.parts[i];
      if (n + p.length <= k) {
        out.push(p);
        n += p.length;
        i++;
      } else {
        out.push(p.slice(0, k - n));
        this.parts[i] = p.slice(k - n);
        n = k;
      }
    }
    this.parts.splice(0, i);
    this.tailLength -= k;
    return out.length === 1 ? out[0] : out.join('');
  }

  /** Moves the first `upTo` characters of the tail (whole blocks) out of it: rendered once, appended, never redrawn. */
  commit(upTo) {
    if (upTo <= 0) return;
    const text = this.takeFront(upTo);
    this.candidate = this.candidate >= 0 ? this.candidate - upTo : -1;
    let drop = 0;
    while (drop < this.boundaries.length && this.boundaries[drop] <= upTo) drop++;
    this.boundaries.splice(0, drop);
    for (let i = 0; i < this.boundaries.length; i++) this.boundaries[i] -= upTo;
    if (this.rawNode) { this.rawNode = null; this.rawShown = 0; this.tailEl.replaceChildren(); }
    const c0 = performance.now();
    stats.commits++;
    const block = document.createElement('div');
    block.className = 'md-block';
    const f = markdownFragment(text);
    stats.parseMs += performance.now() - c0;
    block.append(f);
    decorateCode(block);
    if (!this.group || this.group.childElementCount >= GROUP_BLOCKS) {
      this.group = document.createElement('div');
      this.group.className = 'md-group';
      this.blocks.append(this.group);
    }
    this.group.append(block);
    stats.commitMs += performance.now() - c0;
    this.tailDirty = true;
  }

  /** Commits the next complete blocks, up to COMMIT_SLICE characters (or the first block, if longer). */
  commitSlice() {
    let upTo = this.boundaries[0];
    for (const b of this.boundaries) {
      if (b > COMMIT_SLICE) break;
      upTo = b;
    }
    this.commit(upTo);
  }

  render() {
    while (this.feed.length) this.scan(this.feed.shift());
    this.feedLength = 0;
    if (this.boundaries.length) this.commit(this.boundaries[this.boundaries.length - 1]);
    this.renderTail();
  }

  /** Redraws the open tail: as Markdown while it is short, else as plain text appended in place. */
  renderTail() {
    if (!this.tailDirty) return;
    this.tailDirty = false;
    if (this.tailLength <= TAIL_MARKDOWN_MAX) {
      this.rawNode = null;
      this.rawShown = 0;
      const text = this.parts.join('');
      this.parts = text ? [text] : [];
      this.tailEl.replaceChildren(text ? tailFragment(text, !!this.fence) : '');
      return;
    }
    // Too long for a redraw per batch: show it as text, appending only the pieces not shown yet.
    if (!this.rawNode) {
      const pre = document.createElement('pre');
      pre.className = 'md-raw';
      this.rawNode = document.createTextNode('');
      pre.append(this.rawNode);
      this.tailEl.replaceChildren(pre);
      this.rawShown = 0;
    }
    this.rawNode.appendData(this.parts.slice(this.rawShown).join(''));
    this.rawShown = this.parts.length;
  }

  /** The text is complete: everything becomes committed Markdown. */
  finish() {
    this.final = true;
    while (this.feed.length) this.scan(this.feed.shift());
    this.feedLength = 0;
    this.tailEl.replaceChildren();
    this.rawNode = null;
    this.commit(this.tailLength);
    this.tailDirty = false;
  }

  /** Text not rendered for good yet (UTF-16 code units). */
  pending() { return this.tailLength + this.feedLength; }

  /**
   * Renders what arrived (`render()`, or `finish()` once `final`), in time slices when it is big; `onDone` is
   * called when the view has caught up (at once when the work was small enough to do now). `first` puts this
   * view's work before the others'; `slice` never does the work now, even when small.
   */
  schedule(final = false, onDone = null, first = false, slice = false) {
    if (final) this.final = true;
    if (onDone) this.done.push(onDone);
    if (!slice && this.pending() <= SYNC_MAX && !this.job.queued) {
      if (this.final) this.finish(); else this.render();
      this.caughtUp();
      return;
    }
    sliced(this.job, first);
  }

  /** One slice of `schedule`'s work, until `deadline` (ms, performance.now()); true when caught up. */
  step(deadline) {
    while (this.feed.length) {
      if (performance.now() >= deadline) return false;
      const text = this.feed[0];
      const piece = text.length <= FEED_SLICE ? text : text.slice(0, FEED_SLICE);
      if (piece === text) this.feed.shift(); else this.feed[0] = text.slice(FEED_SLICE);
      this.feedLength -= piece.length;
      this.scan(piece);
    }
    while (this.boundaries.length) {
      if (performance.now() >= deadline) return false;
      this.commitSlice();
    }
    if (this.final) {
      if (this.tailLength) {
        if (performance.now() >= deadline) return false;
        this.tailEl.replaceChildren();
        this.rawNode = null;
        this.commit(this.tailLength);
      }
      this.tailDirty = false;
    } else {
      this.renderTail();
    }
    this.caughtUp();
    return true;
  }

  caughtUp() {
    const done = this.done;
    this.done = [];
    for (const fn of done) {
      try { fn(); } catch (e) { console.error(e); }
    }
  }
}
