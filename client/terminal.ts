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

/**
 * The line shown for a message we sent ourselves, in the same shape as {@link describeFrame}
 * shows others' (`[room] you: …`, `[dm] you → bob: …`), so a student sees where it went.
 * @param to the recipient of a direct message; omitted = the room
 */
export function describeOwn(text: string, to?: string): string {
  const s = sanitizeForTerminal;
  return to === undefined ? `[room] you: ${s(text)}` : `[dm] you → ${s(to)}: ${s(text)}`;
}

/** The interactive client's commands, one per line (what `/help` prints). */
export const CHAT_HELP = [
  '/dm NAME text   a direct message only NAME sees',
  '/users          who is online',
  '/help           this list',
  '/quit           leave (Ctrl-D too)',
  '//text          a room message that starts with /',
  'anything else   a message to the whole room',
].join('\n');

/** What {@link LineScreen} needs of node:readline's Interface. */
interface PromptingInterface {
  prompt(preserveCursor?: boolean): void;
}

/**
 * Writes lines above a readline prompt without breaking what the user is typing: the prompt line
 * is cleared, the text written, then the prompt is redrawn with the half-typed input and the
 * cursor where it was (readline's `prompt(true)`). Off a terminal it writes plain lines.
 */
export class LineScreen {
  /**
   * @param out the terminal stream (process.stdout), or null when not interactive
   * @param rl  the readline interface drawing the prompt on `out`
   */
  constructor(
    private readonly out: NodeJS.WriteStream | null,
    private rl: PromptingInterface | null = null,
  ) {}

  /** Attaches the readline interface once it exists. */
  attach(rl: PromptingInterface): void {
    this.rl = rl;
  }

  /**
   * Readline is closing. When its prompt is still drawn (Ctrl-D, or the server hung up: no Enter
   * ended the line) the line is ended here, else whatever is written next in this terminal (the
   * shell prompt, another client's `connected to …`) glues onto `alice> `. Later lines print plainly.
   * @param promptDrawn the prompt is on screen with the cursor after it (false after `/quit` + Enter)
   */
  end(promptDrawn: boolean): void {
    if (this.out && this.rl && promptDrawn) this.out.write('\n');
    this.rl = null;
  }

  /**
   * Prints one line (already safe for a terminal) above the prompt.
   * @param write where it goes off a terminal (stdout for chat, stderr for status)
   */
  print(line: string, write: (text: string) => void): void {
    if (!this.out || !this.rl) {
      write(line + '\n');
      return;
    }
    // CR + erase line (ECMA-48 EL 2), then the text, then the prompt with the user's input intact.
    this.out.write('\r\u001b[2K' + line + '\n');
    this.rl.prompt(true);
  }
}
