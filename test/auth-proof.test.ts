/**
 * Challenge–response login, pure parts: the proof (HMAC-SHA256, RFC 2104) cross-checked against
 * openssl, verifier keys against the stored forms, the client's checks on a challenge, and the
 * server's nonce bookkeeping with an injected clock and random source.
 */
import { describe, expect, it } from 'vitest';
import { createHash, createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  CHALLENGE_NONCE_BYTES,
  LOGIN_PROOF_LABEL,
  SCRYPT_PARAM_LIMITS,
  base64Of,
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
    const r = await auth.issue(conn, { type: 'auth_challenge', username: 'Alice' });
    if (!r.ok) throw new Error(r.message);
    expect(r.frame).toMatchObject({ type: 'challenge', username: 'alice', nonce: Buffer.alloc(32, 1).toString('base64'), storage });
    const proof = await prove(r.frame);
    expect(await auth.login(conn, { type: 'login', username: 'alice', proof })).toEqual({ ok: true, username: 'alice' });
    // The same proof again on the same connection: the nonce was consumed.
    expect(await auth.login(conn, { type: 'login', username: 'alice', proof })).toMatchObject({ ok: false, code: 'stale_challenge' });
  });

  it('refuses a wrong password, and the challenge is gone after the failed attempt', async () => {
    const { auth, prove } = await setup('sha256');
    const conn = {};
    const r = await auth.issue(conn, { type: 'auth_challenge', username: 'alice' });
    if (!r.ok) throw new Error(r.message);
    expect(await auth.login(conn, { type: 'login', username: 'alice', proof: await prove(r.frame, 'dragon2023') })).toMatchObject({ ok: false, code: 'bad_credentials' });
    expect(await auth.login(conn, { type: 'login', username: 'alice', proof: await prove(r.frame) })).toMatchObject({ ok: false, code: 'stale_challenge' });
  });

  it('refuses a proof after the challenge expired, a proof for a replaced nonce, and one from another connection', async () => {
    const { auth, prove, tick } = await setup('plaintext', 1000);
    const a = {};
    const first = await auth.issue(a, { type: 'auth_challenge', username: 'alice' });
    if (!first.ok) throw new Error();
    tick(1001);
    expect(await auth.login(a, { type: 'login', username: 'alice', proof: await prove(first.frame) })).toMatchObject({ ok: false, code: 'stale_challenge', message: /expired/ });

    const c1 = await auth.issue(a, { type: 'auth_challenge', username: 'alice' });
    const c2 = await auth.issue(a, { type: 'auth_challenge', username: 'alice' }); // replaces c1
    if (!c1.ok || !c2.ok) throw new Error();
    expect(c1.frame.nonce).not.toBe(c2.frame.nonce);
    expect(await auth.login(a, { type: 'login', username: 'alice', proof: await prove(c1.frame) })).toMatchObject({ ok: false, code: 'bad_credentials' });

    const c3 = await auth.issue(a, { type: 'auth_challenge', username: 'alice' });
    if (!c3.ok) throw new Error();
    expect(await auth.login({}, { type: 'login', username: 'alice', proof: await prove(c3.frame) })).toMatchObject({ ok: false, code: 'stale_challenge' });
    expect(await auth.login(a, { type: 'login', username: 'alice', proof: await prove(c3.frame) })).toMatchObject({ ok: true });
  });

  it('refuses a password in login, a malformed proof, and a proof for another user than the challenge', async () => {
    const { auth, prove } = await setup('sha256');
    const a = {};
    expect(await auth.login(a, { type: 'login', username: 'alice', password: 'dragon2024' })).toMatchObject({ ok: false, code: 'bad_request', message: /refuses passwords/ });
    const r = await auth.issue(a, { type: 'auth_challenge', username: 'alice' });
    if (!r.ok) throw new Error();
    expect(await auth.login(a, { type: 'login', username: 'alice', proof: 'not base64!' })).toMatchObject({ ok: false, code: 'bad_request' });
    const r2 = await auth.issue(a, { type: 'auth_challenge', username: 'bob' });
    if (!r2.ok) throw new Error();
    expect(await auth.login(a, { type: 'login', username: 'alice', proof: await prove(r.frame) })).toMatchObject({ ok: false, code: 'stale_challenge' });
  });

  it('answers for a name with no account exactly like for a real one (no enumeration)', async () => {
    const { auth } = await setup('scrypt');
    const real = await auth.issue({}, { type: 'auth_challenge', username: 'alice' });
    const fake1 = await auth.issue({}, { type: 'auth_challenge', username: 'nobody' });
    const fake2 = await auth.issue({}, { type: 'auth_challenge', username: 'nobody' });
    if (!real.ok || !fake1.ok || !fake2.ok) throw new Error();
    const shape = (f: Record<string, unknown>) => ({ keys: Object.keys(f).sort(), storage: f.storage, params: f.params, saltLen: String(f.salt).length });
    expect(shape(fake1.frame)).toEqual(shape(real.frame));
    expect(fake2.frame.salt).toBe(fake1.frame.salt); // stable, as a real salt is
    // Another server (another secret) gives another fake salt, so it cannot be precomputed.
    const other = await new ChallengeAuth(new UserStore(':memory:', 'scrypt'), 'scrypt', { secret: Buffer.alloc(32, 8) }).issue({}, { type: 'auth_challenge', username: 'nobody' });
    expect(other.ok && other.frame.salt).not.toBe(fake1.frame.salt);
    // ...and a proof for the fake challenge is refused with the same code as a wrong password.
    const conn = {};
    const f = await auth.issue(conn, { type: 'auth_challenge', username: 'nobody' });
    if (!f.ok) throw new Error();
    expect(await auth.login(conn, { type: 'login', username: 'nobody', proof: Buffer.alloc(32).toString('base64') })).toMatchObject({ ok: false, code: 'bad_credentials', message: 'wrong username or password' });
  });

  it('rejects a nonsensical ttl at construction', () => {
    expect(() => new ChallengeAuth(new UserStore(':memory:'), 'scrypt', { ttlMs: 0 })).toThrow(/ttlMs must be a positive integer/);
  });
});

describe('challenge edges (mutation testing: docs/testing.md)', () => {
  const good = { type: 'challenge', username: 'alice', nonce: NONCE.toString('base64'), storage: 'scrypt', salt: '00'.repeat(16), params: { N: 16384, r: 8, p: 1, dkLen: 32 } };
  const params = (over: Record<string, unknown>) => ({ ...good, params: { ...good.params, ...over } });
  const accepts = (frame: Record<string, unknown>, floor: VerifierStorage = 'scrypt') => {
    try {
      parseChallenge(frame, 'alice', floor);
      return true;
    } catch (err) {
      const e = err as { code?: string; message: string; details?: { reason?: string } };
      expect(e.code).toBe('SECCHAT_ERR_PROTOCOL');
      expect(e.message).toBe(`refusing the server's login challenge: ${e.details?.reason}`);
      return false;
    }
  };

  it.each([
    ['N at the floor', { N: SCRYPT_PARAM_LIMITS.minN }, true],
    ['N not a power of two above the floor', { N: 3 * 8192 }, false],
    ['N a power of two below the floor', { N: 8192 }, false],
    ['128·N·r exactly the memory ceiling (256 MiB)', { N: 1 << 17, r: 16 }, true],
    ['128·N·r one step over the ceiling', { N: 1 << 17, r: 17 }, false],
    ['r = 1', { r: 1 }, true],
    ['r = 0', { r: 0 }, false],
    ['p = 1', { p: 1 }, true],
    ['p = 0', { p: 0 }, false],
    ['p at the ceiling', { p: SCRYPT_PARAM_LIMITS.maxP }, true],
    ['p over the ceiling', { p: SCRYPT_PARAM_LIMITS.maxP + 1 }, false],
    ['dkLen at the floor', { dkLen: SCRYPT_PARAM_LIMITS.minDkLen }, true],
    ['dkLen under the floor', { dkLen: SCRYPT_PARAM_LIMITS.minDkLen - 1 }, false],
    ['dkLen at the ceiling', { dkLen: SCRYPT_PARAM_LIMITS.maxDkLen }, true],
    ['dkLen over the ceiling', { dkLen: SCRYPT_PARAM_LIMITS.maxDkLen + 1 }, false],
    ['a parameter given as a string', { N: '16384' }, false],
    ['a fractional parameter', { r: 8.5 }, false],
    ['N = 0', { N: 0 }, false],
    ['N = 1', { N: 1 }, false],
  ])('scrypt params: %s → accepted %s', (_name, over, ok) => {
    expect(accepts(params(over))).toBe(ok);
  });

  it('a scrypt challenge without params is refused; the accepted params are returned as read', () => {
    expect(accepts({ ...good, params: undefined })).toBe(false);
    expect(parseChallenge(params({ N: 32768, r: 4, p: 2, dkLen: 48 }), 'alice', 'scrypt').params).toEqual({ N: 32768, r: 4, p: 2, dkLen: 48 });
    expect(() => parseChallenge(params({ N: 1024 }), 'alice', 'scrypt')).toThrow('are outside N=2^k >= 16384, 128·N·r <= 256 MiB, p 1-4, dkLen 16-64');
  });

  it.each([
    ['8 bytes', '00'.repeat(8), true],
    ['7 bytes', '00'.repeat(7), false],
    ['64 bytes', 'ab'.repeat(64), true],
    ['65 bytes', 'ab'.repeat(65), false],
    ['an odd number of hex digits', '0'.repeat(17), false],
    ['upper-case hex', 'AB'.repeat(16), false],
    ['hex inside other text', `x${'00'.repeat(16)}`, false],
    ['a number whose digits look like hex', 1234567890123456, false],
  ])('scrypt salt of %s → accepted %s', (_name, salt, ok) => {
    expect(accepts({ ...good, salt })).toBe(ok);
    if (ok) expect(parseChallenge({ ...good, salt }, 'alice', 'scrypt').salt).toEqual(Buffer.from(String(salt), 'hex'));
  });

  it('a verifier as strong as the profile asks for is fine, and plaintext/sha256 challenges carry no salt', () => {
    expect(parseChallenge({ ...good, storage: 'sha256', salt: 'ignored' }, 'alice', 'sha256')).toEqual({ username: 'alice', nonce: NONCE, storage: 'sha256', salt: Buffer.alloc(0) });
    expect(parseChallenge({ ...good, storage: 'plaintext' }, 'alice', 'plaintext')).toEqual({ username: 'alice', nonce: NONCE, storage: 'plaintext', salt: Buffer.alloc(0) });
    expect(parseChallenge(good, 'alice', 'scrypt')).toEqual({ username: 'alice', nonce: NONCE, storage: 'scrypt', salt: Buffer.alloc(16), params: good.params });
  });

  it('base64Of takes only canonical base64 of exactly the length asked', () => {
    const b = Buffer.from('0123456789abcdef0123456789abcdef');
    expect(base64Of(b.toString('base64'), 32)).toEqual(b);
    expect(base64Of(b.toString('base64'), 31)).toBeNull();
    expect(base64Of(b.toString('base64url'), 32)).toBeNull(); // other alphabet
    expect(base64Of('AAB=', 2)).toBeNull(); // non-zero padding bits: not the canonical spelling
    expect(base64Of('AAA=', 2)).toEqual(Buffer.alloc(2));
    expect(base64Of(' AAA=', 2)).toBeNull();
    expect(base64Of('AAA=\n', 2)).toBeNull();
    expect(base64Of('AA==', 1)).toEqual(Buffer.alloc(1));
    expect(base64Of('A===', 0)).toBeNull();
    expect(base64Of(Buffer.alloc(2), 2)).toBeNull();
    expect(base64Of(1234, 3)).toBeNull(); // a number, though its digits are base64 characters
    expect(base64Of('', 0)).toEqual(Buffer.alloc(0));
  });

  it('deriveVerifierKey refuses scrypt without params', async () => {
    await expect(deriveVerifierKey('pw', { storage: 'scrypt', salt: Buffer.alloc(16) })).rejects.toThrow(new RangeError('deriveVerifierKey: scrypt needs params {N, r, p, dkLen}'));
  });

  it('deriveVerifierKey uses the challenge\'s scrypt parameters (RFC 7914 §12 vector: N=1024, r=8, p=16)', async () => {
    const key = await deriveVerifierKey('password', { storage: 'scrypt', salt: Buffer.from('NaCl'), params: { N: 1024, r: 8, p: 16, dkLen: 64 } });
    expect(key.toString('hex')).toBe('fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640');
  });

  it('deriveVerifierKey can derive at the most expensive parameters parseChallenge accepts (128·N·r = 256 MiB)', async () => {
    const spec = parseChallenge(params({ N: 1 << 17, r: 16, p: 1, dkLen: 16 }), 'alice', 'scrypt');
    expect((await deriveVerifierKey('pw', spec)).length).toBe(16);
  }, 60_000);

  it('UTF-8 throughout: a non-ASCII password and username', async () => {
    expect(await deriveVerifierKey('pässwörd', { storage: 'plaintext', salt: Buffer.alloc(0) })).toEqual(Buffer.from('70c3a4737377c3b67264', 'hex'));
    expect((await deriveVerifierKey('pässwörd', { storage: 'sha256', salt: Buffer.alloc(0) })).toString('hex')).toBe(createHash('sha256').update(Buffer.from('70c3a4737377c3b67264', 'hex')).digest('hex'));
    expect(proofMessage(NONCE, 'zoë').subarray(LOGIN_PROOF_LABEL.length + CHALLENGE_NONCE_BYTES)).toEqual(Buffer.from('7a6fc3ab', 'hex'));
  });

  it('proofMessage refuses a nonce of any other length, naming both', () => {
    expect(() => proofMessage(Buffer.alloc(33), 'alice')).toThrow('proofMessage: nonce must be 32 bytes (got 33)');
  });
});

describe('ChallengeAuth edges (mutation testing: docs/testing.md)', () => {
  async function server(storage: VerifierStorage, opts: { ttlMs?: number; randomBytes?: (n: number) => Buffer } = {}) {
    const users = new UserStore(':memory:', storage);
    await users.create('alice', 'dragon2024');
    let now = 5_000;
    const auth = new ChallengeAuth(users, storage, { ttlMs: opts.ttlMs ?? 1000, now: () => now, randomBytes: opts.randomBytes ?? countingRandom(), secret: Buffer.alloc(32, 7) });
    const prove = async (challenge: Record<string, unknown>, username = 'alice') => {
      const c = parseChallenge(challenge, username, 'plaintext');
      return loginProof(await deriveVerifierKey('dragon2024', c), c.nonce, username).toString('base64');
    };
    return { users, auth, prove, tick: (ms: number) => (now += ms) };
  }

  it('a proof sent exactly ttlMs after the challenge is accepted; one ms later it is stale', async () => {
    for (const late of [false, true]) {
      const { auth, prove, tick } = await server('sha256', { ttlMs: 1000 });
      const conn = {};
      const r = await auth.issue(conn, { type: 'auth_challenge', username: 'alice' });
      if (!r.ok) throw new Error(r.message);
      const proof = await prove(r.frame);
      tick(late ? 1001 : 1000);
      expect(await auth.login(conn, { type: 'login', username: 'alice', proof })).toMatchObject(late ? { ok: false, code: 'stale_challenge', message: 'the challenge expired (challenges last 1000 ms): send auth_challenge again' } : { ok: true, username: 'alice' });
    }
  });

  it('a correct proof with a differently cased name logs in under the canonical name', async () => {
    const { auth, prove } = await server('plaintext');
    const conn = {};
    const r = await auth.issue(conn, { type: 'auth_challenge', username: 'ALICE' });
    if (!r.ok) throw new Error(r.message);
    expect(await auth.login(conn, { type: 'login', username: 'Alice', proof: await prove(r.frame) })).toEqual({ ok: true, username: 'alice' });
  });

  it('a proof made with the right key but for a name with no account is refused', async () => {
    const { auth, users } = await server('plaintext');
    const conn = {};
    const r = await auth.issue(conn, { type: 'auth_challenge', username: 'ghost' });
    if (!r.ok) throw new Error(r.message);
    expect(users.get('ghost')).toBeUndefined();
    const nonce = Buffer.from(String(r.frame.nonce), 'base64');
    const proof = loginProof(Buffer.from('dragon2024'), nonce, 'ghost').toString('base64');
    expect(await auth.login(conn, { type: 'login', username: 'ghost', proof })).toEqual({ ok: false, code: 'bad_credentials', message: 'wrong username or password' });
  });

  it('refuses invalid usernames in both steps, and a login with no challenge at all', async () => {
    const { auth } = await server('sha256');
    expect(await auth.issue({}, { type: 'auth_challenge', username: 'bad name' })).toMatchObject({ ok: false, code: 'invalid_username' });
    expect(await auth.issue({}, { type: 'auth_challenge' })).toMatchObject({ ok: false, code: 'invalid_username', message: 'username is empty' });
    expect(await auth.login({}, { type: 'login', username: 'bad name', proof: Buffer.alloc(32).toString('base64') })).toMatchObject({ ok: false, code: 'invalid_username' });
    expect(await auth.login({}, { type: 'login', username: 'alice', proof: Buffer.alloc(32).toString('base64') })).toEqual({
      ok: false,
      code: 'stale_challenge',
      message: 'no challenge outstanding for alice on this connection (never issued, already used, or replaced): send auth_challenge first',
    });
    expect(await auth.login({}, { type: 'login', username: 'alice', proof: Buffer.alloc(31).toString('base64') })).toMatchObject({ ok: false, code: 'bad_request', message: 'login needs "proof": base64 of 32 bytes (HMAC-SHA256)' });
  });

  it('a login carrying a password is refused even with a valid proof beside it, and uses up the challenge', async () => {
    const { auth, prove } = await server('sha256');
    const conn = {};
    const r = await auth.issue(conn, { type: 'auth_challenge', username: 'alice' });
    if (!r.ok) throw new Error(r.message);
    const proof = await prove(r.frame);
    expect(await auth.login(conn, { type: 'login', username: 'alice', password: 'dragon2024', proof })).toEqual({
      ok: false,
      code: 'bad_request',
      message: 'this server uses challenge-response login (auth: challenge) and refuses passwords in login: send auth_challenge, then login with "proof"',
    });
    expect(await auth.login(conn, { type: 'login', username: 'alice', proof })).toMatchObject({ ok: false, code: 'stale_challenge' });
    expect(await auth.login({}, { type: 'login', proof })).toEqual({ ok: false, code: 'invalid_username', message: 'username is empty' });
  });

  it('a challenge states the stored row as it is: plaintext and sha256 carry no salt or params, scrypt its own', async () => {
    for (const storage of ['plaintext', 'sha256'] as const) {
      const { auth } = await server(storage);
      const r = await auth.issue({}, { type: 'auth_challenge', username: 'alice' });
      expect(r).toEqual({ ok: true, frame: { type: 'challenge', username: 'alice', nonce: Buffer.alloc(32, 1).toString('base64'), storage, salt: '', params: null } });
      const fake = await auth.issue({}, { type: 'auth_challenge', username: 'nobody' }); // a fake looks the same
      expect(fake).toEqual({ ok: true, frame: { type: 'challenge', username: 'nobody', nonce: Buffer.alloc(32, 2).toString('base64'), storage, salt: '', params: null } });
    }
    const { auth, users } = await server('scrypt');
    const row = users.get('alice')!;
    const r = await auth.issue({}, { type: 'auth_challenge', username: 'alice' });
    expect(r.ok && r.frame).toMatchObject({ storage: 'scrypt', salt: row.salt, params: { ...JSON.parse(row.params), dkLen: row.hash.length / 2 } });
    const fake = await auth.issue({}, { type: 'auth_challenge', username: 'nobody' });
    expect(fake.ok && fake.frame).toMatchObject({ storage: 'scrypt', params: { ...JSON.parse(row.params), dkLen: row.hash.length / 2 } });
    expect(fake.ok && String(fake.frame.salt).length).toBe(row.salt.length);
  });

  it('fake salts differ per name and come from the per-server secret (HMAC-SHA256 under a label)', async () => {
    const { auth, users } = await server('scrypt');
    const salt = async (name: string) => {
      const r = await auth.issue({}, { type: 'auth_challenge', username: name });
      return r.ok ? String(r.frame.salt) : '';
    };
    expect(await salt('nobody')).not.toBe(await salt('somebody'));
    const saltBytes = users.get('alice')!.salt.length / 2;
    expect(await salt('nobody')).toBe(createHmac('sha256', Buffer.alloc(32, 7)).update('secchat-fake-salt\0nobody').digest().subarray(0, saltBytes).toString('hex'));
  });

  it('refuses a random source that returns a nonce of the wrong length, and a fractional or negative ttl', async () => {
    const { auth } = await server('sha256', { randomBytes: () => Buffer.alloc(16) });
    await expect(auth.issue({}, { type: 'auth_challenge', username: 'alice' })).rejects.toThrow('ChallengeAuth: randomBytes returned 16 bytes, not 32');
    expect(() => new ChallengeAuth(new UserStore(':memory:'), 'scrypt', { ttlMs: 1.5 })).toThrow(RangeError);
    expect(() => new ChallengeAuth(new UserStore(':memory:'), 'scrypt', { ttlMs: -1 })).toThrow(RangeError);
    expect(() => new ChallengeAuth(new UserStore(':memory:'), 'scrypt', { ttlMs: 1 })).not.toThrow();
  });

  it('storedVerifierKey: the UTF-8 password for plaintext rows, the hex-decoded hash otherwise', () => {
    expect(storedVerifierKey({ storage: 'plaintext', hash: 'ab' })).toEqual(Buffer.from('ab', 'utf8'));
    expect(storedVerifierKey({ storage: 'sha256', hash: 'ab' })).toEqual(Buffer.from([0xab]));
    expect(storedVerifierKey({ storage: 'scrypt', hash: 'abcd' })).toEqual(Buffer.from([0xab, 0xcd]));
  });
});
