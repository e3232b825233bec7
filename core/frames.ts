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
 * Buffering is linear: received chunks are kept as they are, each byte is searched for the newline
 * once, and a frame's bytes are copied at most once (none when the frame lies in one chunk). A
 * 64 KiB line dripped one byte per TLS record costs 64 KiB of copying, not 2 GiB
 * ({@link bytesCopied} counts it; the ws receiver keeps its buffers the same way).
 *
 * Errors: `next()` throws a {@link ProtocolError} whose `details.protocolCode` is one of
 * {@link FRAME_ERRORS} and `details.fatal` says whether the stream can continue (bad JSON consumes
 * just its line; an oversized frame — including `maxFrameBytes` bytes with no newline among them —
 * poisons the stream: every later `next()` throws it again and `push()` keeps nothing).
 */
export class FrameDecoder {
  /** Received chunks; the live ones are `chunks[head..]`. */
  private chunks: Buffer[] = [];
  private head = 0;
  private buffered = 0;
  /** The newline search resumes at chunks[scanChunk]; the `scanned` bytes of chunks[head..scanChunk) hold none. */
  private scanChunk = 0;
  private scanned = 0;
  private copied = 0;
  private poisoned = false;
  readonly maxFrameBytes: number;

  constructor(opts: { maxFrameBytes?: number } = {}) {
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(this.maxFrameBytes) || this.maxFrameBytes < 2) throw new RangeError(`maxFrameBytes must be an integer >= 2 (got ${opts.maxFrameBytes})`);
  }

  /** Appends received bytes (kept by reference, not copied). Ignored once the stream is poisoned. */
  push(data: Uint8Array): void {
    // An empty chunk needs no special case: the newline search steps over it.
    if (this.poisoned) return;
    this.chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.buffered += data.length;
  }

  /** Bytes received but not yet returned as frames. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Bytes copied so far to join frames that spanned chunks (for tests and benchmarks: stays ≤ the bytes pushed). */
  get bytesCopied(): number {
    return this.copied;
  }

  /**
   * Chunk references held, live or consumed but not yet dropped (for tests: after a frame is read
   * it is at most the live chunks plus 64, or twice the live chunks, so a long-lived stream cannot
   * leak; 0 when nothing is pending).
   */
  get chunksHeld(): number {
    return this.chunks.length;
  }

  /** True after a fatal error: the stream is unusable. */
  get isPoisoned(): boolean {
    return this.poisoned;
  }

  /**
   * Returns the next whole frame, or null when more bytes are needed.
   * @throws ProtocolError frame_too_large (fatal), bad_json or bad_frame (not fatal)
   */
  next(): Frame | null {
    if (this.poisoned) throw new ProtocolError('stream closed after an oversized frame', { protocolCode: FRAME_ERRORS.tooLarge, fatal: true });
    while (this.scanChunk < this.chunks.length) {
      const chunk = this.chunks[this.scanChunk]!;
      const nl = chunk.indexOf(0x0a);
      if (nl === -1) {
        this.scanned += chunk.length;
        this.scanChunk++;
        if (this.scanned >= this.maxFrameBytes) return this.poison(this.scanned);
        continue;
      }
      const size = this.scanned + nl + 1;
      if (size > this.maxFrameBytes) return this.poison(size);
      let line: Buffer;
      if (this.scanChunk === this.head) line = chunk.subarray(0, nl);
      else {
        line = Buffer.concat([...this.chunks.slice(this.head, this.scanChunk), chunk.subarray(0, nl)], size - 1);
        this.copied += size - 1;
      }
      // The rest of this chunk starts the next frame; the chunks before it are done.
      const rest = chunk.subarray(nl + 1);
      this.buffered -= size;
      if (rest.length) {
        this.chunks[this.scanChunk] = rest;
        this.head = this.scanChunk;
      } else this.head = this.scanChunk + 1;
      this.scanChunk = this.head;
      this.scanned = 0;
      this.compact();
      return parseLine(line);
    }
    return null;
  }

  /** Drops consumed chunk references now and then, so the array stays as long as the live chunks. */
  private compact(): void {
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = this.scanChunk = 0;
    } else if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.scanChunk -= this.head;
      this.head = 0;
    }
  }

  private poison(size: number): never {
    this.poisoned = true;
    this.chunks = [];
    this.head = this.scanChunk = this.scanned = 0;
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
  // null, numbers, strings, booleans and arrays have no `type` from JSON.parse: one test covers all.
  if (typeof (value as { type?: unknown } | null)?.type !== 'string') {
    throw new ProtocolError('frame must be a JSON object with a string "type"', { protocolCode: FRAME_ERRORS.badFrame, fatal: false });
  }
  return value as Frame;
}

/** Serializes a frame as one JSON line (UTF-8 bytes ending in "\n"). */
export function encodeFrame(frame: Frame): Buffer {
  return Buffer.from(JSON.stringify(frame) + '\n'); // UTF-8, node's default
}
