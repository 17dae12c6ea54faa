// Markdown rendering of streamed text, sanitized, in time linear in the text's length.
//
// The libraries come as WebJars (see index.html): marked (Markdown to HTML), DOMPurify (sanitizing: model
// output is untrusted) and highlight.js (code blocks). They are classic scripts that set globals.
//
// Rendering a whole answer again at every batch of deltas costs O(n) per batch, O(n^2) per answer. Instead
// the text is cut into blocks at blank lines outside code fences. A block is rendered once, when the text after
// it shows it is complete ("committed"), and never touched again; only the open tail is re-rendered at each
// batch. A tail longer than TAIL_MARKDOWN_MAX (a huge code block, say) is shown as plain text, appended in
// place, until its block completes. So each character is parsed a bounded number of times.

const { marked, DOMPurify, hljs } = window;

/** Largest open tail re-rendered as Markdown at each batch (UTF-16 code units). */
const TAIL_MARKDOWN_MAX = 16 * 1024;
/** Largest code block that gets syntax highlighting. */
const HIGHLIGHT_MAX = 20 * 1024;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

if (marked) marked.setOptions({ gfm: true, breaks: false });
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

/** Work done, for tests: UTF-16 code units handed to the Markdown parser so far. */
export const stats = { parsedChars: 0 };

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
  return DOMPurify.sanitize(html, { RETURN_DOM_FRAGMENT: true });
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

/**
 * Renders a growing Markdown text into an element. `append(delta)` is cheap; `render()` (called once per
 * batch) commits complete blocks and redraws only the open tail; `finish()` commits everything.
 *
 * The tail is kept as a list of pieces and scanned line by line as deltas arrive, so no step re-reads (or
 * makes the engine flatten) the whole tail at each delta.
 */
export class MarkdownView {
  constructor(el) {
    this.el = el;
    this.blocks = document.createElement('div');
    this.blocks.className = 'md-blocks';
    this.tailEl = document.createElement('div');
    this.tailEl.className = 'md-tail';
    el.replaceChildren(this.blocks, this.tailEl);
    this.parts = [];       // the tail: text after the last committed block
    this.tailLength = 0;
    this.line = '';        // the tail's last, incomplete line
    this.fence = null;     // the open fence's marker while inside a code block
    this.candidate = -1;   // offset in the tail after a blank line: a block may end there
    this.boundary = 0;     // offset in the tail up to which blocks are known complete
    this.tailDirty = false;
    this.rawNode = null;   // plain-text tail node while the tail is too long for Markdown
    this.rawShown = 0;     // pieces of the tail the raw node shows
    this.length = 0;
  }

  append(delta) {
    if (!delta) return;
    const start = this.tailLength;
    this.parts.push(delta);
    this.tailLength += delta.length;
    this.length += delta.length;
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
    const fence = FENCE.exec(line);
    if (this.fence) {
      if (fence && fence[1][0] === this.fence[0] && fence[1].length >= this.fence.length
          && /^\s*$/.test(line.slice(fence[0].length))) {
        this.fence = null;
        this.boundary = end;
        this.candidate = -1;
      }
    } else if (/^\s*$/.test(line)) {
      if (this.candidate < 0) this.candidate = end;
    } else {
      if (this.candidate >= 0 && !/^[ \t]/.test(line)) this.boundary = this.candidate;
      this.candidate = -1;
      if (fence) this.fence = fence[1];
    }
  }

  /** Moves complete blocks out of the tail: rendered once, appended, never redrawn. */
  commit(upTo) {
    if (upTo <= 0) return;
    const all = this.parts.join('');
    const text = all.slice(0, upTo);
    const rest = all.slice(upTo);
    this.parts = rest ? [rest] : [];
    this.tailLength = rest.length;
    this.candidate = this.candidate >= 0 ? this.candidate - upTo : -1;
    this.boundary = 0;
    if (this.rawNode) { this.rawNode = null; this.rawShown = 0; this.tailEl.replaceChildren(); }
    const block = document.createElement('div');
    block.className = 'md-block';
    block.append(markdownFragment(text));
    decorateCode(block);
    this.blocks.append(block);
    this.tailDirty = true;
  }

  render() {
    if (this.boundary > 0) this.commit(this.boundary);
    if (!this.tailDirty) return;
    this.tailDirty = false;
    if (this.tailLength <= TAIL_MARKDOWN_MAX) {
      this.rawNode = null;
      this.rawShown = 0;
      const text = this.parts.join('');
      this.parts = text ? [text] : [];
      this.tailEl.replaceChildren(text ? markdownFragment(text) : '');
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
    this.tailEl.replaceChildren();
    this.rawNode = null;
    this.commit(this.tailLength);
    this.tailDirty = false;
  }
}
