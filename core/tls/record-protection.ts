/**
 * TLS 1.0–1.2 record protection, pure functions over buffers: decryption for AES-GCM (RFC 5288 §3,
 * RFC 5246 §6.2.3.3), ChaCha20-Poly1305 (RFC 7905 §2) and AES-CBC with HMAC, MAC-then-encrypt
 * (RFC 5246 §6.2.3.2, RFC 4346, RFC 2246) or encrypt-then-MAC (RFC 7366 §3), and the inverse for
 * tests and fixtures. Keys come from `prf.ts`.
 *
 * Used offline by the retro-decrypt attack: nothing here is constant-time, because it is never run
 * against a live peer. A MAC or tag that does not verify is a `false`-style result, not a throw
 * (STYLE.md lesson 5).
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { HASH_BYTES, type BulkCipher, type HashName } from './cipher-suites.ts';
import { NODE_HASH, type DirectionKeys } from './prf.ts';

/** Outcome of unprotecting one record: the plaintext, or why it did not verify. */
export type UnprotectResult = { ok: true; plaintext: Buffer } | { ok: false; reason: string };

/** Parameters of one direction's record protection. */
export interface RecordProtection {
  version: number;
  cipher: BulkCipher;
  /** MAC hash for CBC suites, null for AEAD. */
  mac: HashName | null;
  keys: DirectionKeys;
  /** RFC 7366 encrypt_then_mac was negotiated (only changes CBC suites). */
  encryptThenMac: boolean;
}

const NODE_CIPHER: Record<BulkCipher, string> = {
  'AES-128-GCM': 'aes-128-gcm',
  'AES-256-GCM': 'aes-256-gcm',
  'AES-128-CBC': 'aes-128-cbc',
  'AES-256-CBC': 'aes-256-cbc',
  'CHACHA20-POLY1305': 'chacha20-poly1305',
};

function seqBytes(seq: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(seq);
  return b;
}

/** seq_num + type + version + length: the MAC / AAD prefix of RFC 5246 §6.2.3.1 and §6.2.3.3. */
function additionalData(seq: bigint, type: number, version: number, length: number): Buffer {
  const b = Buffer.alloc(13);
  b.writeBigUInt64BE(seq, 0);
  b[8] = type;
  b.writeUInt16BE(version, 9);
  b.writeUInt16BE(length, 11);
  return b;
}

function macEquals(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Decrypts the records of one direction in order, keeping the sequence number (RFC 5246 §6.1) —
 * and, for TLS 1.0 CBC, the IV chained from the previous record (RFC 2246 §6.2.3.2).
 * `unprotect` never throws for wrong input: a bad tag, MAC or padding gives `{ ok: false }`.
 */
export class RecordDecryptor {
  private seq = 0n;
  private chainedIv: Buffer;
  constructor(private readonly p: RecordProtection) {
    this.chainedIv = p.keys.iv;
  }

  /** Sequence number the next record will be decrypted with. */
  get sequenceNumber(): bigint {
    return this.seq;
  }

  /**
   * Unprotect one record's fragment.
   * @param type    the record's content type (authenticated)
   * @param version the record's version field as on the wire (authenticated)
   */
  unprotect(type: number, version: number, fragment: Buffer): UnprotectResult {
    const seq = this.seq++;
    const { cipher } = this.p;
    if (cipher === 'AES-128-GCM' || cipher === 'AES-256-GCM') return this.aead(seq, type, version, fragment, 8);
    if (cipher === 'CHACHA20-POLY1305') return this.aead(seq, type, version, fragment, 0);
    return this.cbc(seq, type, version, fragment);
  }

  private aead(seq: bigint, type: number, version: number, fragment: Buffer, explicitBytes: number): UnprotectResult {
    const tagBytes = 16;
    if (fragment.length < explicitBytes + tagBytes) return { ok: false, reason: `AEAD record of ${fragment.length} bytes is too short` };
    let nonce: Buffer;
    if (explicitBytes > 0) {
      // RFC 5288 §3: nonce = salt (4 bytes from the key block) + nonce_explicit (8 bytes, in the record).
      nonce = Buffer.concat([this.p.keys.iv, fragment.subarray(0, explicitBytes)]);
    } else {
      // RFC 7905 §2: the 64-bit sequence number, left-padded, XORed into the 12-byte IV.
      nonce = Buffer.from(this.p.keys.iv);
      const s = seqBytes(seq);
      for (let i = 0; i < 8; i++) nonce[4 + i]! ^= s[i]!;
    }
    const body = fragment.subarray(explicitBytes, fragment.length - tagBytes);
    const tag = fragment.subarray(fragment.length - tagBytes);
    const d = createDecipheriv(NODE_CIPHER[this.p.cipher] as 'aes-128-gcm', this.p.keys.key, nonce, { authTagLength: tagBytes });
    d.setAAD(additionalData(seq, type, version, body.length));
    d.setAuthTag(tag);
    const plaintext = d.update(body);
    try {
      d.final();
    } catch {
      return { ok: false, reason: `AEAD tag does not verify (seq ${seq})` };
    }
    return { ok: true, plaintext };
  }

  private cbc(seq: bigint, type: number, version: number, fragment: Buffer): UnprotectResult {
    const mac = this.p.mac!;
    const macBytes = HASH_BYTES[mac];
    const block = 16;
    const explicitIv = this.p.version >= 0x0302;
    const ivBytes = explicitIv ? block : 0;
    let protectedPart = fragment;
    if (this.p.encryptThenMac) {
      // RFC 7366 §3: MAC(seq + type + version + length(IV + ciphertext) + IV + ciphertext) follows.
      if (fragment.length < ivBytes + block + macBytes) return { ok: false, reason: `CBC record of ${fragment.length} bytes is too short` };
      protectedPart = fragment.subarray(0, fragment.length - macBytes);
      const want = createHmac(NODE_HASH[mac], this.p.keys.macKey)
        .update(additionalData(seq, type, version, protectedPart.length))
        .update(protectedPart)
        .digest();
      if (!macEquals(want, fragment.subarray(fragment.length - macBytes))) return { ok: false, reason: `record MAC does not verify (seq ${seq}, encrypt-then-MAC)` };
    }
    const iv = explicitIv ? protectedPart.subarray(0, block) : this.chainedIv;
    const ciphertext = protectedPart.subarray(ivBytes);
    if (ciphertext.length === 0 || ciphertext.length % block !== 0) {
      return { ok: false, reason: `CBC ciphertext of ${ciphertext.length} bytes is not a whole number of blocks` };
    }
    if (!explicitIv) this.chainedIv = Buffer.from(ciphertext.subarray(ciphertext.length - block));
    const d = createDecipheriv(NODE_CIPHER[this.p.cipher], this.p.keys.key, iv).setAutoPadding(false);
    const padded = Buffer.concat([d.update(ciphertext), d.final()]);
    // RFC 5246 §6.2.3.2: content + MAC + padding + padding_length, each padding byte = padding_length.
    const padLen = padded[padded.length - 1]!;
    const trailer = this.p.encryptThenMac ? padLen + 1 : padLen + 1 + macBytes;
    if (trailer > padded.length) return { ok: false, reason: `CBC padding length ${padLen} is impossible (seq ${seq})` };
    for (let i = padded.length - 1 - padLen; i < padded.length - 1; i++) {
      if (padded[i] !== padLen) return { ok: false, reason: `CBC padding bytes are wrong (seq ${seq})` };
    }
    const content = padded.subarray(0, padded.length - trailer);
    if (!this.p.encryptThenMac) {
      const got = padded.subarray(content.length, content.length + macBytes);
      const want = createHmac(NODE_HASH[mac], this.p.keys.macKey).update(additionalData(seq, type, version, content.length)).update(content).digest();
      if (!macEquals(want, got)) return { ok: false, reason: `record MAC does not verify (seq ${seq})` };
    }
    return { ok: true, plaintext: Buffer.from(content) };
  }
}

/**
 * Protect one record — the inverse of {@link RecordDecryptor}, for round-trip tests of this module
 * and for lab fixtures. Explicit IVs / nonces are taken from `explicit` so output is reproducible.
 * @param explicit GCM: 8-byte nonce_explicit; CBC (TLS ≥ 1.1): 16-byte IV; ignored otherwise
 */
export function protectRecord(p: RecordProtection, seq: bigint, type: number, version: number, plaintext: Buffer, explicit: Buffer): Buffer {
  if (p.cipher === 'AES-128-GCM' || p.cipher === 'AES-256-GCM' || p.cipher === 'CHACHA20-POLY1305') {
    let nonce: Buffer;
    let prefix: Buffer = Buffer.alloc(0);
    if (p.cipher === 'CHACHA20-POLY1305') {
      nonce = Buffer.from(p.keys.iv);
      const s = seqBytes(seq);
      for (let i = 0; i < 8; i++) nonce[4 + i]! ^= s[i]!;
    } else {
      prefix = explicit.subarray(0, 8);
      nonce = Buffer.concat([p.keys.iv, prefix]);
    }
    const c = createCipheriv(NODE_CIPHER[p.cipher] as 'aes-128-gcm', p.keys.key, nonce, { authTagLength: 16 });
    c.setAAD(additionalData(seq, type, version, plaintext.length));
    const body = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([prefix, body, c.getAuthTag()]);
  }
  if (p.version < 0x0302) throw new RangeError('protectRecord: TLS 1.0 CBC needs IV chaining, not supported here');
  const mac = p.mac!;
  const iv = explicit.subarray(0, 16);
  const macOf = (len: number, ...parts: Buffer[]) => {
    const h = createHmac(NODE_HASH[mac], p.keys.macKey).update(additionalData(seq, type, version, len));
    for (const part of parts) h.update(part);
    return h.digest();
  };
  const inner = p.encryptThenMac ? plaintext : Buffer.concat([plaintext, macOf(plaintext.length, plaintext)]);
  const padLen = 15 - (inner.length % 16);
  const padded = Buffer.concat([inner, Buffer.alloc(padLen + 1, padLen)]);
  const c = createCipheriv(NODE_CIPHER[p.cipher], p.keys.key, iv).setAutoPadding(false);
  const enc = Buffer.concat([iv, c.update(padded), c.final()]);
  return p.encryptThenMac ? Buffer.concat([enc, macOf(enc.length, enc)]) : enc;
}
