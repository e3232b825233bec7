/**
 * The chat wire format: JSON Lines (https://jsonlines.org) — one UTF-8 JSON object per line,
 * terminated by "\n". This file is the one incremental parser and the one encoder of it; it never
 * touches a socket. See docs/protocol.md for every frame type.
 */
import { ProtocolError } from './errors.ts';
import { FRAME_ERRORS } from './protocol.ts';

/** Default maximum frame size: 64 KiB including the trailing newline. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

/** A decoded frame: any JSON object with a string `type`. */
export interface Frame {
  type: string;
  [field: string]: unknown;
}

// The codes a frame is refused with are part of the one protocol error table (core/protocol.ts).
export { FRAME_ERRORS };

/**
 * Incremental JSON Lines decoder. Push bytes as they arrive, then call {@link next} until it
 * returns null ("need more bytes"). A frame is checked against `maxFrameBytes` before it is
 * buffered whole, so a peer cannot make us hold more than that per connection.
 *
 * Errors: `next()` throws a {@link ProtocolError} whose `details.protocolCode` is one of
 * {@link FRAME_ERRORS} and `details.fatal` says whether the stream can continue (bad JSON consumes
 * just its line; an oversized frame poisons the stream).
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private scanFrom = 0; // bytes of `chunks` already searched for "\n"
  private poisoned = false;
  readonly maxFrameBytes: number;

  constructor(opts: { maxFrameBytes?: number } = {}) {
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(this.maxFrameBytes) || this.maxFrameBytes < 2) throw new RangeError(`maxFrameBytes must be an integer >= 2 (got ${opts.maxFrameBytes})`);
  }

  /** Appends received bytes. Cheap: no parsing happens until {@link next}. */
  push(data: Uint8Array): void {
    if (this.poisoned || data.length === 0) return;
    this.chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.buffered += data.length;
  }

  /** Bytes received but not yet returned as frames. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Returns the next whole frame, or null when more bytes are needed.
   * @throws ProtocolError frame_too_large (fatal), bad_json or bad_frame (not fatal)
   */
  next(): Frame | null {
    if (this.poisoned) throw new ProtocolError('stream closed after an oversized frame', { protocolCode: FRAME_ERRORS.tooLarge, fatal: true });
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    const buf = this.chunks[0];
    if (!buf) return null;
    const nl = buf.indexOf(0x0a, this.scanFrom);
    if (nl === -1) {
      this.scanFrom = buf.length;
      if (buf.length >= this.maxFrameBytes) return this.poison(buf.length);
      return null;
    }
    if (nl + 1 > this.maxFrameBytes) return this.poison(nl + 1);
    const line = buf.subarray(0, nl);
    const rest = buf.subarray(nl + 1);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    this.scanFrom = 0;
    return parseLine(line);
  }

  private poison(size: number): never {
    this.poisoned = true;
    this.chunks = [];
    this.buffered = 0;
    throw new ProtocolError(`frame too large: ${size} bytes so far without a newline, over the limit of ${this.maxFrameBytes} bytes per frame`, {
      protocolCode: FRAME_ERRORS.tooLarge,
      fatal: true,
      limitBytes: this.maxFrameBytes,
    });
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses one line (without its "\n"; a trailing "\r" is tolerated). */
function parseLine(line: Buffer): Frame {
  let text: string;
  try {
    text = utf8.decode(line);
  } catch {
    throw new ProtocolError('frame is not valid UTF-8', { protocolCode: FRAME_ERRORS.badJson, fatal: false });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ProtocolError(`frame is not valid JSON: ${(err as Error).message}`, { protocolCode: FRAME_ERRORS.badJson, fatal: false });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || typeof (value as Frame).type !== 'string') {
    throw new ProtocolError('frame must be a JSON object with a string "type"', { protocolCode: FRAME_ERRORS.badFrame, fatal: false });
  }
  return value as Frame;
}

/** Serializes a frame as one JSON line (UTF-8 bytes ending in "\n"). */
export function encodeFrame(frame: Frame): Buffer {
  return Buffer.from(JSON.stringify(frame) + '\n', 'utf8');
}
