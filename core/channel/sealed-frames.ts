/**
 * Sealed frames: the layout of a protected chat frame, its associated data, and replay protection.
 *
 * Layout (fields absent when the settings do not use them):
 *
 *     { "type": "sealed",
 *       "seq":   "17",            replayProtection sequence: this direction's counter, decimal uint64, from 0
 *       "ts":    1700000000000,   replayProtection window: sender's clock, integer ms
 *       "nonce": "<16 bytes>",    replayProtection window: random, unique per frame
 *       "iv":    "<12|16 bytes>", AEAD nonce (12) or CBC IV (16); absent for null
 *       "ct":    "<bytes>",       ciphertext of the serialized chat frame (UTF-8 JSON); CBC: PKCS#7
 *                                 padded, 16-byte blocks, block i is ct[16*i .. 16*i+15]
 *       "tag":   "<16|32 bytes>", AEAD tag (16) or HMAC-SHA256 over aad || iv || ct (32);
 *                                 absent for aes-128-cbc and null
 *       "plaintext": "{...}" }    null cipher only, instead of iv/ct/tag: the chat frame as-is
 *
 * Associated data, bound by the AEAD tag or the cbc-hmac MAC (aes-128-cbc and null bind nothing,
 * so their seq/ts/nonce can be rewritten by anyone on the path):
 *
 *     "secchat-sealed-v1" || mode (1 byte: 0 none, 1 sequence, 2 window)
 *       || sequence: seq as uint64 big-endian
 *       || window:   ts as uint64 big-endian || nonce (16)
 *
 * Checks on receipt, in order: layout (decode_error); sequence: seq equals the next expected
 * (bad_sequence); window: |now - ts| <= replayWindowMs (stale) and nonce unseen (replayed_nonce);
 * then the tag/MAC (bad_record_mac); then the plaintext must be a JSON object with a string type
 * (decode_error). Replay state is updated only after all checks pass, so a forged frame cannot burn
 * a sequence number or a nonce.
 * @module
 */
import { ERROR_CODES, UsageError } from '../errors.ts';
import type { ChannelCipher } from '../profile.ts';
import { CHANNEL_CIPHER_SPECS, openRecord, sealRecord, type RecordKeys, type RecordParts } from './ciphers.ts';
import { channelError } from './errors.ts';
import { isObject, readBase64, readString, type AppFrame, type ReplayProtection, type SealedFrame } from './handshake-messages.ts';

/** Label at the start of every sealed frame's associated data. */
export const SEALED_AAD_LABEL = 'secchat-sealed-v1';
/** Length of the window mode's per-frame nonce, in bytes. */
export const WINDOW_NONCE_BYTES = 16;
/** Largest serialized chat frame a sealed frame may carry, in bytes (checked before decoding). */
export const MAX_SEALED_PLAINTEXT_BYTES = 1_048_576;
/** Largest sequence number: the counters are unsigned 64-bit. */
export const MAX_SEQUENCE = (1n << 64n) - 1n;

const MODE_BYTE: Record<ReplayProtection, number> = { none: 0, sequence: 1, window: 2 };
const SEQ_RE = /^(0|[1-9][0-9]{0,19})$/;

/** The replay fields of one sealed frame. */
export interface SealedHeader {
  seq?: bigint;
  ts?: number;
  nonce?: Buffer;
}

/** The associated data for a frame's header under `mode` (layout above). */
export function sealedAad(mode: ReplayProtection, header: SealedHeader): Buffer {
  const parts: Buffer[] = [Buffer.from(SEALED_AAD_LABEL), Buffer.from([MODE_BYTE[mode]])]; // the label is ASCII: its UTF-8 bytes
  if (mode === 'sequence') {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(header.seq!);
    parts.push(b);
  } else if (mode === 'window') {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(header.ts!));
    parts.push(b, header.nonce!);
  }
  return Buffer.concat(parts);
}

/** A sealed frame split into its header and record bytes. */
export interface ParsedSealed {
  header: SealedHeader;
  parts: RecordParts;
}

/**
 * Splits a sealed frame, checking every field's presence, encoding and length for `cipher`/`mode`.
 * @throws SecchatError(CHANNEL, decode_error)
 */
export function parseSealedFrame(frame: Record<string, unknown>, cipher: ChannelCipher, mode: ReplayProtection): ParsedSealed {
  const spec = CHANNEL_CIPHER_SPECS[cipher];
  const header: SealedHeader = {};
  if (mode === 'sequence') {
    const s = frame.seq;
    if (typeof s !== 'string' || !SEQ_RE.test(s) || BigInt(s) > MAX_SEQUENCE) throw channelError('decode_error', 'sealed.seq: expected a decimal unsigned 64-bit integer string', { field: 'sealed.seq' });
    header.seq = BigInt(s);
  } else if (mode === 'window') {
    const ts = frame.ts;
    // Number.isSafeInteger is false for anything but a number, so it also checks the type.
    if (!Number.isSafeInteger(ts) || (ts as number) < 0) throw channelError('decode_error', 'sealed.ts: expected a non-negative integer (ms)', { field: 'sealed.ts' });
    header.ts = ts as number;
    header.nonce = readBase64(frame, 'nonce', { bytes: WINDOW_NONCE_BYTES });
  }
  if (spec.kind === 'null') {
    const text = readString(frame, 'plaintext', MAX_SEALED_PLAINTEXT_BYTES);
    return { header, parts: { iv: Buffer.alloc(0), ct: Buffer.from(text), tag: Buffer.alloc(0) } }; // UTF-8
  }
  const iv = readBase64(frame, 'iv', { bytes: spec.ivBytes });
  // CBC pads up to one extra block; AEAD ciphertext is as long as the plaintext.
  const ct = readBase64(frame, 'ct', { maxBytes: MAX_SEALED_PLAINTEXT_BYTES + 16 });
  if (spec.kind !== 'aead' && (ct.length === 0 || ct.length % 16 !== 0)) throw channelError('decode_error', 'sealed.ct: CBC ciphertext must be whole 16-byte blocks', { field: 'sealed.ct' });
  const tag = spec.tagBytes > 0 ? readBase64(frame, 'tag', { bytes: spec.tagBytes }) : Buffer.alloc(0);
  return { header, parts: { iv, ct, tag } };
}

/**
 * Builds a sealed frame (no state: the caller supplies the header and a fresh IV).
 * @param plaintext the serialized chat frame
 * @param iv        fresh random bytes of the cipher's `ivBytes` (empty for null)
 */
export function buildSealedFrame(cipher: ChannelCipher, keys: RecordKeys, mode: ReplayProtection, header: SealedHeader, plaintext: Buffer, iv: Buffer): SealedFrame {
  const spec = CHANNEL_CIPHER_SPECS[cipher];
  const frame: SealedFrame = { type: 'sealed' };
  if (mode === 'sequence') frame.seq = header.seq!.toString();
  if (mode === 'window') {
    frame.ts = header.ts!;
    frame.nonce = header.nonce!.toString('base64');
  }
  if (spec.kind === 'null') {
    frame.plaintext = plaintext.toString('utf8');
    return frame;
  }
  const parts = sealRecord(cipher, keys, plaintext, sealedAad(mode, header), iv);
  frame.iv = parts.iv.toString('base64');
  frame.ct = parts.ct.toString('base64');
  if (spec.tagBytes > 0) frame.tag = parts.tag.toString('base64');
  return frame;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns opened record bytes into the chat frame.
 * @throws SecchatError(CHANNEL, decode_error) unless UTF-8 JSON of an object with a string `type`
 */
export function decodeAppFrame(plaintext: Buffer): AppFrame {
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(plaintext));
  } catch (err) {
    throw channelError('decode_error', 'sealed frame content is not UTF-8 JSON', {}, err);
  }
  if (!isObject(value) || typeof value.type !== 'string') throw channelError('decode_error', 'sealed frame content is not a chat frame (an object with a string type)');
  return value as AppFrame;
}

/** Serializes a chat frame for sealing. @throws UsageError when it is not an object with a string type */
export function encodeAppFrame(appFrame: unknown): Buffer {
  if (!isObject(appFrame) || typeof appFrame.type !== 'string') throw new UsageError(ERROR_CODES.USAGE, 'seal(appFrame): appFrame must be an object with a string type');
  const bytes = Buffer.from(JSON.stringify(appFrame)); // UTF-8
  if (bytes.length > MAX_SEALED_PLAINTEXT_BYTES) throw new UsageError(ERROR_CODES.USAGE, `seal(appFrame): serialized frame is ${bytes.length} bytes, more than ${MAX_SEALED_PLAINTEXT_BYTES}`);
  return bytes;
}

/**
 * Opens a sealed frame with no replay checks (for analysing recordings).
 * @throws SecchatError(CHANNEL, decode_error | bad_record_mac)
 */
export function openSealedFrame(cipher: ChannelCipher, keys: RecordKeys, mode: ReplayProtection, frame: unknown): AppFrame {
  if (!isObject(frame) || frame.type !== 'sealed') throw channelError('decode_error', 'not a sealed frame');
  const { header, parts } = parseSealedFrame(frame, cipher, mode);
  return openParsed(cipher, keys, mode, header, parts);
}

function openParsed(cipher: ChannelCipher, keys: RecordKeys, mode: ReplayProtection, header: SealedHeader, parts: RecordParts): AppFrame {
  const plaintext = openRecord(cipher, keys, parts, sealedAad(mode, header));
  if (plaintext === null) throw channelError('bad_record_mac', `sealed frame failed the ${cipher} ${CHANNEL_CIPHER_SPECS[cipher].authenticates ? 'tag/MAC' : 'padding'} check`, { cipher });
  return decodeAppFrame(plaintext);
}

/** Settings shared by a direction's writer and reader. */
export interface RecordSettings {
  cipher: ChannelCipher;
  replayProtection: ReplayProtection;
  /** window mode: accepted clock difference either way, ms */
  replayWindowMs: number;
  randomBytes: (n: number) => Buffer;
  now: () => number;
}

/** Seals outgoing chat frames for one direction, keeping its sequence counter. */
export class SealedRecordWriter {
  #nextSeq = 0n;
  constructor(
    private readonly settings: RecordSettings,
    private readonly keys: RecordKeys,
  ) {}

  /** Frames sealed so far. */
  get sent(): bigint {
    return this.#nextSeq;
  }

  /**
   * @throws UsageError for a bad chat frame; SecchatError(CHANNEL, bad_sequence) when the 64-bit
   *         counter is exhausted (the channel must be re-established)
   */
  seal(appFrame: unknown): SealedFrame {
    const { cipher, replayProtection: mode } = this.settings;
    const plaintext = encodeAppFrame(appFrame);
    if (this.#nextSeq > MAX_SEQUENCE) throw channelError('bad_sequence', 'the 64-bit sequence counter is exhausted');
    const header: SealedHeader =
      mode === 'sequence' ? { seq: this.#nextSeq } : mode === 'window' ? { ts: Math.floor(this.settings.now()), nonce: this.settings.randomBytes(WINDOW_NONCE_BYTES) } : {};
    const frame = buildSealedFrame(cipher, this.keys, mode, header, plaintext, this.settings.randomBytes(CHANNEL_CIPHER_SPECS[cipher].ivBytes));
    this.#nextSeq++;
    return frame;
  }
}

/** Opens incoming sealed frames for one direction, enforcing its replay protection. */
export class SealedRecordReader {
  #expectedSeq = 0n;
  /** window mode: nonce (base64) -> the frame's ts, for nonces still inside the window */
  readonly #seen = new Map<string, number>();
  constructor(
    private readonly settings: RecordSettings,
    private readonly keys: RecordKeys,
  ) {}

  /** Frames opened so far. */
  get received(): bigint {
    return this.#expectedSeq;
  }

  /** Window mode: nonces remembered (pruned as the clock moves past the window). */
  get seenNonces(): number {
    return this.#seen.size;
  }

  /**
   * @throws SecchatError(CHANNEL) decode_error | bad_sequence | stale | replayed_nonce | bad_record_mac
   */
  open(frame: Record<string, unknown>): AppFrame {
    const { cipher, replayProtection: mode, replayWindowMs } = this.settings;
    const { header, parts } = parseSealedFrame(frame, cipher, mode);
    const nonceKey = mode === 'window' ? header.nonce!.toString('base64') : null;
    if (mode === 'sequence' && header.seq !== this.#expectedSeq) {
      throw channelError('bad_sequence', `sealed frame has sequence ${header.seq}, expected ${this.#expectedSeq}`, { got: header.seq!.toString(), expected: this.#expectedSeq.toString() });
    }
    if (mode === 'window') {
      const now = this.settings.now();
      this.#prune(now);
      if (Math.abs(now - header.ts!) > replayWindowMs) {
        throw channelError('stale', `sealed frame timestamp ${header.ts} is ${now - header.ts!} ms from now, outside the ${replayWindowMs} ms window`, { ts: header.ts, now, replayWindowMs });
      }
      if (this.#seen.has(nonceKey!)) throw channelError('replayed_nonce', 'sealed frame nonce was already seen inside the replay window', { nonce: nonceKey });
    }
    const app = openParsed(cipher, this.keys, mode, header, parts);
    this.#expectedSeq++;
    if (nonceKey !== null) this.#seen.set(nonceKey, header.ts!);
    return app;
  }

  /** Forgets nonces whose frames would now be stale anyway. */
  #prune(now: number): void {
    const oldest = now - this.settings.replayWindowMs;
    for (const [nonce, ts] of this.#seen) if (ts < oldest) this.#seen.delete(nonce);
  }
}
