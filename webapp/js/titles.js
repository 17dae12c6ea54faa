// Titles as the sidebar shows them: plain text, one line, at most TITLE_MAX UTF-16 code units. The same rules as
// the server's `TaskPrompts.cleanTitle`, applied to a title while it streams (the server saves its own cleaned
// title when the stream ends).

/** Most UTF-16 code units of a title, ellipsis included (TaskPrompts.TITLE_MAX). */
export const TITLE_MAX = 60;
/** Most UTF-16 code units of a conversation's topic, ellipsis included (TaskPrompts.TOPIC_MAX). */
export const TOPIC_MAX = 40;

const QUOTES = '"\'\u201C\u201D\u201E\u201F\u2018\u2019\u201A\u201B\u00AB\u00BB\u2039\u203A\u300C\u300D\u300E\u300F';
const SINGLE_QUOTES = '\'\u2018\u2019\u201A\u201B';
const TAG = /<\/?(?:b|i|u|s|em|strong|code|br|span|p|sup|sub|mark|small|del|ins|h[1-6])\b[^<>]*>/gi;

function unquote(t) {
  const n = t.length;
  if (!n) return t;
  const first = t[0];
  const last = t[n - 1];
  const isQuote = (c) => QUOTES.includes(c);
  const isDouble = (c) => isQuote(c) && !SINGLE_QUOTES.includes(c);
  if (n >= 2 && isQuote(first) && isQuote(last)) {
    const inner = t.slice(1, -1);
    return inner.includes(last) ? t : inner;
  }
  const count = [...t].filter(isQuote).length;
  if (count === 1 && (isQuote(first) ? isDouble(first) : isQuote(last) && isDouble(last))) {
    return isQuote(first) ? t.slice(1) : t.slice(0, -1);
  }
  return t;
}

function cleanLine(line) {
  let t = line.replace(/!?\[([^\]]*)]\([^)]*\)/g, '$1').replace(TAG, '').replace(/[*`]+|~~/g, '')
    .replace(/(?<![\p{L}\p{N}])_+|_+(?![\p{L}\p{N}])/gu, '').replace(/\s+/gu, ' ').trim();
  let before;
  do {
    before = t;
    t = t.replace(/^#+\s*/, '').replace(/^[-+\u2022]\s+/, '').replace(/^(?:>\s*|\d{1,3}[.)]\s+)/, '')
      .replace(/^(?:(?:conversation|chat|topic|suggested|short)\s+)?title\s*[:\uFF1A]\s*/iu, '')
      .replace(/[\s.\u3002\uFF0E,;:]+$/u, '');
    t = unquote(t).trim();
  } while (t !== before);
  return t;
}

/** Cuts to `max` code units with an ellipsis, never inside a surrogate pair. */
function cap(s, max) {
  if (s.length <= max) return s;
  let cut = max - 1;
  const code = s.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${s.slice(0, cut).trimEnd()}\u2026`;
}

/** The title of a model's (possibly partial) output, or '' when nothing is left. */
export function cleanTitle(raw) {
  if (!raw) return '';
  const text = raw.replace(/<think>[\s\S]*?(?:<\/think>|$)/gi, '\n');
  for (const line of text.split(/\r\n|\r|\n/)) {
    const title = cleanLine(line);
    if (title) return cap(title, TITLE_MAX);
  }
  return '';
}

/** A conversation's topic from a topic_title stream's (partial) output: `TaskPrompts.cleanTopic`'s rules. */
export function cleanTopic(raw) {
  let topic = cleanTitle(raw);
  if (/^topic\s*[:\uFF1A]\s*/iu.test(topic)) topic = cleanTitle(topic.replace(/^topic\s*[:\uFF1A]\s*/iu, ''));
  return cap(topic, TOPIC_MAX);
}
