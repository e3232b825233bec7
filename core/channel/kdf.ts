/**
 * HKDF-SHA256 (RFC 5869) and the secure channel's key schedule.
 *
 * Key schedule (one HKDF call per output; node's `hkdfSync` runs Extract then Expand):
 *
 *     ikm  = X25519 shared secret (ecdhe, ecdhe-signed)  |  the client's 32-byte secret (rsa)
 *     salt = client_random (32) || server_random (32)
 *     PRK  = HKDF-Extract(salt, ikm)
 *     c2s key      = HKDF-Expand(PRK, "secchat-channel-v1 c2s key <cipher>", cipher key length)
 *     s2c key      = HKDF-Expand(PRK, "secchat-channel-v1 s2c key <cipher>", cipher key length)
 *     c2s mac      = HKDF-Expand(PRK, "secchat-channel-v1 c2s mac", 32)   (cbc-hmac only)
 *     s2c mac      = HKDF-Expand(PRK, "secchat-channel-v1 s2c mac", 32)   (cbc-hmac only)
 *     c finished   = HKDF-Expand(PRK, "secchat-channel-v1 c finished", 32)
 *     s finished   = HKDF-Expand(PRK, "secchat-channel-v1 s finished", 32)
 *
 * The two directions get distinct keys, so a frame reflected back to its sender never opens. The
 * cipher name is in the key labels so two ciphers with the same key length never share a key.
 * @module
 */
import { hkdfSync } from 'node:crypto';
import type { ChannelCipher } from '../profile.ts';
import { CHANNEL_CIPHER_SPECS } from './ciphers.ts';

/** Prefix of every HKDF `info` label of the channel; bump the version if the schedule changes. */
export const KDF_LABEL_PREFIX = 'secchat-channel-v1 ';
/** Length of each random (client and server), of the rsa secret and of the finished keys, in bytes. */
export const RANDOM_BYTES = 32;
/** HMAC-SHA256 key length for cbc-hmac and the finished MAC, in bytes. */
export const MAC_KEY_BYTES = 32;

/**
 * HKDF with SHA-256 (RFC 5869 §2): Extract then Expand.
 * @param ikm    input keying material
 * @param salt   Extract salt (empty means 32 zero bytes, per the RFC)
 * @param info   Expand context label
 * @param length output length in bytes, at most 255 * 32
 * @returns `length` bytes of output keying material
 * @example hkdfSha256(secret, Buffer.concat([cr, sr]), Buffer.from('label'), 32)
 */
export function hkdfSha256(ikm: Buffer, salt: Buffer, info: Buffer, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}

/** The keys one direction's records are protected with; empty buffers where the cipher needs none. */
export interface DirectionKeys {
  /** cipher key (16 or 32 bytes; empty for `null`) */
  encKey: Buffer;
  /** HMAC-SHA256 key (32 bytes for `aes-128-cbc-hmac-sha256`, otherwise empty) */
  macKey: Buffer;
}

/** Everything the key schedule produces for one session. */
export interface SessionKeys {
  cipher: ChannelCipher;
  clientToServer: DirectionKeys;
  serverToClient: DirectionKeys;
  /** keys the client's and the server's Finished MAC (RFC 8446 §4.4.4 style), 32 bytes each */
  clientFinishedKey: Buffer;
  serverFinishedKey: Buffer;
}

/**
 * Runs the key schedule above.
 * @param ikm          the shared secret (X25519 output or the unwrapped rsa secret)
 * @param clientRandom 32 bytes from `ch_hello`
 * @param serverRandom 32 bytes from `ch_server_hello`
 * @param cipher       the negotiated cipher (decides key lengths)
 */
export function deriveSessionKeys(ikm: Buffer, clientRandom: Buffer, serverRandom: Buffer, cipher: ChannelCipher): SessionKeys {
  const salt = Buffer.concat([clientRandom, serverRandom]);
  const spec = CHANNEL_CIPHER_SPECS[cipher];
  const expand = (label: string, length: number) => (length === 0 ? Buffer.alloc(0) : hkdfSha256(ikm, salt, Buffer.from(KDF_LABEL_PREFIX + label, 'utf8'), length));
  return {
    cipher,
    clientToServer: { encKey: expand(`c2s key ${cipher}`, spec.keyBytes), macKey: expand('c2s mac', spec.macKeyBytes) },
    serverToClient: { encKey: expand(`s2c key ${cipher}`, spec.keyBytes), macKey: expand('s2c mac', spec.macKeyBytes) },
    clientFinishedKey: expand('c finished', MAC_KEY_BYTES),
    serverFinishedKey: expand('s finished', MAC_KEY_BYTES),
  };
}
