/**
 * Issue 12 item 8: another process holding the account database's lock never freezes the chat.
 * The lock holder is Python's sqlite3 module (a SQLite client nobody here wrote), in a child
 * process, taking `BEGIN EXCLUSIVE` on the server's own database file. Meanwhile logged-in clients
 * over real loopback TLS must keep chatting (ping and room message round trips well under the
 * lock's 2 s), and the requests that need the database either complete after the lock or get
 * `accounts_busy` — never `internal_error`, never SQLite's raw "database is locked" in the log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PkiMaterial } from '../core/pki.ts';
import { startChatServer, type ChatServer, type ServerLimits, type ServerLogEntry } from '../server/chat-server.ts';
import { connectClient, loggedIn, makeTestPki, profileOf } from './helpers/lab-env.ts';
import type { ChatClient } from '../client/chat-client.ts';

let pki: PkiMaterial;
let cleanup: () => void;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
});
afterAll(() => cleanup());

const profile = profileOf({ transport: 'tls', auth: { storage: 'scrypt' } });
const LOCK_MS = 2000;

/**
 * Holds SQLite's write lock on `db` for `ms` from another process (in WAL mode readers still
 * read; every write — register, storing or deleting an offline dm — meets the lock).
 * @returns once the lock is held; `done` settles when the child has released it and exited
 */
async function holdLock(db: string, ms: number): Promise<{ child: ChildProcess; done: Promise<void> }> {
  const script = [
    'import sqlite3, sys, time',
    'c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)',
    "c.execute('BEGIN EXCLUSIVE')",
    "c.execute(\"INSERT INTO users (username, storage, salt, hash, params, created_at) VALUES ('lockholder', 'plaintext', '', 'x', '', 0)\")",
    "print('locked', flush=True)",
    'time.sleep(float(sys.argv[2]) / 1000)',
    "c.execute('ROLLBACK')",
    'c.close()',
  ].join('\n');
  const child = spawn('python3', ['-c', script, db, String(ms)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<void>((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lock holder exited ${code}: ${err}`)))));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('locked') && resolve());
    done.catch(reject);
  });
  return { child, done };
}

async function start(limits: Partial<ServerLimits> = {}): Promise<{ server: ChatServer; log: ServerLogEntry[]; db: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-lock-'));
  const db = path.join(dir, 'users.db');
  const log: ServerLogEntry[] = [];
  const server = await startChatServer({ profile, identity: pki.server, dbPath: db, limits, log: (e) => log.push(e) });
  return {
    server,
    log,
    db,
    stop: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Round trips of a ping and of a room message (sender → other client) while `until` is pending, every 100 ms, at most 30. */
async function roundTripsDuring(alice: ChatClient, bob: ChatClient, until: Promise<unknown>): Promise<number[]> {
  let settled = false;
  void until.finally(() => (settled = true));
  const times: number[] = [];
  for (let i = 0; i < 30 && !settled; i++) {
    const t0 = performance.now();
    await alice.request({ type: 'ping' });
    times.push(performance.now() - t0);
    const text = `during the lock ${i}`;
    const t1 = performance.now();
    await Promise.all([alice.send(text), bob.waitFor((f) => f.type === 'msg' && f.text === text)]);
    times.push(performance.now() - t1);
    await new Promise((r) => setTimeout(r, 100));
  }
  return times;
}

/** Nothing in the log is an internal error or SQLite's raw lock message. */
function expectCleanLog(log: ServerLogEntry[]): void {
  expect(log.filter((e) => e.event === 'internal_error')).toEqual([]);
  expect(JSON.stringify(log)).not.toMatch(/database is locked|SQLITE_BUSY/i);
}

describe('account database locked by another process', () => {
  it('chat and pings carry on under a 2 s write lock; register, login with stored dms and an offline dm complete after it', async () => {
    const { server, log, db, stop } = await start();
    try {
      const alice = await loggedIn(profile, pki, server.port, 'alice');
      const bob = await loggedIn(profile, pki, server.port, 'bob');
      const carol = await loggedIn(profile, pki, server.port, 'carol');
      await carol.quit();
      const erin = await loggedIn(profile, pki, server.port, 'erin');
      await erin.quit();
      await new Promise((r) => setTimeout(r, 100));
      expect(await alice.dm('carol', 'stored before the lock')).toEqual({ stored: true });

      const lock = await holdLock(db, LOCK_MS);
      const lockedAt = performance.now();
      // Requests that need the database's write lock: a registration, an offline dm, and a login
      // whose stored dm is deleted once delivered.
      const dave = await connectClient(profile, pki, server.port);
      const register = dave.register('dave', 'pw-dave-0123456789').then(() => performance.now() - lockedAt);
      const offlineDm = alice.dm('erin', 'stored during the lock').then((r) => ({ ...r, ms: performance.now() - lockedAt }));
      const carolBack = await connectClient(profile, pki, server.port);
      const carolLogin = carolBack.login('carol', 'pw-carol-0123456789');
      // bob is not waiting on the database: his ping and room message must not wait for it either.
      const times = await roundTripsDuring(bob, alice, lock.done);
      await lock.done;

      expect(times.length).toBeGreaterThanOrEqual(10); // the loop really ran through the lock
      expect(Math.max(...times)).toBeLessThan(500);
      // They waited for the lock (SQLite refused them meanwhile), then went through.
      expect(await register).toBeGreaterThan(LOCK_MS - 300);
      expect(await offlineDm).toMatchObject({ stored: true });
      expect((await offlineDm).ms).toBeGreaterThan(LOCK_MS - 300);
      await carolLogin;
      await carolBack.waitFor((f) => f.type === 'dm' && f.text === 'stored before the lock');
      await dave.login('dave', 'pw-dave-0123456789');
      await expect.poll(() => server.hub.offline.count('carol'), { timeout: 3000 }).toBe(0);
      expect(server.hub.offline.count('erin')).toBe(1);
      expectCleanLog(log);
      await Promise.all([alice.quit(), bob.quit(), carolBack.quit(), dave.quit()]);
    } finally {
      await stop();
    }
  });

  it('past accountDbLockWaitMs a request gets accounts_busy (nothing changed), and the chat carries on', async () => {
    const { server, log, db, stop } = await start({ accountDbLockWaitMs: 300 });
    try {
      const alice = await loggedIn(profile, pki, server.port, 'alice');
      const bob = await loggedIn(profile, pki, server.port, 'bob');
      const erin = await loggedIn(profile, pki, server.port, 'erin');
      await erin.quit();
      await new Promise((r) => setTimeout(r, 100));
      const lock = await holdLock(db, LOCK_MS);
      const dave = await connectClient(profile, pki, server.port);
      const t0 = performance.now();
      await expect(dave.register('dave', 'pw-dave-0123456789')).rejects.toMatchObject({ details: { code: 'accounts_busy' } });
      expect(performance.now() - t0).toBeLessThan(LOCK_MS - 500);
      await expect(alice.dm('erin', 'cannot be stored')).rejects.toMatchObject({ details: { code: 'accounts_busy' } });
      const times = await roundTripsDuring(bob, alice, lock.done);
      await lock.done;
      expect(Math.max(...times)).toBeLessThan(500);
      // Nothing was changed: dave has no account until he registers again, erin has no message.
      expect(server.hub.offline.count('erin')).toBe(0);
      await expect(dave.login('dave', 'pw-dave-0123456789')).rejects.toMatchObject({ details: { code: 'bad_credentials' } });
      await dave.register('dave', 'pw-dave-0123456789');
      expect(log.filter((e) => e.event === 'accounts_busy').map((e) => e.op)).toEqual(expect.arrayContaining(['register', 'offline store']));
      expectCleanLog(log);
      await Promise.all([alice.quit(), bob.quit(), dave.quit()]);
    } finally {
      await stop();
    }
  });
});
