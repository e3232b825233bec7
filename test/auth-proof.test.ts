/**
 * Challenge–response login, pure parts: the proof (HMAC-SHA256, RFC 2104) cross-checked against
 * openssl, verifier keys against the stored forms, the client's checks on a challenge, and the
 * server's nonce bookkeeping with an injected clock and random source.
 */
import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  CHALLENGE_NONCE_BYTES,
  LOGIN_PROOF_LABEL,
  deriveVerifierKey,
  loginProof,
  parseChallenge,
  proofMessage,
  verifyLoginProof,
  type VerifierStorage,
} from '../core/auth-proof.ts';
import { ChallengeAuth, storedVerifierKey } from '../server/challenge-auth.ts';
import { UserStore, hashPassword } from '../server/user-store.ts';

const NONCE = Buffer.alloc(CHALLENGE_NONCE_BYTES, 0xa5);
const STORAGES: VerifierStorage[] = ['plaintext', 'sha256', 'scrypt'];

/** A counter-based "random" source: the n-th call returns n-filled bytes. */
function countingRandom(): (n: number) => Buffer {
  let i = 0;
  return (n) => Buffer.alloc(n, ++i);
}

describe('login proof', () => {
  it('is HMAC-SHA256(key, "secchat-login" ‖ nonce ‖ username), as openssl computes it', () => {
    const key = Buffer.from('dragon2024');
    const proof = loginProof(key, NONCE, 'alice');
    const msg = Buffer.concat([Buffer.from(LOGIN_PROOF_LABEL), NONCE, Buffer.from('alice')]);
    expect(proofMessage(NONCE, 'alice')).toEqual(msg);
    expect(proof).toEqual(createHmac('sha256', key).update(msg).digest());
    const viaOpenssl = execFileSync('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${key.toString('hex')}`, '-r'], { input: msg }).toString().split(' ')[0];
    expect(proof.toString('hex')).toBe(viaOpenssl);
    // Pinned vector (computed once with openssl as above): a change of the proof format must be deliberate.
    expect(proof.toString('hex')).toBe('6579a2ae8a6962855fa0c2e2d84dfe780a30337ae16784fc1f4b2ced6be0e0d7');
  });

  it('verifies only the exact proof: every flipped bit, other nonce, other user, or length is refused', () => {
    const key = Buffer.from('k'.repeat(32));
    const proof = loginProof(key, NONCE, 'alice');
    expect(verifyLoginProof(key, NONCE, 'alice', proof)).toBe(true);
    for (let bit = 0; bit < proof.length * 8; bit++) {
      const bad = Buffer.from(proof);
      bad[bit >> 3] ^= 1 << (bit & 7);
      expect(verifyLoginProof(key, NONCE, 'alice', bad)).toBe(false);
    }
    expect(verifyLoginProof(key, Buffer.alloc(32, 1), 'alice', proof)).toBe(false);
    expect(verifyLoginProof(key, NONCE, 'bob', proof)).toBe(false);
    expect(verifyLoginProof(key, NONCE, 'alice', proof.subarray(0, 31))).toBe(false);
    expect(() => loginProof(key, Buffer.alloc(16), 'alice')).toThrow(RangeError);
  });

  it.each(STORAGES)('the key the client derives equals the key the server stores (%s)', async (storage) => {
    const row = await hashPassword('dragon2024', storage);
    const params = row.params ? { ...JSON.parse(row.params), dkLen: row.hash.length / 2 } : undefined;
    const key = await deriveVerifierKey('dragon2024', { storage, salt: Buffer.from(row.salt, 'hex'), params });
    expect(key).toEqual(storedVerifierKey(row));
    expect(await deriveVerifierKey('dragon2025', { storage, salt: Buffer.from(row.salt, 'hex'), params })).not.toEqual(key);
  });
});

describe('client checks on a challenge', () => {
  const good = { type: 'challenge', username: 'alice', nonce: NONCE.toString('base64'), storage: 'scrypt', salt: '00'.repeat(16), params: { N: 16384, r: 8, p: 1, dkLen: 32 } };
  it('accepts a well-formed challenge', () => {
    expect(parseChallenge(good, 'alice', 'scrypt')).toMatchObject({ storage: 'scrypt', params: { N: 16384 }, nonce: NONCE });
  });
  it.each([
    [{ username: 'mallory' }, 'scrypt', /names user "mallory"/],
    [{ nonce: Buffer.alloc(16).toString('base64') }, 'scrypt', /nonce is not base64 of 32 bytes/],
    [{ storage: 'md5' }, 'plaintext', /unknown storage "md5"/],
    [{ storage: 'sha256', salt: '' }, 'scrypt', /asks for a sha256 verifier, weaker than this profile's auth.storage \(scrypt\)/],
    [{ storage: 'plaintext', salt: '' }, 'sha256', /plaintext verifier, weaker/],
    [{ params: { N: 1024, r: 8, p: 1, dkLen: 32 } }, 'scrypt', /scrypt params .* outside/], // cheap: crackable offline
    [{ params: { N: 1 << 22, r: 8, p: 1, dkLen: 32 } }, 'scrypt', /outside/], // 4 GiB: a memory bomb
    [{ params: { N: 16383, r: 8, p: 1, dkLen: 32 } }, 'scrypt', /outside/],
    [{ salt: 'zz' }, 'scrypt', /salt is not/],
  ] as const)('refuses %j under a %s profile', (patch, floor, why) => {
    expect(() => parseChallenge({ ...good, ...patch }, 'alice', floor)).toThrow(why);
  });
  it('a stronger verifier than the profile asks for is fine', () => {
    expect(parseChallenge(good, 'alice', 'plaintext').storage).toBe('scrypt');
  });
});

describe('ChallengeAuth (server), clock and nonces injected', () => {
  async function setup(storage: VerifierStorage, ttlMs = 1000) {
    const users = new UserStore(':memory:', storage);
    await users.create('alice', 'dragon2024');
    let now = 1_000_000;
    const auth = new ChallengeAuth(users, storage, { ttlMs, now: () => now, randomBytes: countingRandom(), secret: Buffer.alloc(32, 7) });
    const prove = async (challenge: Record<string, unknown>, password = 'dragon2024') => {
      const c = parseChallenge(challenge, 'alice', 'plaintext');
      return loginProof(await deriveVerifierKey(password, c), c.nonce, 'alice').toString('base64');
    };
    return { users, auth, prove, tick: (ms: number) => (now += ms) };
  }

  it.each(STORAGES)('issues a deterministic challenge and accepts its proof once (%s)', async (storage) => {
    const { auth, prove } = await setup(storage);
    const conn = {};
    const r = auth.issue(conn, { type: 'auth_challenge', username: 'Alice' });
    if (!r.ok) throw new Error(r.message);
    expect(r.frame).toMatchObject({ type: 'challenge', username: 'alice', nonce: Buffer.alloc(32, 1).toString('base64'), storage });
    const proof = await prove(r.frame);
    expect(auth.login(conn, { type: 'login', username: 'alice', proof })).toEqual({ ok: true, username: 'alice' });
    // The same proof again on the same connection: the nonce was consumed.
    expect(auth.login(conn, { type: 'login', username: 'alice', proof })).toMatchObject({ ok: false, code: 'stale_challenge' });
  });

  it('refuses a wrong password, and the challenge is gone after the failed attempt', async () => {
    const { auth, prove } = await setup('sha256');
    const conn = {};
    const r = auth.issue(conn, { type: 'auth_challenge', username: 'alice' });
    if (!r.ok) throw new Error(r.message);
    expect(auth.login(conn, { type: 'login', username: 'alice', proof: await prove(r.frame, 'dragon2023') })).toMatchObject({ ok: false, code: 'bad_credentials' });
    expect(auth.login(conn, { type: 'login', username: 'alice', proof: await prove(r.frame) })).toMatchObject({ ok: false, code: 'stale_challenge' });
  });

  it('refuses a proof after the challenge expired, a proof for a replaced nonce, and one from another connection', async () => {
    const { auth, prove, tick } = await setup('plaintext', 1000);
    const a = {};
    const first = auth.issue(a, { type: 'auth_challenge', username: 'alice' });
    if (!first.ok) throw new Error();
    tick(1001);
    expect(auth.login(a, { type: 'login', username: 'alice', proof: await prove(first.frame) })).toMatchObject({ ok: false, code: 'stale_challenge', message: /expired/ });

    const c1 = auth.issue(a, { type: 'auth_challenge', username: 'alice' });
    const c2 = auth.issue(a, { type: 'auth_challenge', username: 'alice' }); // replaces c1
    if (!c1.ok || !c2.ok) throw new Error();
    expect(c1.frame.nonce).not.toBe(c2.frame.nonce);
    expect(auth.login(a, { type: 'login', username: 'alice', proof: await prove(c1.frame) })).toMatchObject({ ok: false, code: 'bad_credentials' });

    const c3 = auth.issue(a, { type: 'auth_challenge', username: 'alice' });
    if (!c3.ok) throw new Error();
    expect(auth.login({}, { type: 'login', username: 'alice', proof: await prove(c3.frame) })).toMatchObject({ ok: false, code: 'stale_challenge' });
    expect(auth.login(a, { type: 'login', username: 'alice', proof: await prove(c3.frame) })).toMatchObject({ ok: true });
  });

  it('refuses a password in login, a malformed proof, and a proof for another user than the challenge', async () => {
    const { auth, prove } = await setup('sha256');
    const a = {};
    expect(auth.login(a, { type: 'login', username: 'alice', password: 'dragon2024' })).toMatchObject({ ok: false, code: 'bad_request', message: /refuses passwords/ });
    const r = auth.issue(a, { type: 'auth_challenge', username: 'alice' });
    if (!r.ok) throw new Error();
    expect(auth.login(a, { type: 'login', username: 'alice', proof: 'not base64!' })).toMatchObject({ ok: false, code: 'bad_request' });
    const r2 = auth.issue(a, { type: 'auth_challenge', username: 'bob' });
    if (!r2.ok) throw new Error();
    expect(auth.login(a, { type: 'login', username: 'alice', proof: await prove(r.frame) })).toMatchObject({ ok: false, code: 'stale_challenge' });
  });

  it('answers for a name with no account exactly like for a real one (no enumeration)', async () => {
    const { auth } = await setup('scrypt');
    const real = auth.issue({}, { type: 'auth_challenge', username: 'alice' });
    const fake1 = auth.issue({}, { type: 'auth_challenge', username: 'nobody' });
    const fake2 = auth.issue({}, { type: 'auth_challenge', username: 'nobody' });
    if (!real.ok || !fake1.ok || !fake2.ok) throw new Error();
    const shape = (f: Record<string, unknown>) => ({ keys: Object.keys(f).sort(), storage: f.storage, params: f.params, saltLen: String(f.salt).length });
    expect(shape(fake1.frame)).toEqual(shape(real.frame));
    expect(fake2.frame.salt).toBe(fake1.frame.salt); // stable, as a real salt is
    // Another server (another secret) gives another fake salt, so it cannot be precomputed.
    const other = new ChallengeAuth(new UserStore(':memory:', 'scrypt'), 'scrypt', { secret: Buffer.alloc(32, 8) }).issue({}, { type: 'auth_challenge', username: 'nobody' });
    expect(other.ok && other.frame.salt).not.toBe(fake1.frame.salt);
    // ...and a proof for the fake challenge is refused with the same code as a wrong password.
    const conn = {};
    const f = auth.issue(conn, { type: 'auth_challenge', username: 'nobody' });
    if (!f.ok) throw new Error();
    expect(auth.login(conn, { type: 'login', username: 'nobody', proof: Buffer.alloc(32).toString('base64') })).toMatchObject({ ok: false, code: 'bad_credentials', message: 'wrong username or password' });
  });

  it('rejects a nonsensical ttl at construction', () => {
    expect(() => new ChallengeAuth(new UserStore(':memory:'), 'scrypt', { ttlMs: 0 })).toThrow(/ttlMs must be a positive integer/);
  });
});
