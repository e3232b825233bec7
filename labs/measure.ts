/**
 * A tiny on-the-spot measurement of asymmetric vs symmetric crypto speed for lab 05, with
 * node:crypto: RSA-2048 OAEP (RFC 8017 §7.1) against AES-256-GCM (NIST SP 800-38D), timed by
 * bench/crypto.ts (one short run each instead of the benchmark's medians). It informs the student; it never decides a verdict.
 * The full benchmark is `secchat bench crypto`.
 */
import { benchCrypto } from '../bench/crypto.ts';

/** What {@link measureCryptoSpeed} reports. */
export interface CryptoSpeed {
  /** RSA-2048 OAEP-SHA256 encryptions of a 190-byte message per second */
  rsaEncryptPerSec: number;
  /** RSA-2048 OAEP-SHA256 decryptions (private key) per second */
  rsaDecryptPerSec: number;
  /** AES-256-GCM throughput on 16 KiB chunks, MiB (2^20 bytes) per second */
  aesGcmMiBPerSec: number;
  /** bytes one RSA-2048 OAEP-SHA256 operation can carry at most (256 − 2·32 − 2) */
  rsaMaxPlaintextBytes: number;
  /** how many times more data per second AES moves than RSA private-key operations could, in 190-byte blocks */
  aesOverRsaRatio: number;
}

/**
 * Measures RSA and AES on this machine with the benchmark's own code (bench/crypto.ts): AES-256-GCM
 * on 16 KiB chunks (a TLS record's worth), RSA on 190-byte messages.
 * @param budgetMs time spent on each of the four measurements, ms (default 150)
 */
export function measureCryptoSpeed(budgetMs = 150): CryptoSpeed {
  const c = benchCrypto({ repeats: 1, durationMs: budgetMs });
  return {
    rsaEncryptPerSec: c.rsaOaep2048.encryptOpsPerSec,
    rsaDecryptPerSec: c.rsaOaep2048.decryptOpsPerSec,
    aesGcmMiBPerSec: Math.round(c.aes256gcm.bulkBytesPerSec / 2 ** 20),
    rsaMaxPlaintextBytes: c.rsaOaep2048.maxPlaintextBytes,
    aesOverRsaRatio: Math.round(c.ratios.bulkVsRsaDecrypt),
  };
}
