/**
 * A tiny on-the-spot measurement of asymmetric vs symmetric crypto speed for lab 05, with
 * node:crypto: RSA-2048 OAEP (RFC 8017 §7.1) wrapping a 32-byte key, against AES-256-GCM
 * (NIST SP 800-38D) encrypting a 1 MiB buffer. It informs the student; it never decides a verdict.
 * The full benchmark is `secchat bench crypto`.
 */
import { constants, createCipheriv, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';

/** What {@link measureCryptoSpeed} reports. */
export interface CryptoSpeed {
  /** RSA-2048 OAEP-SHA256 encryptions of a 32-byte key per second */
  rsaEncryptPerSec: number;
  /** RSA-2048 OAEP-SHA256 decryptions (private key) per second */
  rsaDecryptPerSec: number;
  /** AES-256-GCM throughput, MiB per second */
  aesGcmMiBPerSec: number;
  /** bytes one RSA-2048 OAEP-SHA256 operation can carry at most (256 − 2·32 − 2) */
  rsaMaxPlaintextBytes: number;
  /** how many times more data per second AES moves than RSA private-key operations could, in 190-byte blocks */
  aesOverRsaRatio: number;
}

/** Runs `fn` repeatedly for about `budgetMs` and returns operations per second. */
function rate(fn: () => void, budgetMs: number): number {
  fn(); // warm-up: first calls pay for lazy initialisation
  let n = 0;
  const t0 = performance.now();
  let dt = 0;
  while ((dt = performance.now() - t0) < budgetMs) {
    fn();
    n++;
  }
  return (n * 1000) / dt;
}

/**
 * Measures RSA and AES on this machine.
 * @param budgetMs time spent on each of the three measurements, ms (default 150)
 */
export function measureCryptoSpeed(budgetMs = 150): CryptoSpeed {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
  const secret = randomBytes(32);
  const wrapped = publicEncrypt({ key: publicKey, ...oaep }, secret);
  const rsaEncryptPerSec = rate(() => publicEncrypt({ key: publicKey, ...oaep }, secret), budgetMs);
  const rsaDecryptPerSec = rate(() => privateDecrypt({ key: privateKey, ...oaep }, wrapped), budgetMs);
  const key = randomBytes(32);
  const data = randomBytes(1 << 20);
  const aesPerSec = rate(() => {
    const c = createCipheriv('aes-256-gcm', key, randomBytes(12));
    c.update(data);
    c.final();
    c.getAuthTag();
  }, budgetMs);
  const rsaMaxPlaintextBytes = 256 - 2 * 32 - 2;
  const rsaBytesPerSec = rsaDecryptPerSec * rsaMaxPlaintextBytes;
  return {
    rsaEncryptPerSec: Math.round(rsaEncryptPerSec),
    rsaDecryptPerSec: Math.round(rsaDecryptPerSec),
    aesGcmMiBPerSec: Math.round(aesPerSec),
    rsaMaxPlaintextBytes,
    aesOverRsaRatio: Math.round((aesPerSec * (1 << 20)) / rsaBytesPerSec),
  };
}
