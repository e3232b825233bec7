/**
 * server/account-store.ts against a real SQLite file: a second better-sqlite3 connection takes
 * `BEGIN EXCLUSIVE`, and the facade must wait on timers (the event loop keeps turning), go through
 * once the lock is released, give up with AccountDbBusyError after lockWaitMs having changed
 * nothing, and pass every other error through unchanged.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccountDbBusyError, AccountStore, isLockError } from '../server/account-store.ts';
import { UserStore } from '../server/user-store.ts';

let dir: string;
let users: UserStore;
let other: Database.Database;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-accounts-'));
  users = new UserStore(path.join(dir, 'users.db'), 'plaintext');
  other = new Database(path.join(dir, 'users.db'), { timeout: 0 });
});
afterEach(() => {
  if (other.inTransaction) other.exec('ROLLBACK');
  other.close();
  users.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Takes the write lock from the other connection and releases it after `ms`. */
function lockFor(ms: number): Promise<void> {
  other.exec('BEGIN EXCLUSIVE');
  other.prepare("INSERT INTO users VALUES ('holder', 'plaintext', '', 'x', '', 0)").run();
  return new Promise((r) => setTimeout(() => r(other.exec('ROLLBACK') as unknown as void), ms));
}

/** The longest gap between 10 ms ticks while `p` is pending, in ms: how long the event loop was held. */
async function longestStall(p: Promise<unknown>): Promise<number> {
  let last = performance.now();
  let worst = 0;
  const t = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 10);
  await p.catch(() => {});
  clearInterval(t);
  return worst;
}

describe('AccountStore', () => {
  it('a write that meets another connection’s lock waits on timers and goes through after it', async () => {
    const accounts = new AccountStore(users, { maxOfflineMessagesPerUser: 5, lockWaitMs: 2000 });
    const released = lockFor(300);
    const t0 = performance.now();
    const created = accounts.create('alice', 'pw-alice-01234');
    expect(await longestStall(created)).toBeLessThan(150); // SQLite's own busy wait would hold it for 300 ms
    expect(await created).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    await released;
    expect(users.get('alice')?.username).toBe('alice');
  });

  it('past lockWaitMs: AccountDbBusyError naming the operation, and nothing changed', async () => {
    const accounts = new AccountStore(users, { maxOfflineMessagesPerUser: 5, lockWaitMs: 100 });
    await accounts.create('bob', 'pw-bob-0123456');
    const released = lockFor(400);
    const err = await accounts.create('alice', 'pw-alice-01234').catch((e) => e);
    expect(err).toBeInstanceOf(AccountDbBusyError);
    expect(err).toMatchObject({ op: 'register' });
    expect(err.waitedMs).toBeGreaterThanOrEqual(100);
    await expect(accounts.storeOffline('bob', 'carol', 'hi', 1)).rejects.toMatchObject({ name: 'AccountDbBusyError', op: 'offline store' });
    // Reads go on under a write lock (WAL): a login check still works.
    expect(await accounts.check('bob', 'pw-bob-0123456')).toBe(true);
    await released;
    expect(users.get('alice')).toBeUndefined();
    expect(accounts.offline.count('bob')).toBe(0);
  });

  it('offline messages: store, unknown user, mailbox full; a delivered one is deleted after the lock lifts', async () => {
    const accounts = new AccountStore(users, { maxOfflineMessagesPerUser: 1, lockWaitMs: 2000 });
    await accounts.create('bob', 'pw-bob-0123456');
    expect(await accounts.storeOffline('nobody', 'alice', 'hi', 1)).toBe('unknown_user');
    expect(await accounts.storeOffline('bob', 'alice', 'hi', 1)).toBe('stored');
    expect(await accounts.storeOffline('bob', 'alice', 'again', 2)).toBe('mailbox_full');
    const [m] = await accounts.takeOffline('bob');
    expect(m).toMatchObject({ sender: 'alice', text: 'hi' });
    const released = lockFor(200);
    accounts.doneOffline(m!.id, true);
    expect(accounts.offline.count('bob')).toBe(1); // locked: not deleted yet
    await released;
    await expect.poll(() => accounts.offline.count('bob'), { timeout: 2000 }).toBe(0);
  });

  it('errors that are not about the lock pass through unchanged; bad lockWaitMs is refused', async () => {
    const accounts = new AccountStore(users, { maxOfflineMessagesPerUser: 1 });
    expect(accounts.lockWaitMs).toBe(5000);
    users.close();
    const err = await accounts.get('alice').catch((e) => e);
    expect(err).not.toBeInstanceOf(AccountDbBusyError);
    expect(String(err)).toMatch(/not open/);
    expect(() => new AccountStore(new UserStore(':memory:'), { maxOfflineMessagesPerUser: 1, lockWaitMs: 0 })).toThrow(/lockWaitMs must be a positive integer/);
    expect(isLockError(Object.assign(new Error('x'), { code: 'SQLITE_BUSY' }))).toBe(true);
    expect(isLockError(Object.assign(new Error('x'), { code: 'SQLITE_LOCKED_SHAREDCACHE' }))).toBe(true);
    expect(isLockError(Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT' }))).toBe(false);
  });
});

describe('AccountStore under a long lock', () => {
  it('hashes a waiting registration’s password at most twice, however long the lock lasts', async () => {
    const accounts = new AccountStore(users, { maxOfflineMessagesPerUser: 1, lockWaitMs: 2000 });
    let hashes = 0;
    const create = users.create.bind(users);
    users.create = (u: string, p: string) => {
      hashes++;
      return create(u, p);
    };
    const released = lockFor(600);
    expect(await accounts.create('alice', 'pw-alice-01234')).toBe(true);
    await released;
    expect(hashes).toBeLessThanOrEqual(2);
  });
});
