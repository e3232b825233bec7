/**
 * Password storage settings (issue 9 §3, issue 12 item 9): auth.scrypt validated, records hashed
 * with other parameters (N = 2^16, 2^17) still log in and are rehashed, unusable records get an
 * error frame, auth.passwordPolicy refuses short and common passwords at registration, auth.pepper
 * keeps a key beside the database, not in it.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectClient, profileOf, startTestServer, useTestPki } from './helpers/lab-env.ts';
import { hashPassword, passwordPolicyRefusal, UnusableRecordError, UserStore, verifyPassword } from '../server/user-store.ts';

const env = useTestPki('secchat-store-');

describe('auth.scrypt in the profile', () => {
  it('accepts powers of two within the memory bound', () => {
    expect(profileOf({ auth: { scrypt: { N: 65536, r: 8, p: 1 } } }).auth.scrypt).toEqual({ N: 65536, r: 8, p: 1 });
  });
  it.each([
    [{ N: 10000, r: 8, p: 1 }, /auth\.scrypt\.N: must be a power of two/],
    [{ N: 512, r: 8, p: 1 }, /auth\.scrypt\.N: must be between 1024/],
    [{ N: 1 << 20, r: 8, p: 1 }, /auth\.scrypt: memory 128·N·r bytes must stay at or under 256 MiB/],
    [{ N: 16384, r: 0, p: 1 }, /auth\.scrypt\.r/],
    [{ N: 16384, r: 8, p: 9 }, /auth\.scrypt\.p/],
  ])('refuses %j naming the field', (scrypt, msg) => {
    expect(() => profileOf({ auth: { scrypt } })).toThrow(msg);
  });
  it('refuses settings that cannot take effect', () => {
    expect(() => profileOf({ auth: { storage: 'sha256', scrypt: { N: 16384, r: 8, p: 1 } } })).toThrow(/auth\.scrypt: only used with auth\.storage: scrypt/);
    expect(() => profileOf({ auth: { method: 'challenge', pepper: true } })).toThrow(/auth\.pepper: not possible with auth\.method: challenge/);
    expect(() => profileOf({ auth: { storage: 'plaintext', pepper: true } })).toThrow(/auth\.pepper: has no effect with auth\.storage: plaintext/);
  });
});

describe('records keep their own scrypt parameters', () => {
  // Both need 64 MiB or more (128·N·r), over the fixed 64 MiB limit that used to refuse them.
  it.each([
    [65536, 8],
    [131072, 4],
  ])('a record with N=%i, r=%i logs in (memory limit from the record) and is rehashed to the profile\'s parameters', async (N, r) => {
    const file = path.join(env.tmp, `n${N}.db`);
    const old = new UserStore(file, { storage: 'scrypt', scrypt: { N, r, p: 1 } });
    await old.create('carol', 'a long enough passphrase');
    expect(JSON.parse(old.get('carol')!.params)).toEqual({ N, r, p: 1 });
    old.close();
    const store = new UserStore(file, { storage: 'scrypt' });
    expect(await store.check('carol', 'wrong passphrase!!')).toBe(false);
    expect(JSON.parse(store.get('carol')!.params).N).toBe(N); // a failed login changes nothing
    expect(await store.check('carol', 'a long enough passphrase')).toBe(true);
    expect(JSON.parse(store.get('carol')!.params)).toEqual({ N: 16384, r: 8, p: 1 });
    expect(await store.check('carol', 'a long enough passphrase')).toBe(true);
    store.close();
  });
  it('refuses a record whose parameters ask for more memory than allowed, with a clear error', async () => {
    const row = { username: 'mallory', storage: 'scrypt' as const, salt: '00'.repeat(16), hash: '00'.repeat(32), params: JSON.stringify({ N: 1 << 22, r: 8, p: 1 }) };
    await expect(verifyPassword('x', row)).rejects.toThrow(UnusableRecordError);
    await expect(verifyPassword('x', row)).rejects.toThrow(/asks scrypt for 4096 MiB \(N=4194304, r=8\); this server allows at most 256 MiB/);
    await expect(verifyPassword('x', { ...row, params: JSON.stringify({ N: 1000, r: 8, p: 1 }) })).rejects.toThrow(/N a power of two/);
  });
  it('the server answers a login on such a record with an error frame and keeps serving', async () => {
    const profile = profileOf({ name: 'store-e2e', transport: 'plain' });
    const { server, stop } = await startTestServer(profile, env.pki);
    try {
      const db = new UserStore(server.dbPath);
      db.db.prepare('INSERT INTO users (username, storage, salt, hash, params, created_at) VALUES (?, ?, ?, ?, ?, ?)').run('mallory', 'scrypt', '00'.repeat(16), '00'.repeat(32), JSON.stringify({ N: 1 << 22, r: 8, p: 1 }), Date.now());
      db.close();
      const c = await connectClient(profile, env.pki, server.port);
      await expect(c.login('mallory', 'whatever123')).rejects.toThrow(/internal_error: the stored password of mallory asks scrypt for 4096 MiB/);
      await c.register('dave', 'a long enough passphrase');
      await c.login('dave', 'a long enough passphrase'); // same connection, still served
      await c.quit();
    } finally {
      await stop();
    }
  });
});

describe('auth.passwordPolicy (NIST SP 800-63B §5.1.1.2)', () => {
  const policy = { minLength: 15, rejectCommon: true };
  it('refuses short and common passwords, accepts a passphrase', () => {
    expect(passwordPolicyRefusal('dragon2024', policy)).toMatch(/at least 15 characters \(auth\.passwordPolicy\.minLength\)/);
    expect(passwordPolicyRefusal('dragon2024', { minLength: 8, rejectCommon: true })).toMatch(/in the list of common passwords/);
    expect(passwordPolicyRefusal('DRAGON2024', { minLength: 8, rejectCommon: true })).toMatch(/common passwords/);
    expect(passwordPolicyRefusal('copper-walrus-nebula-orchid', policy)).toBeNull();
    expect(passwordPolicyRefusal('dragon2024', null)).toBeNull();
  });
  it('the server refuses a common password at registration with invalid_password', async () => {
    const profile = profileOf({ name: 'policy-e2e', transport: 'plain', auth: { passwordPolicy: { minLength: 8, rejectCommon: true } } });
    const { server, stop } = await startTestServer(profile, env.pki);
    try {
      const c = await connectClient(profile, env.pki, server.port);
      await expect(c.register('erin', 'dragon2024')).rejects.toThrow(/invalid_password: password is in the list of common passwords/);
      await c.register('erin', 'copper-walrus-nebula-orchid');
      await c.login('erin', 'copper-walrus-nebula-orchid');
      await c.quit();
    } finally {
      await stop();
    }
  });
});

describe('auth.pepper', () => {
  it('keeps the key in a 0600 file beside the database; rows are marked, and need the key to check', async () => {
    const file = path.join(env.tmp, 'pepper.db');
    const store = new UserStore(file, { storage: 'sha256', pepperFile: `${file}.pepper` });
    await store.create('frank', 'dragon2024');
    expect(existsSync(`${file}.pepper`)).toBe(true);
    expect(statSync(`${file}.pepper`).mode & 0o777).toBe(0o600);
    const row = store.get('frank')!;
    expect(row.params).toBe('{"pepper":true}');
    expect(row.hash).not.toBe((await hashPassword('dragon2024', 'sha256')).hash);
    expect(await store.check('frank', 'dragon2024')).toBe(true);
    await expect(verifyPassword('dragon2024', row)).rejects.toThrow(/peppered, but this server holds no pepper key/);
    store.close();
  });
});
