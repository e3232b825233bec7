/**
 * `secchat bench crypto`: the measured answer to "why not encrypt every chat message with RSA?".
 *
 * RSA-OAEP (RFC 8017 §7.1, SHA-256 and MGF1-SHA-256) with a 2048-bit key encrypts at most
 * k − 2·hLen − 2 = 256 − 64 − 2 = 190 bytes per operation, and decrypting is a private-key
 * operation (a modular exponentiation with a 2048-bit exponent). AES-256-GCM (NIST SP 800-38D)
 * encrypts any length at memory speed with AES-NI. Both are timed here through node:crypto
 * (OpenSSL) on 190-byte messages — RSA's best case — and AES-GCM also on 16 KiB chunks (a TLS
 * record's worth) for its bulk rate. This is why TLS, and our secure channel, use the public-key
 * step only to agree on a key, and a symmetric AEAD for every message.
 */
import { constants, createCipheriv, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { median } from './statistics.ts';
import type { CryptoResult } from './results.ts';

/** RSA modulus of the comparison, bits. */
export const RSA_BITS = 2048;
/** OAEP with SHA-256: k − 2·32 − 2 bytes of plaintext at most (RFC 8017 §7.1.1). */
export const OAEP_SHA256_MAX_BYTES = RSA_BITS / 8 - 2 * 32 - 2;
/** AES-GCM bulk chunk: the largest TLS record payload (RFC 8446 §5.1). */
export const BULK_CHUNK_BYTES = 16 * 1024;

/** Options of {@link benchCrypto}. */
export interface CryptoBenchOptions {
  /** Timed runs per operation; figures are medians. */
  repeats: number;
  /** Length of each timed run, ms. */
  durationMs: number;
}

/** Operations per second of `op`, run in batches until `durationMs` has passed. */
function opsPerSec(op: () => void, durationMs: number): number {
  let count = 0;
  const t0 = performance.now();
  let now = t0;
  // Batches of 8 keep the clock reads out of the figure for the fast operations.
  while (now - t0 < durationMs) {
    for (let i = 0; i < 8; i++) op();
    count += 8;
    now = performance.now();
  }
  return (count / (now - t0)) * 1000;
}

/** Times RSA-2048-OAEP and AES-256-GCM. Synchronous work in bounded runs. */
export function benchCrypto(opts: CryptoBenchOptions): CryptoResult {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: RSA_BITS });
  const oaep = (key: KeyObject) => ({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' });
  const message = randomBytes(OAEP_SHA256_MAX_BYTES);
  const ciphertext = publicEncrypt(oaep(publicKey), message);
  const aesKey = randomBytes(32);
  const bulk = randomBytes(BULK_CHUNK_BYTES);
  const gcm = (data: Buffer) => () => {
    const c = createCipheriv('aes-256-gcm', aesKey, randomBytes(12));
    c.update(data);
    c.final();
    c.getAuthTag();
  };
  const runs = (op: () => void) => median(Array.from({ length: opts.repeats }, () => opsPerSec(op, opts.durationMs)));
  const enc = runs(() => publicEncrypt(oaep(publicKey), message));
  const dec = runs(() => privateDecrypt(oaep(privateKey), ciphertext));
  const aesMsgs = runs(gcm(message));
  const aesBulk = runs(gcm(bulk));
  const B = OAEP_SHA256_MAX_BYTES;
  const r = (x: number) => Math.round(x);
  const ratio = (a: number, b: number) => Math.round((a / b) * 10) / 10;
  return {
    rsaOaep2048: { maxPlaintextBytes: B, encryptOpsPerSec: r(enc), decryptOpsPerSec: r(dec), encryptBytesPerSec: r(enc * B), decryptBytesPerSec: r(dec * B) },
    aes256gcm: { messageBytes: B, messagesPerSec: r(aesMsgs), bytesPerSec: r(aesMsgs * B), bulkChunkBytes: BULK_CHUNK_BYTES, bulkBytesPerSec: r(aesBulk * BULK_CHUNK_BYTES) },
    ratios: {
      bulkVsRsaEncrypt: ratio(aesBulk * BULK_CHUNK_BYTES, enc * B),
      bulkVsRsaDecrypt: ratio(aesBulk * BULK_CHUNK_BYTES, dec * B),
      perMessageVsRsaEncrypt: ratio(aesMsgs, enc),
      perMessageVsRsaDecrypt: ratio(aesMsgs, dec),
    },
  };
}
