/**
 * Deliberately insecure record protection, quarantined here so no one picks it up by accident:
 *
 * - `aes-128-cbc` without a MAC (AES-CBC, NIST SP 800-38A; PKCS#7 padding, RFC 5652 §6.3).
 *   Confidential against a passive eavesdropper, but nothing checks integrity. CBC decrypts block i
 *   as P[i] = D(C[i]) XOR C[i-1] (with C[-1] = IV), so XOR-ing a delta into C[i-1] XORs the same
 *   delta into P[i] and turns P[i-1] into noise; a delta in the IV rewrites P[0] cleanly. Whoever
 *   knows (or guesses) the plaintext can rewrite it without the key. The padding check is also the
 *   only check, which makes a padding oracle (Vaudenay 2002) possible.
 * - `null`: no encryption and no MAC; the record is the plaintext.
 *
 * The negotiating code warns whenever one of these is chosen (see `policy.ts`); the cipher table in
 * `ciphers.ts` names the weakness of each.
 * @module
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

/** AES block size in bytes; also the CBC IV length. */
export const AES_BLOCK_BYTES = 16;

/**
 * INSECURE: AES-128-CBC with PKCS#7 padding and no MAC.
 * @param key 16 bytes
 * @param iv  16 bytes, must be unpredictable (random per record)
 * @returns the ciphertext, a multiple of 16 bytes, at least one block
 */
export function insecureCbcEncrypt(key: Buffer, iv: Buffer, plaintext: Buffer): Buffer {
  const c = createCipheriv('aes-128-cbc', key, iv);
  return Buffer.concat([c.update(plaintext), c.final()]);
}

/**
 * INSECURE: inverse of {@link insecureCbcEncrypt}. Any ciphertext with valid padding decrypts:
 * there is no way to tell an altered record from the original.
 * @returns the plaintext, or null when the padding is invalid
 */
export function insecureCbcDecrypt(key: Buffer, iv: Buffer, ciphertext: Buffer): Buffer | null {
  try {
    const d = createDecipheriv('aes-128-cbc', key, iv);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  } catch {
    return null;
  }
}

/** INSECURE: the `null` cipher's "encryption": the plaintext, copied. */
export function insecureNullSeal(plaintext: Buffer): Buffer {
  return Buffer.from(plaintext);
}
