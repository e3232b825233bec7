// The scenario harness's cache of passed password checks (server/user-store.ts): it may only ever
// skip a hash whose answer is already known to be "yes" for that very row, pepper and password.
import { describe, expect, it } from 'vitest';
import { hashPassword, PassedLoginCache, UserStore } from '../server/user-store.ts';

const FAST = { N: 1024, r: 1, p: 1 };

describe('PassedLoginCache', () => {
  it('answers only for the exact row, pepper key and password that passed', async () => {
    const cache = new PassedLoginCache();
    const row = await hashPassword('s3cret', 'scrypt', { scrypt: FAST });
    const pepper = Buffer.alloc(32, 7);
    cache.add('s3cret', row, pepper);
    expect(cache.has('s3cret', row, pepper)).toBe(true);
    expect(cache.has('s3cret!', row, pepper)).toBe(false);
    expect(cache.has('s3cret', row, null)).toBe(false);
    expect(cache.has('s3cret', row, Buffer.alloc(32, 8))).toBe(false);
    expect(cache.has('s3cret', { ...row, salt: row.salt.replace(/^./, (c) => (c === '0' ? '1' : '0')) }, pepper)).toBe(false);
    expect(cache.has('s3cret', { ...row, hash: row.hash.replace(/^./, (c) => (c === '0' ? '1' : '0')) }, pepper)).toBe(false);
    expect(cache.has('s3cret', { ...row, params: '{"N":2048,"r":1,"p":1}' }, pepper)).toBe(false);
    expect(cache.has('s3cret', { ...row, storage: 'sha256' }, pepper)).toBe(false);
  });

  it('keeps field boundaries: moving characters between password and params is another entry', () => {
    const cache = new PassedLoginCache();
    const row = { storage: 'sha256' as const, salt: '', hash: 'ab', params: 'x' };
    cache.add('y', row);
    expect(cache.has('', { ...row, params: 'xy' })).toBe(false);
  });

  it('holds at most MAX_ENTRIES, dropping the oldest', () => {
    const cache = new PassedLoginCache();
    const row = { storage: 'plaintext' as const, salt: '', hash: 'h', params: '' };
    for (let i = 0; i <= PassedLoginCache.MAX_ENTRIES; i++) cache.add(`pw${i}`, row);
    expect(cache.has('pw0', row)).toBe(false);
    expect(cache.has('pw1', row)).toBe(true);
    expect(cache.has(`pw${PassedLoginCache.MAX_ENTRIES}`, row)).toBe(true);
  });

  it('a store remembers passes only: a wrong password is never cached and still fails', async () => {
    const cache = new PassedLoginCache();
    const store = new UserStore(':memory:', { storage: 'scrypt', scrypt: FAST, passedLogins: cache });
    try {
      await store.create('alice', 'correct horse');
      const row = store.get('alice')!;
      expect(cache.has('correct horse', row)).toBe(false);
      expect(await store.check('alice', 'wrong')).toBe(false);
      expect(cache.has('wrong', row)).toBe(false);
      expect(await store.check('alice', 'correct horse')).toBe(true);
      expect(cache.has('correct horse', row)).toBe(true);
      expect(await store.check('alice', 'correct horse')).toBe(true);
      expect(await store.check('alice', 'wrong')).toBe(false);
    } finally {
      store.close();
    }
  });

  it('a cached pass for one row does not open another row with the same password', async () => {
    const cache = new PassedLoginCache();
    const a = new UserStore(':memory:', { storage: 'scrypt', scrypt: FAST, passedLogins: cache });
    const b = new UserStore(':memory:', { storage: 'scrypt', scrypt: FAST, passedLogins: cache });
    try {
      await a.create('alice', 'pw-one');
      await b.create('alice', 'pw-two');
      expect(await a.check('alice', 'pw-one')).toBe(true);
      expect(await b.check('alice', 'pw-one')).toBe(false);
    } finally {
      a.close();
      b.close();
    }
  });
});
