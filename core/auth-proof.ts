/**
 * Challenge–response login (`auth.method: challenge`): the proof both sides compute, and the
 * checks a client makes on the server's challenge. Pure functions; the server's nonce bookkeeping
 * is server/challenge-auth.ts, the frames are documented in docs/protocol.md.
 *
 *   proof = HMAC-SHA256(K, "secchat-login" ‖ nonce ‖ username)        (HMAC: RFC 2104)
 *
 * where K is the *verifier key* the server stores for the account:
 *   plaintext → the UTF-8 password; sha256 → SHA-256(password) (32 bytes);
 *   scrypt    → scrypt(password, salt, N, r, p, dkLen)  (RFC 7914).
 * The nonce has a fixed length (32 bytes), so the concatenation is unambiguous.
 *
 * Caveat (the lesson, not an accident): K is password-equivalent — whoever steals the database can
 * compute proofs without cracking anything. SCRAM (RFC 5802) and OPAQUE (RFC 9807) avoid that.
 */
import { createHash, createHmac, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ERROR_CODES, SecchatError } from './errors.ts';

const scrypt = promisify(scryptCb) as (password: string | Buffer, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** Domain-separation label at the start of every proof's message. */
export const LOGIN_PROOF_LABEL = 'secchat-login';
/** Length of a challenge nonce, in bytes (sent base64). */
export const CHALLENGE_NONCE_BYTES = 32;
/** Length of a proof (HMAC-SHA256 output), in bytes (sent base64). */
export const LOGIN_PROOF_BYTES = 32;

/** How a password is stored, weakest first (the order clients use to refuse a downgrade). */
export const STORAGE_STRENGTH = ['plaintext', 'sha256', 'scrypt'] as const;
export type VerifierStorage = (typeof STORAGE_STRENGTH)[number];

/** scrypt parameters carried in a challenge (RFC 7914 §2 names: N cost, r block size, p parallelism, dkLen bytes). */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  dkLen: number;
}

/**
 * Bounds a client accepts on scrypt parameters from a server. The floor stops a server (or a
 * man-in-the-middle on an unauthenticated transport) from asking for a cheap derivation and then
 * cracking the proof offline at high speed; the ceiling stops it making the client burn memory.
 */
export const SCRYPT_PARAM_LIMITS = { minN: 16384, maxMemBytes: 256 * 1024 * 1024, maxP: 4, minDkLen: 16, maxDkLen: 64 } as const;

/** node's scrypt `maxmem`: the 128·N·r bytes allowed above, plus room for its own bookkeeping. */
const SCRYPT_MAXMEM_BYTES = SCRYPT_PARAM_LIMITS.maxMemBytes + 1024 * 1024;

/** What a challenge tells the client about how to derive its verifier key. */
export interface VerifierSpec {
  storage: VerifierStorage;
  /** salt bytes (empty for plaintext and sha256) */
  salt: Buffer;
  /** present for scrypt only */
  params?: ScryptParams;
}

/**
 * The message a proof authenticates: label ‖ nonce ‖ username (UTF-8).
 * @throws RangeError when the nonce is not {@link CHALLENGE_NONCE_BYTES} long
 */
export function proofMessage(nonce: Buffer, username: string): Buffer {
  if (nonce.length !== CHALLENGE_NONCE_BYTES) throw new RangeError(`proofMessage: nonce must be ${CHALLENGE_NONCE_BYTES} bytes (got ${nonce.length})`);
  return Buffer.concat([Buffer.from(LOGIN_PROOF_LABEL), nonce, Buffer.from(username)]); // strings: UTF-8
}

/**
 * Computes a login proof, HMAC-SHA256 (RFC 2104) of {@link proofMessage} under the verifier key.
 * @param key      the verifier key (see the file header)
 * @param nonce    the server's 32-byte nonce
 * @param username the normalized username
 * @returns 32 bytes
 * @example loginProof(Buffer.from('dragon2024'), nonce, 'alice').toString('base64')
 */
export function loginProof(key: Buffer, nonce: Buffer, username: string): Buffer {
  return createHmac('sha256', key).update(proofMessage(nonce, username)).digest();
}

/**
 * Checks a proof in constant time.
 * @returns true when `proof` is the proof of `key` for this nonce and username; false for any other
 *   input, including a proof of the wrong length (never throws for wrong input)
 */
export function verifyLoginProof(key: Buffer, nonce: Buffer, username: string, proof: Buffer): boolean {
  const expected = loginProof(key, nonce, username);
  return proof.length === expected.length && timingSafeEqual(proof, expected);
}

/**
 * Derives the verifier key from a password, as the server derived it at registration.
 * @returns plaintext: the UTF-8 password; sha256: its 32-byte digest; scrypt: dkLen bytes
 * @throws RangeError when scrypt parameters are missing
 */
export async function deriveVerifierKey(password: string, spec: VerifierSpec): Promise<Buffer> {
  switch (spec.storage) {
    case 'plaintext':
      return Buffer.from(password); // UTF-8
    case 'sha256':
      return createHash('sha256').update(password).digest(); // of the UTF-8 bytes
    case 'scrypt': {
      if (!spec.params) throw new RangeError('deriveVerifierKey: scrypt needs params {N, r, p, dkLen}');
      const { N, r, p, dkLen } = spec.params;
      return scrypt(password, spec.salt, dkLen, { N, r, p, maxmem: SCRYPT_MAXMEM_BYTES });
    }
  }
}

/** A parsed `challenge` frame. */
export interface Challenge extends VerifierSpec {
  username: string;
  nonce: Buffer;
}

/** Base64 of exactly `bytes` bytes, or null. */
export function base64Of(value: unknown, bytes: number): Buffer | null {
  if (typeof value !== 'string') return null;
  // Node's decoder skips what is not base64; the round trip refuses that, other alphabets and
  // non-canonical spellings in one comparison.
  const buf = Buffer.from(value, 'base64');
  return buf.length === bytes && buf.toString('base64') === value ? buf : null;
}

/**
 * Reads a `challenge` frame and checks it against what the client will accept: the username it
 * asked about, a 32-byte nonce, a storage no weaker than `minStorage` (the client's own profile —
 * so nobody in the path can pick a cheap verifier and crack the proof offline), and scrypt
 * parameters within {@link SCRYPT_PARAM_LIMITS}.
 * @throws SecchatError PROTOCOL (details.reason says which check failed)
 */
export function parseChallenge(frame: Record<string, unknown>, expectedUsername: string, minStorage: VerifierStorage): Challenge {
  const fail = (reason: string): never => {
    throw new SecchatError(ERROR_CODES.PROTOCOL, `refusing the server's login challenge: ${reason}`, { reason });
  };
  if (frame.username !== expectedUsername) fail(`it names user ${JSON.stringify(frame.username)}, not ${JSON.stringify(expectedUsername)}`);
  const nonce = base64Of(frame.nonce, CHALLENGE_NONCE_BYTES) ?? fail(`the nonce is not base64 of ${CHALLENGE_NONCE_BYTES} bytes`);
  const storage = frame.storage as VerifierStorage;
  if (!STORAGE_STRENGTH.includes(storage)) fail(`unknown storage ${JSON.stringify(frame.storage)}`);
  if (STORAGE_STRENGTH.indexOf(storage) < STORAGE_STRENGTH.indexOf(minStorage)) {
    fail(`it asks for a ${storage} verifier, weaker than this profile's auth.storage (${minStorage}); a proof under it could be cracked offline`);
  }
  if (storage !== 'scrypt') return { username: expectedUsername, nonce, storage, salt: Buffer.alloc(0) };
  const salt = typeof frame.salt === 'string' && /^([0-9a-f]{2}){8,64}$/.test(frame.salt) ? Buffer.from(frame.salt, 'hex') : fail('the scrypt salt is not 8 to 64 hex bytes');
  const raw = (frame.params ?? {}) as Record<string, unknown>;
  const [N, r, p, dkLen] = [raw.N, raw.r, raw.p, raw.dkLen].map((v) => (Number.isSafeInteger(v) ? (v as number) : NaN));
  const L = SCRYPT_PARAM_LIMITS;
  const powerOfTwo = (N & (N - 1)) === 0; // with N >= minN below, so 0 and 1 never pass
  if (!(powerOfTwo && N >= L.minN && r >= 1 && 128 * N * r <= L.maxMemBytes && p >= 1 && p <= L.maxP && dkLen >= L.minDkLen && dkLen <= L.maxDkLen)) {
    fail(`scrypt params ${JSON.stringify(raw)} are outside N=2^k >= ${L.minN}, 128·N·r <= ${L.maxMemBytes / 2 ** 20} MiB, p 1-${L.maxP}, dkLen ${L.minDkLen}-${L.maxDkLen}`);
  }
  return { username: expectedUsername, nonce, storage, salt, params: { N, r, p, dkLen } };
}
