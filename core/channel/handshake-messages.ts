/**
 * The secure channel's frames, as chat wire-protocol objects (one JSON object per line, string
 * `type`), their canonical serialization for the transcript, and strict field decoders.
 *
 * Handshake (bytes are standard base64, RFC 4648 §4, canonical: no stray padding bits):
 *
 *     client                                             server
 *     ch_hello        { version, keyExchange, ciphers,
 *                       transcriptMac, replayProtection,
 *                       random, share? }            ->
 *                                                   <-   ch_server_hello { version, cipher, random,
 *                                                          share?, certificate?, signatureScheme?, signature? }
 *     ch_key          { wrappedSecret }   (rsa only) ->
 *     ch_finished     { verify }   (transcriptMac)  ->
 *                                                   <-   ch_finished { verify }   (transcriptMac)
 *     sealed { ... }                               <->   sealed { ... }            (see sealed-frames.ts)
 *     ch_error { code, message }   either way, at any time, then both sides are closed
 *
 * Transcript (for the Finished MAC): SHA-256 over, for each handshake frame in the order it was sent
 * or received, `canonicalJson(frame) + "\n"`. `canonicalJson` is JSON with object keys sorted by
 * UTF-16 code unit at every level and no whitespace, so it does not depend on how the wire layer
 * orders keys; any change to a value, or an added or removed field, changes the hash. The wire layer
 * must therefore pass channel frames through unchanged.
 * @module
 */
import { createHash } from 'node:crypto';
import { CHANNEL_CIPHERS, type ChannelCipher, type Profile } from '../profile.ts';
import { channelError, type ChErrorFrame } from './errors.ts';

export type { ChErrorFrame };

/** Version carried in `ch_hello` and `ch_server_hello`; a peer with another version is refused. */
export const CHANNEL_PROTOCOL_VERSION = 1;
/** Types of every frame the channel produces or consumes. */
export const CHANNEL_FRAME_TYPES = ['ch_hello', 'ch_server_hello', 'ch_key', 'ch_finished', 'ch_error', 'sealed'] as const;
/** Most ciphers a `ch_hello` may offer (checked before looking at them). */
export const MAX_OFFERED_CIPHERS = 32;
/** Largest certificate PEM accepted in `ch_server_hello`, in characters. */
export const MAX_CERTIFICATE_PEM_CHARS = 65_536;

export type ChannelKeyExchange = Exclude<Profile['channel']['keyExchange'], 'none'>;
export type ReplayProtection = Profile['channel']['replayProtection'];

export interface ChHelloFrame {
  type: 'ch_hello';
  version: number;
  keyExchange: ChannelKeyExchange;
  /** the client's ciphers, most preferred first */
  ciphers: ChannelCipher[];
  transcriptMac: boolean;
  replayProtection: ReplayProtection;
  /** 32 random bytes */
  random: string;
  /** ecdhe*: the client's X25519 public key, 32 bytes (RFC 7748) */
  share?: string;
}

export interface ChServerHelloFrame {
  type: 'ch_server_hello';
  version: number;
  /** the first cipher of the server's list that the client offered */
  cipher: ChannelCipher;
  /** 32 random bytes */
  random: string;
  /** ecdhe*: the server's X25519 public key, 32 bytes */
  share?: string;
  /** rsa, ecdhe-signed: the server certificate, PEM */
  certificate?: string;
  /** ecdhe-signed: see keyexchange.ts SIGNATURE_SCHEMES */
  signatureScheme?: string;
  /** ecdhe-signed: signature over client random || server random || share || context */
  signature?: string;
}

export interface ChKeyFrame {
  type: 'ch_key';
  /** rsa: the client's 32-byte secret, RSA-OAEP-SHA256 encrypted to the certificate key */
  wrappedSecret: string;
}

export interface ChFinishedFrame {
  type: 'ch_finished';
  /** HMAC-SHA256(finished key, SHA-256(transcript so far)), 32 bytes */
  verify: string;
}

/** A protected chat frame; the layout is documented in sealed-frames.ts. */
export interface SealedFrame {
  type: 'sealed';
  seq?: string;
  ts?: number;
  nonce?: string;
  iv?: string;
  ct?: string;
  tag?: string;
  plaintext?: string;
}

export type ChannelFrame = ChHelloFrame | ChServerHelloFrame | ChKeyFrame | ChFinishedFrame | ChErrorFrame | SealedFrame;

/** A chat frame carried inside the channel: any JSON object with a string `type`. */
export type AppFrame = { type: string; [field: string]: unknown };

/** True for frames the channel consumes (`ch_*` and `sealed`); the wire layer routes these to it. */
export function isChannelFrame(frame: unknown): boolean {
  if (!isObject(frame) || typeof frame.type !== 'string') return false;
  return frame.type === 'sealed' || frame.type.startsWith('ch_');
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Canonical JSON: keys sorted at every level, no whitespace, `undefined` members omitted.
 * @throws RangeError on values JSON cannot represent exactly (non-finite numbers, functions...)
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError('canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  throw new RangeError(`canonicalJson: cannot serialize a ${typeof value}`);
}

/** SHA-256 of the transcript: `canonicalJson(frame) + "\n"` for each frame in order. */
export function transcriptHash(frames: readonly unknown[]): Buffer {
  const h = createHash('sha256');
  for (const f of frames) h.update(canonicalJson(f) + '\n', 'utf8');
  return h.digest();
}

const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Base64 characters needed for n bytes. */
function b64Chars(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/**
 * Reads a canonical standard-base64 field.
 * @param frame  the frame (already known to be an object)
 * @param field  the field name, for the error message
 * @param opts   `bytes`: exact decoded length; `maxBytes`: upper bound, checked before decoding
 * @throws SecchatError(CHANNEL, decode_error) when absent, not canonical base64, or the wrong length
 */
export function readBase64(frame: Record<string, unknown>, field: string, opts: { bytes?: number; maxBytes?: number } = {}): Buffer {
  const v = frame[field];
  const where = `${String(frame.type)}.${field}`;
  if (typeof v !== 'string') throw channelError('decode_error', `${where}: expected a base64 string`, { field: where });
  const limit = opts.bytes ?? opts.maxBytes;
  if (limit !== undefined && v.length > b64Chars(limit)) throw channelError('decode_error', `${where}: longer than ${limit} bytes`, { field: where });
  if (v.length % 4 !== 0 || !B64_RE.test(v)) throw channelError('decode_error', `${where}: not base64`, { field: where });
  const buf = Buffer.from(v, 'base64');
  if (buf.toString('base64') !== v) throw channelError('decode_error', `${where}: not canonical base64`, { field: where });
  if (opts.bytes !== undefined && buf.length !== opts.bytes) throw channelError('decode_error', `${where}: expected ${opts.bytes} bytes, got ${buf.length}`, { field: where });
  return buf;
}

/** Reads a string field. @throws SecchatError(CHANNEL, decode_error) */
export function readString(frame: Record<string, unknown>, field: string, maxChars: number): string {
  const v = frame[field];
  const where = `${String(frame.type)}.${field}`;
  if (typeof v !== 'string') throw channelError('decode_error', `${where}: expected a string`, { field: where });
  if (v.length > maxChars) throw channelError('decode_error', `${where}: longer than ${maxChars} characters`, { field: where });
  return v;
}

/** Reads one of a fixed set of string values. @throws SecchatError(CHANNEL, decode_error) */
export function readEnum<T extends string>(frame: Record<string, unknown>, field: string, allowed: readonly T[]): T {
  const v = frame[field];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw channelError('decode_error', `${String(frame.type)}.${field}: must be one of ${allowed.join(' | ')} (got ${JSON.stringify(v)})`, { field: `${String(frame.type)}.${field}` });
  }
  return v as T;
}

/** Reads a boolean field. @throws SecchatError(CHANNEL, decode_error) */
export function readBoolean(frame: Record<string, unknown>, field: string): boolean {
  const v = frame[field];
  if (typeof v !== 'boolean') throw channelError('decode_error', `${String(frame.type)}.${field}: expected true or false`, { field: `${String(frame.type)}.${field}` });
  return v;
}

/**
 * Reads the client's cipher offer: names the client listed, unknown names dropped (a newer client
 * may know more), order kept.
 * @throws SecchatError(CHANNEL, decode_error) when not an array of at most MAX_OFFERED_CIPHERS strings
 */
export function readCipherOffer(frame: Record<string, unknown>): ChannelCipher[] {
  const v = frame.ciphers;
  if (!Array.isArray(v) || v.length > MAX_OFFERED_CIPHERS || v.some((c) => typeof c !== 'string')) {
    throw channelError('decode_error', `ch_hello.ciphers: expected at most ${MAX_OFFERED_CIPHERS} cipher names`, { field: 'ch_hello.ciphers' });
  }
  return (v as string[]).filter((c): c is ChannelCipher => (CHANNEL_CIPHERS as readonly string[]).includes(c));
}
