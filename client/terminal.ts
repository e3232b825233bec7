/**
 * Printing what other users sent without letting them drive our terminal: control characters,
 * escape sequences (ECMA-48 CSI/OSC) and bidi overrides (CVE-2021-42574, "Trojan Source") are
 * shown as visible escapes instead of being written raw.
 */
import type { Frame } from '../core/frames.ts';
import { jsonLine, terminalText } from '../core/escape.ts';

/** Makes untrusted text safe to print on a terminal: every unsafe character becomes \\u{XX} (core/escape.ts's terminal rule). */
export function sanitizeForTerminal(text: string): string {
  return terminalText(text);
}

/**
 * JSON for a terminal: JSON.stringify escapes C0 controls but writes C1 controls (U+009B is an
 * 8-bit CSI), DEL and bidi overrides raw. This escapes those too, as \\uXXXX, so the line is
 * still the same JSON value when parsed.
 */
export function jsonForTerminal(value: unknown): string {
  return jsonLine(value);
}

/** One human-readable line for a frame the server pushed, or null for frames not worth showing. */
export function describeFrame(f: Frame): string | null {
  const s = (v: unknown) => sanitizeForTerminal(String(v ?? ''));
  switch (f.type) {
    case 'msg':
      return `[room] ${s(f.from)}: ${s(f.text)}`;
    case 'dm':
      // Stored while we were offline: say when it was sent, since it arrives late.
      return `[dm] ${s(f.from)} → ${s(f.to)}: ${s(f.text)}${f.offline === true && typeof f.ts === 'number' ? ` (sent ${new Date(f.ts).toISOString()} while you were offline)` : ''}`;
    case 'joined':
      return `* ${s(f.username)} joined`;
    case 'left':
      return `* ${s(f.username)} left`;
    case 'users':
      return `* online: ${(Array.isArray(f.users) ? f.users : []).map(s).join(', ')}`;
    case 'error':
      return `! ${s(f.code)}: ${s(f.message)}`;
    case 'bye':
      return '* bye';
    default:
      return null;
  }
}
