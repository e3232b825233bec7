/**
 * Challenge–response login, server side (`auth.method: challenge`; proof defined in
 * core/auth-proof.ts, frames in docs/protocol.md). Sans-I/O: the session hands in frames and gets
 * back the frame to send or an error to answer with.
 *
 * - `auth_challenge {username}` → `challenge {username, nonce, storage, salt, params}`. The nonce is
 *   bound to the connection that asked, single-use (consumed by the next login attempt, right or
 *   wrong) and expires after `ttlMs`; asking again replaces it.
 * - `login {username, proof}` → the proof is recomputed with the stored verifier key and compared
 *   in constant time. The server does no password hashing here: the key is the stored value.
 * - For a username with no account the challenge looks like a real one: same storage and scrypt
 *   parameters, and a salt derived from the name under a per-server secret (so it is stable across
 *   asks, like a real salt) — the challenge does not tell who has an account.
 */
import { createHmac, randomBytes as nodeRandomBytes } from 'node:crypto';
import type { Frame } from '../core/frames.ts';
import { CHALLENGE_NONCE_BYTES, LOGIN_PROOF_BYTES, base64Of, verifyLoginProof, type ScryptParams, type VerifierStorage } from '../core/auth-proof.ts';
import { PROTOCOL_ERRORS, stringField, type ProtocolErrorCode } from '../core/protocol.ts';
import { normalizeUsername } from '../core/usernames.ts';
import { SCRYPT_PARAMS, type StoredUser } from './user-store.ts';

/**
 * Where challenges look accounts up: a UserStore (synchronous) or the server's AccountStore
 * (server/account-store.ts: asynchronous, never blocks on the database lock; may reject with
 * AccountDbBusyError, which the session answers with accounts_busy).
 */
export interface AccountLookup {
  get(username: string): StoredUser | undefined | Promise<StoredUser | undefined>;
}

/** How long a challenge stays usable, in ms: long enough for a client's scrypt, short enough to stay fresh. */
export const DEFAULT_CHALLENGE_TTL_MS = 30_000;

/** Label of the HMAC that derives fake salts for names with no account. */
const FAKE_SALT_LABEL = 'secchat-fake-salt';

/** Options of {@link ChallengeAuth}; every field is optional. */
export interface ChallengeAuthOptions {
  /** challenge lifetime in ms (default {@link DEFAULT_CHALLENGE_TTL_MS}) */
  ttlMs?: number;
  /** clock in ms since the epoch (default Date.now); injected by tests */
  now?: () => number;
  /** random source for nonces (default node:crypto randomBytes); injected by tests */
  randomBytes?: (n: number) => Buffer;
  /** key of the fake-salt HMAC (default 32 random bytes, i.e. per server start) */
  secret?: Buffer;
}

/** A challenge issued and not yet used. */
interface Pending {
  username: string;
  nonce: Buffer;
  expiresAtMs: number;
}

/** An answer to a request: a frame to send, or an error code and sentence. */
export type ChallengeReply = { ok: true; frame: Frame } | { ok: false; code: ProtocolErrorCode; message: string };
/** The result of a proof login. */
export type ProofLoginResult = { ok: true; username: string } | { ok: false; code: ProtocolErrorCode; message: string };

/** The verifier key a stored row holds (see core/auth-proof.ts): the value a proof is keyed with. */
export function storedVerifierKey(row: Pick<StoredUser, 'storage' | 'hash'>): Buffer {
  return row.storage === 'plaintext' ? Buffer.from(row.hash) /* UTF-8 */ : Buffer.from(row.hash, 'hex');
}

/** What a challenge says about a stored row: storage, salt (hex) and scrypt parameters. */
function specOfRow(row: StoredUser): { storage: VerifierStorage; salt: string; params: ScryptParams | null } {
  if (row.storage !== 'scrypt') return { storage: row.storage, salt: '', params: null };
  const { N, r, p } = JSON.parse(row.params) as { N: number; r: number; p: number };
  return { storage: 'scrypt', salt: row.salt, params: { N, r, p, dkLen: row.hash.length / 2 } };
}

/**
 * Issues and checks login challenges for one server. One instance per server; per-connection state
 * is keyed by the session object (a WeakMap, so a closed connection's challenge goes with it).
 */
export class ChallengeAuth {
  private readonly users: AccountLookup;
  private readonly storage: VerifierStorage;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly random: (n: number) => Buffer;
  private readonly secret: Buffer;
  private readonly pending = new WeakMap<object, Pending>();

  /**
   * @param users   the account store
   * @param storage the profile's auth.storage: what fake challenges for unknown names look like
   * @throws RangeError when ttlMs is not a positive integer
   */
  constructor(users: AccountLookup, storage: VerifierStorage, opts: ChallengeAuthOptions = {}) {
    const ttlMs = opts.ttlMs ?? DEFAULT_CHALLENGE_TTL_MS;
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`ChallengeAuth: ttlMs must be a positive integer of ms (got ${ttlMs})`);
    this.users = users;
    this.storage = storage;
    this.ttlMs = ttlMs;
    this.now = opts.now ?? Date.now;
    this.random = opts.randomBytes ?? nodeRandomBytes;
    this.secret = opts.secret ?? nodeRandomBytes(32);
  }

  /** What a challenge for a name with no account says: the profile's storage, a stable fake salt. */
  private fakeSpec(username: string): { storage: VerifierStorage; salt: string; params: ScryptParams | null } {
    if (this.storage !== 'scrypt') return { storage: this.storage, salt: '', params: null };
    const salt = createHmac('sha256', this.secret).update(`${FAKE_SALT_LABEL}\0${username}`).digest().subarray(0, SCRYPT_PARAMS.saltBytes);
    const { N, r, p, keyBytes } = SCRYPT_PARAMS;
    return { storage: 'scrypt', salt: salt.toString('hex'), params: { N, r, p, dkLen: keyBytes } };
  }

  /**
   * Answers `auth_challenge {username}` on the connection `conn`, replacing any earlier challenge.
   * @returns the `challenge` frame, or invalid_username
   * @throws whatever the account lookup throws (AccountDbBusyError)
   */
  async issue(conn: object, frame: Frame): Promise<ChallengeReply> {
    const name = normalizeUsername(stringField(frame, 'username') ?? '');
    if (!name.ok) return { ok: false, code: PROTOCOL_ERRORS.invalidUsername, message: name.error };
    const nonce = this.random(CHALLENGE_NONCE_BYTES);
    if (nonce.length !== CHALLENGE_NONCE_BYTES) throw new RangeError(`ChallengeAuth: randomBytes returned ${nonce.length} bytes, not ${CHALLENGE_NONCE_BYTES}`);
    const row = await this.users.get(name.username);
    const spec = row ? specOfRow(row) : this.fakeSpec(name.username);
    this.pending.set(conn, { username: name.username, nonce, expiresAtMs: this.now() + this.ttlMs });
    return { ok: true, frame: { type: 'challenge', username: name.username, nonce: nonce.toString('base64'), ...spec } };
  }

  /**
   * Checks `login {username, proof}` on the connection `conn`. Any attempt consumes the connection's
   * challenge, so a proof can be tried once.
   * @returns the normalized username, or an error: bad_request (a password instead of a proof, or a
   *   malformed proof), invalid_username, stale_challenge (none outstanding for that name on this
   *   connection, or expired), bad_credentials (wrong proof or no such account — not said which)
   * @throws whatever the account lookup throws (AccountDbBusyError); the challenge is consumed all the same
   */
  async login(conn: object, frame: Frame): Promise<ProofLoginResult> {
    const pending = this.pending.get(conn);
    this.pending.delete(conn);
    if (frame.password !== undefined) {
      return { ok: false, code: PROTOCOL_ERRORS.badRequest, message: 'this server uses challenge-response login (auth: challenge) and refuses passwords in login: send auth_challenge, then login with "proof"' };
    }
    const name = normalizeUsername(stringField(frame, 'username') ?? '');
    if (!name.ok) return { ok: false, code: PROTOCOL_ERRORS.invalidUsername, message: name.error };
    const proof = base64Of(frame.proof, LOGIN_PROOF_BYTES);
    if (!proof) return { ok: false, code: PROTOCOL_ERRORS.badRequest, message: `login needs "proof": base64 of ${LOGIN_PROOF_BYTES} bytes (HMAC-SHA256)` };
    if (!pending || pending.username !== name.username) {
      return { ok: false, code: PROTOCOL_ERRORS.staleChallenge, message: `no challenge outstanding for ${name.username} on this connection (never issued, already used, or replaced): send auth_challenge first` };
    }
    if (this.now() > pending.expiresAtMs) {
      return { ok: false, code: PROTOCOL_ERRORS.staleChallenge, message: `the challenge expired (challenges last ${this.ttlMs} ms): send auth_challenge again` };
    }
    const row = await this.users.get(name.username);
    // A missing account is checked against a random key, so both failures take the same path.
    const key = row ? storedVerifierKey(row) : nodeRandomBytes(32);
    // The row test is belt and braces: without it a proof would have to match 32 fresh random key
    // bytes (so its mutation to `true` survives, equivalent: docs/testing.md).
    const good = verifyLoginProof(key, pending.nonce, name.username, proof) && row !== undefined;
    return good ? { ok: true, username: name.username } : { ok: false, code: PROTOCOL_ERRORS.badCredentials, message: 'wrong username or password' };
  }
}
