/**
 * Untrusted text — a peer's error message, a certificate's SAN from a man in the middle, any string
 * in a results file — reaches four kinds of output. Each kind has exactly one rule, here, applied
 * where the text is written (issue 12 item 4):
 *
 * - terminal: {@link terminalText} (controls, escape sequences, bidi overrides and line separators
 *   become visible `\u{XX}` escapes: no forged lines, no terminal control); {@link terminalLines}
 *   for our own multi-line messages that quote untrusted text (CLI errors);
 * - logs: {@link logValue} for a `key=value` line, {@link jsonLine} for JSON Lines;
 * - Markdown: {@link markdownText} for prose and table cells, {@link markdownCode} for code spans,
 *   {@link markdownLink} for links (CommonMark 0.31 §2.4 backslash escapes, §6.1 code spans; raw
 *   HTML is never produced: `<`, `>` and `&` become entities);
 * - HTML: {@link htmlText} (element content and quoted attribute values).
 */

// C0 and C1 controls (even \t and \n would let a sender forge extra lines), DEL, the Unicode bidi
// embedding/override/isolate and mark characters (CVE-2021-42574, "Trojan Source"), and the
// Unicode line and paragraph separators (some terminals and log viewers break lines on them).
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u2028\u2029]/g;

/** Untrusted text made safe for a terminal or a log line: every unsafe character becomes `\u{XX}`. */
export function terminalText(text: unknown): string {
  return String(text ?? '').replace(TERMINAL_UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** The characters {@link terminalText} escapes (exported for JSON-preserving variants). */
export const TERMINAL_UNSAFE_CHARS: RegExp = TERMINAL_UNSAFE;

/** Like {@link terminalText} but keeps line feeds: for a message of ours, on several lines, that quotes untrusted text. */
export function terminalLines(text: unknown): string {
  return String(text ?? '').split('\n').map(terminalText).join('\n');
}

/**
 * A value for a `key=value` log line: a plain token as it is, anything else (spaces, `=`, quotes,
 * controls, non-strings) as JSON, then the terminal rule — a peer's text can neither forge another
 * field or line nor drive the terminal that shows the log.
 */
export function logValue(value: unknown): string {
  const s = typeof value === 'string' && /^[\w.:/@+,\-\[\]]*$/.test(value) && value !== '' ? value : JSON.stringify(value) ?? 'undefined';
  return terminalText(s);
}

/**
 * One JSON Lines record safe for a terminal: JSON.stringify escapes C0 controls but writes C1
 * controls (U+009B is an 8-bit CSI), DEL and bidi overrides raw; this escapes those too, as
 * `\uXXXX`, so the line parses to the same value.
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(TERMINAL_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Untrusted text inside a Markdown line (after other text) or a GFM table cell, read literally.
 * Backslash-escapes the ASCII punctuation that opens an inline construct (emphasis, code, links,
 * images, table cells, strikethrough) and writes `<`, `>`, `&` as entities, so no HTML, no link
 * and no extra table cell can come out of it. Line breaks and other controls become visible
 * escapes (a newline would end a table row or start a block). `@` is escaped so a renderer's
 * linkify cannot make an e-mail link of it (markdown-it: an escape splits the text it scans). At the
 * start of a line use
 * {@link markdownParagraph}.
 */
export function markdownText(text: unknown): string {
  return terminalText(text)
    .replace(/[\\`*_{}[\]()!|~@]/g, (c) => `\\${c}`)
    .replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
}

/**
 * Untrusted text as a whole paragraph (at the start of a line): {@link markdownText}, plus the
 * block markers that count only there — heading `#`, list `-` `+` `1.` `1)`, setext `=` — escaped
 * (a quote `>` is already an entity).
 */
export function markdownParagraph(text: unknown): string {
  return markdownText(text)
    .replace(/^(\s*)([#+\-=])/, '$1\\$2')
    .replace(/^(\s*\d+)([.)])/, '$1\\$2');
}

/**
 * Untrusted text as a Markdown code span (CommonMark §6.1): fenced with one more backtick than its
 * longest backtick run, padded with spaces, on one line. Contents of a code span are literal (no
 * HTML, no links). Not for GFM table cells (a `|` there still splits the cell): use
 * {@link markdownText} in tables.
 */
export function markdownCode(text: unknown): string {
  const s = terminalText(text);
  const longest = Math.max(0, ...(s.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  // Padding only where CommonMark needs it: next to a backtick, or to keep edge spaces (§6.1).
  const pad = s === '' || s.startsWith('`') || s.endsWith('`') || (s.startsWith(' ') && s.endsWith(' ')) ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/**
 * {@link markdownCode} for a GFM table cell: a `|` ends the cell even inside a code span unless it
 * is backslash-escaped (GFM spec, tables extension), and a cell cut inside an open code span would
 * leave the rest of the text, `<` included, as raw Markdown.
 */
export function markdownCellCode(text: unknown): string {
  return markdownCode(text).replace(/\|/g, '\\|');
}

/**
 * True when `target` is a plain local path (relative or absolute), not a URL with a scheme such as
 * `javascript:`, `data:` or `https:`, nor a protocol-relative `//host`, nor holding a NUL.
 */
export function isLocalPath(target: unknown): target is string {
  return typeof target === 'string' && !!target && !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('//') && !target.includes('\0');
}

/**
 * A Markdown link to a local file, or — when `target` is not a plain local path — its text as a
 * code span with a note, never a link (a `javascript:` artifact must not become clickable).
 * The destination is percent-encoded segment by segment (spaces, parentheses, `<` cannot end it).
 */
export function markdownLink(text: unknown, target: unknown): string {
  if (!isLocalPath(target)) return `${markdownCode(target)} (not a local file, not linked)`;
  // encodeURIComponent leaves ( ) ! * ' — parentheses could close the destination early.
  const href = target.split('/').map((seg) => encodeURIComponent(seg).replace(/[()]/g, (c) => (c === '(' ? '%28' : '%29'))).join('/');
  return `[${markdownText(text)}](${href})`;
}

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function htmlText(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
