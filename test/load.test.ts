/**
 * The server under load, at CI size: hundreds of TLS clients with broadcast fan-out and direct
 * messages and nothing lost or reordered; a client that stops reading cut off (slow_consumer)
 * while everyone else keeps receiving; offline direct messages stored and delivered in order,
 * across a restart; and SIGTERM telling every connection before the database closes cleanly.
 * The load comes from the benchmark's own generator (bench/load.ts). No timing assertions.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LoadFleet } from '../bench/load.ts';
import { useTestPki, profileOf, connectClient, loggedIn } from './helpers/lab-env.ts';
import { ask, rawPeer, until } from './helpers/hostile.ts';
import { startCliServer } from './helpers/cli.ts';
import { resolveTrust } from '../core/tls/certificate-verification.ts';
import { clientTlsOptions } from '../core/tls/node-options.ts';
import { startChatServer, type ChatServer, type ServerLimits, type ServerLogEntry } from '../server/chat-server.ts';
import { encodeFrame } from '../core/frames.ts';

const env = useTestPki('secchat-load-');

const profile = profileOf({ transport: 'tls', auth: { storage: 'sha256' } });
/** Every load client connects from 127.0.0.1: lift the per-address caps (and only those). */
const LOAD_LIMITS: Partial<ServerLimits> = { maxConnectionsPerIp: 10_000, maxLoginAttemptsPerIpPerMinute: 100_000 };

let dbCount = 0;
async function start(limits: Partial<ServerLimits>, log?: ServerLogEntry[], dbPath = path.join(env.tmp, `users-${++dbCount}.db`)): Promise<{ server: ChatServer; dbPath: string }> {
  const server = await startChatServer({ profile, identity: env.pki.server, dbPath, limits: { ...LOAD_LIMITS, ...limits }, log: log ? (e) => log.push(e) : undefined });
  return { server, dbPath };
}

const target = (port: number) => ({ kind: 'secchat' as const, host: '127.0.0.1', port, tls: clientTlsOptions(profile, 'localhost', resolveTrust(profile, env.pki.ca.certPem, env.pki.server.certPem)) });

describe('fan-out under load', () => {
  it('200 TLS clients: broadcasts from everyone, then dms mixed in with many per sender in flight — nothing lost, duplicated or reordered', async () => {
    const { server } = await start({});
    const fleet = await LoadFleet.connect(target(server.port), { clients: 200 });
    try {
      expect(server.hub.onlineUsers()).toHaveLength(200);
      const everyone = await fleet.fanout({ messages: 200, window: 16, timeoutMs: 45_000 });
      expect(everyone).toMatchObject({ expectedDeliveries: 200 * 199, deliveries: 200 * 199, lost: 0, duplicates: 0, reordered: 0, misattributed: 0, disconnected: 0, incomplete: false });
      // Four senders, 32 messages in flight: each sender has ~8 at once, so order is really tested.
      const mixed = await fleet.fanout({ messages: 400, window: 32, senders: 4, dmEvery: 3, timeoutMs: 45_000 });
      expect(mixed.dms).toBe(133);
      expect(mixed).toMatchObject({ lost: 0, duplicates: 0, reordered: 0, misattributed: 0, disconnected: 0, incomplete: false, serverErrors: {} });
      expect(mixed.deliveries).toBe(133 + 267 * 199);
    } finally {
      fleet.close();
      await server.close();
    }
  });

  it('a client that stops reading is disconnected with slow_consumer; the others lose nothing and server memory stays bounded', async () => {
    const maxQueueBytes = 64 * 1024;
    const log: ServerLogEntry[] = [];
    const { server } = await start({ maxQueueBytes, maxFrameBytes: 16 * 1024, maxMessageChars: 2000 }, log);
    const fleet = await LoadFleet.connect(target(server.port), { clients: 20 });
    const slow = await rawPeer(server.port, env.pki);
    try {
      await ask(slow, { type: 'register', username: 'slowpoke', password: 'slowpoke-pw-1' }, 1);
      await ask(slow, { type: 'login', username: 'slowpoke', password: 'slowpoke-pw-1' }, 2);
      slow.socket.pause(); // stops reading: the kernel buffers fill, then the server's queue
      const heapBefore = process.memoryUsage().heapUsed;
      let runs = 0;
      while (!log.some((e) => e.event === 'slow_consumer') && runs++ < 40) {
        const r = await fleet.fanout({ messages: 100, window: 16, textChars: 1500, timeoutMs: 20_000 });
        expect(r).toMatchObject({ lost: 0, reordered: 0, duplicates: 0, disconnected: 0, incomplete: false });
      }
      const cut = log.find((e) => e.event === 'slow_consumer');
      expect(cut, 'the slow consumer was never cut off').toBeDefined();
      // Its queue never held more than the limit (plus the error frame that ends it).
      expect(Number(cut!.queuedBytes)).toBeLessThanOrEqual(maxQueueBytes + 1024);
      expect(server.hub.isOnline('slowpoke')).toBe(false);
      expect(fleet.clients[0]!.closed).toBe(false);
      // It reads again within the grace period: the last thing it gets is why it was dropped.
      slow.socket.resume();
      await slow.closed;
      expect(slow.frames.at(-1)).toMatchObject({ type: 'error', code: 'slow_consumer' });
      // The room goes on, and this process's heap did not keep the dropped client's backlog.
      const after = await fleet.fanout({ messages: 200, window: 16, textChars: 1500, timeoutMs: 20_000 });
      expect(after).toMatchObject({ lost: 0, reordered: 0, disconnected: 0, incomplete: false });
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    } finally {
      slow.socket.destroy();
      fleet.close();
      await server.close();
    }
  });
});

describe('offline direct messages', () => {
  it('are stored, then delivered in order at the next login, before anything live', async () => {
    const { server } = await start({});
    try {
      const alice = await loggedIn(profile, env.pki, server.port, 'alice');
      const bob = await loggedIn(profile, env.pki, server.port, 'bob');
      await bob.quit();
      await until(() => !server.hub.isOnline('bob'));
      for (let i = 1; i <= 5; i++) expect(await alice.request({ type: 'dm', to: 'BOB', text: `while you were away ${i}` })).toMatchObject({ type: 'ok', stored: true });
      await expect(alice.dm('nobody', 'hello?')).rejects.toMatchObject({ details: { code: 'unknown_user' } });
      expect(server.hub.offline.count('bob')).toBe(5);

      const back = await connectClient(profile, env.pki, server.port);
      const loginDone = back.login('bob', 'pw-bob-0123456789');
      await loginDone;
      expect(await alice.dm('bob', 'live one')).toEqual({ stored: false });
      await back.waitFor((f) => f.type === 'dm' && f.text === 'live one');
      const dms = back.received.filter((f) => f.type === 'dm');
      expect(dms.map((f) => f.text)).toEqual([1, 2, 3, 4, 5].map((i) => `while you were away ${i}`).concat('live one'));
      expect(dms.slice(0, 5).every((f) => f.offline === true && f.from === 'alice' && typeof f.ts === 'number')).toBe(true);
      expect(dms[5]!.offline).toBeUndefined();
      // Deleted once written to the connection, not before.
      await until(() => server.hub.offline.count('bob') === 0);
      await Promise.all([alice.quit(), back.quit()]);
    } finally {
      await server.close();
    }
  });

  it('survive a server restart on the same database file, with the accounts', async () => {
    const first = await start({});
    const alice = await loggedIn(profile, env.pki, first.server.port, 'alice');
    const carol = await loggedIn(profile, env.pki, first.server.port, 'carol');
    await carol.quit();
    await until(() => !first.server.hub.isOnline('carol'));
    for (let i = 1; i <= 3; i++) await alice.dm('carol', `stored ${i}`);
    await alice.quit();
    await first.server.close();

    const db = new Database(first.dbPath, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((db.prepare('SELECT COUNT(*) AS n FROM offline_messages').get() as { n: number }).n).toBe(3);
    db.close();

    const second = await start({}, undefined, first.dbPath);
    try {
      const c = await connectClient(profile, env.pki, second.server.port);
      await c.login('carol', 'pw-carol-0123456789'); // the account survived too
      await c.waitFor(() => c.received.filter((f) => f.type === 'dm').length === 3);
      expect(c.received.filter((f) => f.type === 'dm').map((f) => f.text)).toEqual(['stored 1', 'stored 2', 'stored 3']);
      await c.quit();
    } finally {
      await second.server.close();
    }
  });

  it('are bounded per recipient: past maxOfflineMessagesPerUser the sender gets mailbox_full', async () => {
    const { server } = await start({ maxOfflineMessagesPerUser: 3 });
    try {
      const alice = await loggedIn(profile, env.pki, server.port, 'alice');
      const dave = await loggedIn(profile, env.pki, server.port, 'dave');
      await dave.quit();
      await until(() => !server.hub.isOnline('dave'));
      for (let i = 0; i < 3; i++) expect(await alice.dm('dave', `m${i}`)).toEqual({ stored: true });
      await expect(alice.dm('dave', 'one too many')).rejects.toMatchObject({ details: { code: 'mailbox_full' } });
      await alice.quit();
    } finally {
      await server.close();
    }
  });
});

describe('shutdown', () => {
  it('SIGTERM tells every connection (logged in or not), then leaves a consistent database', async () => {
    const dir = mkdtempSync(path.join(env.tmp, 'cli-'));
    const dbPath = path.join(dir, 'users.db');
    const server = await startCliServer(['--profile', 'plaintext', '--port', '0', '--db', dbPath], { cwd: dir, timeoutMs: 20_000 });
    const exited = new Promise<number | null>((r) => server.proc.once('exit', (code) => r(code)));
    try {
      const port = server.port;
      const plain = () => rawPeer(port, env.pki, { tls: false, waitWelcome: false });
      const anon = await plain();
      const user = await plain();
      user.socket.write(encodeFrame({ type: 'register', username: 'erin', password: 'erin-password-1', id: 1 }));
      user.socket.write(encodeFrame({ type: 'login', username: 'erin', password: 'erin-password-1', id: 2 }));
      await until(() => user.frames.find((f) => f.re === 2));
      await until(() => anon.frames.length > 0); // its welcome
      server.proc.kill('SIGTERM');
      await Promise.all([anon.closed, user.closed]);
      for (const c of [anon, user]) expect(c.frames.at(-1)).toMatchObject({ type: 'error', code: 'server_shutdown' });
      expect(await exited).toBe(0);
      expect(server.stderr()).toMatch(/SIGTERM: closing every connection/);
      const db = new Database(dbPath, { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare('SELECT username FROM users').all()).toEqual([{ username: 'erin' }]);
      db.close();
    } finally {
      server.proc.kill('SIGKILL');
    }
  });
});
