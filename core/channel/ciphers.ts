/**
 * Record protection for the secure channel: one table of ciphers, and seal/open over bytes.
 *
 * - `aes-256-gcm`, `aes-128-gcm`: AEAD, RFC 5116 (AES-GCM, NIST SP 800-38D); 12-byte nonce, 16-byte tag.
 * - `chacha20-poly1305`: AEAD, RFC 8439; 12-byte nonce, 16-byte tag.
 * - `aes-128-cbc-hmac-sha256`: AES-128-CBC then HMAC-SHA256 (RFC 2104) over aad || iv || ciphertext,
 *   encrypt-then-MAC as in RFC 7366; the MAC is checked (in constant time) before decrypting, so no
 *   padding oracle.
 * - `aes-128-cbc` and `null`: INSECURE, implemented in `legacy.ts`; see the weakness texts below.
 *
 * Nonces and IVs are explicit and random per record (chosen by the caller, carried in the frame).
 * Random 96-bit GCM nonces are safe for up to 2^32 records per key (SP 800-38D §8.3).
 * @module
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual, type CipherGCMTypes } from 'node:crypto';
import { CHANNEL_CIPHERS, type ChannelCipher } from '../profile.ts';
import { AES_BLOCK_BYTES, insecureCbcDecrypt, insecureCbcEncrypt, insecureNullSeal } from './legacy.ts';

/** How a cipher protects records. */
export type CipherKind = 'aead' | 'cbc-hmac' | 'cbc' | 'null';

/** One row of the cipher table. */
export interface ChannelCipherSpec {
  name: ChannelCipher;
  kind: CipherKind;
  /** the standard it follows */
  standard: string;
  /** encryption key length in bytes (0 for `null`) */
  keyBytes: number;
  /** MAC key length in bytes (HMAC-SHA256; 0 when the cipher has no separate MAC) */
  macKeyBytes: number;
  /** explicit per-record nonce/IV length in bytes (0 for `null`) */
  ivBytes: number;
  /** tag or MAC length in bytes carried in the frame (0 when nothing authenticates the record) */
  tagBytes: number;
  /** true when the record is encrypted */
  encrypts: boolean;
  /** true when tampering with a record is detected */
  authenticates: boolean;
  /** what is wrong with it, as a warning sentence; null for the sound ciphers */
  weakness: string | null;
}

/** The cipher table: every fact about a channel cipher lives here. */
export const CHANNEL_CIPHER_SPECS: Readonly<Record<ChannelCipher, ChannelCipherSpec>> = {
  'aes-256-gcm': { name: 'aes-256-gcm', kind: 'aead', standard: 'AES-GCM, RFC 5116 / NIST SP 800-38D', keyBytes: 32, macKeyBytes: 0, ivBytes: 12, tagBytes: 16, encrypts: true, authenticates: true, weakness: null },
  'chacha20-poly1305': { name: 'chacha20-poly1305', kind: 'aead', standard: 'ChaCha20-Poly1305, RFC 8439', keyBytes: 32, macKeyBytes: 0, ivBytes: 12, tagBytes: 16, encrypts: true, authenticates: true, weakness: null },
  'aes-128-gcm': { name: 'aes-128-gcm', kind: 'aead', standard: 'AES-GCM, RFC 5116 / NIST SP 800-38D', keyBytes: 16, macKeyBytes: 0, ivBytes: 12, tagBytes: 16, encrypts: true, authenticates: true, weakness: null },
  'aes-128-cbc-hmac-sha256': { name: 'aes-128-cbc-hmac-sha256', kind: 'cbc-hmac', standard: 'AES-CBC + HMAC-SHA256 encrypt-then-MAC, RFC 7366 / RFC 2104', keyBytes: 16, macKeyBytes: 32, ivBytes: 16, tagBytes: 32, encrypts: true, authenticates: true, weakness: null },
  'aes-128-cbc': {
    name: 'aes-128-cbc',
    kind: 'cbc',
    standard: 'AES-CBC without a MAC (INSECURE)',
    keyBytes: 16,
    macKeyBytes: 0,
    ivBytes: 16,
    tagBytes: 0,
    encrypts: true,
    authenticates: false,
    weakness: 'channel cipher aes-128-cbc has no MAC: messages can be altered in transit (CBC bit flipping) and padding errors form an oracle',
  },
  null: {
    name: 'null',
    kind: 'null',
    standard: 'no protection (INSECURE)',
    keyBytes: 0,
    macKeyBytes: 0,
    ivBytes: 0,
    tagBytes: 0,
    encrypts: false,
    authenticates: false,
    weakness: 'channel cipher null neither encrypts nor authenticates: anyone on the path reads and alters every message',
  },
};

/** The ciphers that carry a weakness, in table order. */
export const WEAK_CHANNEL_CIPHERS: readonly ChannelCipher[] = CHANNEL_CIPHERS.filter((c) => CHANNEL_CIPHER_SPECS[c].weakness !== null);

/** The byte fields of a protected record; empty buffers where the cipher has none. */
export interface RecordParts {
  /** AEAD nonce (12 bytes) or CBC IV (16 bytes) */
  iv: Buffer;
  /** ciphertext (for `null`: the plaintext) */
  ct: Buffer;
  /** AEAD tag (16 bytes) or HMAC-SHA256 (32 bytes) */
  tag: Buffer;
}

/** The record keys of one direction (see `kdf.ts`). */
export interface RecordKeys {
  encKey: Buffer;
  macKey: Buffer;
}

const EMPTY = Buffer.alloc(0);

/** GCM and ChaCha20-Poly1305 share node's AEAD interface (setAAD, getAuthTag, setAuthTag); one type covers both. */
function aeadAlgorithm(cipher: ChannelCipher): CipherGCMTypes {
  return cipher as CipherGCMTypes;
}

function cbcHmacTag(macKey: Buffer, aad: Buffer, iv: Buffer, ct: Buffer): Buffer {
  return createHmac('sha256', macKey).update(aad).update(iv).update(ct).digest();
}

/**
 * Protects one record.
 * @param cipher    the negotiated cipher
 * @param keys      this direction's keys
 * @param plaintext the bytes to protect
 * @param aad       associated data bound into the tag/MAC (ignored by `aes-128-cbc` and `null`)
 * @param iv        a fresh random nonce/IV of `ivBytes` length (empty for `null`)
 * @throws RangeError when the key or IV length does not match the table (a bug in the caller)
 */
export function sealRecord(cipher: ChannelCipher, keys: RecordKeys, plaintext: Buffer, aad: Buffer, iv: Buffer): RecordParts {
  const spec = CHANNEL_CIPHER_SPECS[cipher];
  if (keys.encKey.length !== spec.keyBytes || keys.macKey.length !== spec.macKeyBytes || iv.length !== spec.ivBytes) {
    throw new RangeError(`sealRecord(${cipher}): key ${keys.encKey.length}/${spec.keyBytes}, mac key ${keys.macKey.length}/${spec.macKeyBytes}, iv ${iv.length}/${spec.ivBytes} bytes`);
  }
  switch (spec.kind) {
    case 'aead': {
      const c = createCipheriv(aeadAlgorithm(cipher), keys.encKey, iv, { authTagLength: spec.tagBytes });
      c.setAAD(aad, { plaintextLength: plaintext.length });
      const ct = Buffer.concat([c.update(plaintext), c.final()]);
      return { iv, ct, tag: c.getAuthTag() };
    }
    case 'cbc-hmac': {
      const c = createCipheriv('aes-128-cbc', keys.encKey, iv);
      const ct = Buffer.concat([c.update(plaintext), c.final()]);
      return { iv, ct, tag: cbcHmacTag(keys.macKey, aad, iv, ct) };
    }
    case 'cbc':
      return { iv, ct: insecureCbcEncrypt(keys.encKey, iv, plaintext), tag: EMPTY };
    case 'null':
      return { iv: EMPTY, ct: insecureNullSeal(plaintext), tag: EMPTY };
  }
}

/**
 * Opens one record. Returns null (never throws) for a well-formed record that fails its check, so
 * the caller raises the error (STYLE rule 5).
 * @param cipher the negotiated cipher
 * @param keys   the sending direction's keys
 * @param parts  the record's fields; lengths must already be checked against the table
 * @param aad    the same associated data the sender bound
 * @returns the plaintext, or null when the tag/MAC (or, for `aes-128-cbc`, the padding) is wrong
 */
export function openRecord(cipher: ChannelCipher, keys: RecordKeys, parts: RecordParts, aad: Buffer): Buffer | null {
  const spec = CHANNEL_CIPHER_SPECS[cipher];
  if (parts.iv.length !== spec.ivBytes || parts.tag.length !== spec.tagBytes) return null;
  switch (spec.kind) {
    case 'aead': {
      try {
        // authTagLength pins the tag length: without it node accepts a truncated tag (4+ bytes).
        const d = createDecipheriv(aeadAlgorithm(cipher), keys.encKey, parts.iv, { authTagLength: spec.tagBytes });
        d.setAuthTag(parts.tag);
        d.setAAD(aad, { plaintextLength: parts.ct.length });
        return Buffer.concat([d.update(parts.ct), d.final()]);
      } catch {
        return null;
      }
    }
    case 'cbc-hmac': {
      const expected = cbcHmacTag(keys.macKey, aad, parts.iv, parts.ct);
      if (!timingSafeEqual(expected, parts.tag)) return null;
      try {
        const d = createDecipheriv('aes-128-cbc', keys.encKey, parts.iv);
        return Buffer.concat([d.update(parts.ct), d.final()]);
      } catch {
        return null; // cannot happen for a record we sealed: the MAC already matched
      }
    }
    case 'cbc':
      if (parts.ct.length === 0 || parts.ct.length % AES_BLOCK_BYTES !== 0) return null;
      return insecureCbcDecrypt(keys.encKey, parts.iv, parts.ct);
    case 'null':
      return Buffer.from(parts.ct);
  }
}
