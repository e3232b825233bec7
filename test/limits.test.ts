/**
 * Every server limit (server/limits.ts ServerLimits) hit by a hostile client, while two
 * bystanders keep chatting in the same room. Limits are set small so each test is quick; the
 * hostile client connects from another loopback address (127.0.0.x) where per-address limits
 * matter, so the bystanders on 127.0.0.1 are not the ones being limited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { makeTestPki, profileOf, connectClient } from './helpers/lab-env.ts';
import { arena, ask, rawPeer, until, type Arena } from './helpers/hostile.ts';
import type { PkiMaterial } from '../core/pki.ts';
import { DEFAULT_LIMITS, validateLimits, startChatServer } from '../server/chat-server.ts';
import type { ServerLimits } from '../server/chat-server.ts';

let pki: PkiMaterial;
let cleanup: () => void;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
});
afterAll(() => cleanup());

const profile = profileOf({ transport: 'tls', auth: { storage: 'sha256' } });

/** Runs `body` against a fresh server with `limits` and two bystanders. */
async function withArena(limits: Partial<ServerLimits>, body: (a: Arena) => Promise<void>): Promise<void> {
  const a = await arena(profile, pki, limits);
  try {
    await body(a);
  } finally {
    await a.stop();
  }
}

describe('limits are validated at start', () => {
  it('documents a default for every limit and accepts the defaults', () => {
    expect(() => validateLimits(DEFAULT_LIMITS)).not.toThrow();
    for (const v of Object.values(DEFAULT_LIMITS)) expect(Number.isInteger(v) && v > 0).toBe(true);
  });

  it('rejects bad values and impossible combinations, naming every option involved', async () => {
    expect(() => validateLimits({ ...DEFAULT_LIMITS, idleTimeoutMs: 0, maxQueueBytes: -1 })).toThrow(/idleTimeoutMs \(got 0\), maxQueueBytes \(got -1\)/);
    expect(() => validateLimits({ ...DEFAULT_LIMITS, maxFrameBytes: 4096, maxMessageChars: 4096 })).toThrow(/maxMessageChars \(4096\) needs maxFrameBytes >= 25088/);
    expect(() => validateLimits({ ...DEFAULT_LIMITS, maxQueueBytes: 65536 })).toThrow(/maxQueueBytes \(65536\) must be at least twice maxFrameBytes/);
    await expect(startChatServer({ profile, identity: pki.server, dbPath: ':memory:', limits: { maxConnectionsPerIp: 0 } })).rejects.toThrow(/maxConnectionsPerIp/);
  });
});

describe('each limit, with a hostile client and two bystanders', () => {
  it('maxFrameBytes: an oversized frame gets frame_too_large and a close', async () => {
    await withArena({ maxFrameBytes: 4096, maxMessageChars: 500 }, async (a) => {
      const h = await rawPeer(a.server.port, pki, { from: '127.0.0.2' });
      h.socket.write('{"type":"msg","text":"' + 'A'.repeat(10_000)); // no newline: refused before it is complete
      await h.closed;
      expect(h.frames.at(-1)).toMatchObject({ type: 'error', code: 'frame_too_large' });
      await a.stillChatting();
    });
  });

  it('maxMessageChars: a long message gets message_too_long, the connection stays', async () => {
    await withArena({ maxMessageChars: 100 }, async (a) => {
      const h = await rawPeer(a.server.port, pki, { from: '127.0.0.2' });
      await ask(h, { type: 'register', username: 'mallory', password: 'mallory-pw-1' }, 1);
      await ask(h, { type: 'login', username: 'mallory', password: 'mallory-pw-1' }, 2);
      expect(await ask(h, { type: 'msg', text: 'x'.repeat(101) }, 3)).toMatchObject({ type: 'error', code: 'message_too_long' });
      expect(await ask(h, { type: 'dm', to: 'bob', text: 'y'.repeat(5000) }, 4)).toMatchObject({ type: 'error', code: 'message_too_long' });
      expect(await ask(h, { type: 'msg', text: 'x'.repeat(100) }, 5)).toMatchObject({ type: 'ok' });
      expect(a.bob.received.some((f) => f.type === 'msg' && String(f.text).length > 100)).toBe(false);
      await a.stillChatting();
    });
  });

  it('handshakeTimeoutMs: a TCP connection that never completes TLS is closed', async () => {
    await withArena({ handshakeTimeoutMs: 300 }, async (a) => {
      const silent = await rawPeer(a.server.port, pki, { from: '127.0.0.2', tls: false });
      const partial = await rawPeer(a.server.port, pki, { from: '127.0.0.2', tls: false });
      partial.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])); // a ClientHello that never finishes
      await a.stillChatting();
      await Promise.all([silent.closed, partial.closed]);
      expect(a.log.filter((e) => e.event === 'tls_error' && e.code === 'ERR_TLS_HANDSHAKE_TIMEOUT').length).toBe(2);
      await a.stillChatting();
    });
  });

  it('loginTimeoutMs: a TLS client that never logs in gets timeout and a close', async () => {
    await withArena({ loginTimeoutMs: 400 }, async (a) => {
      const h = await rawPeer(a.server.port, pki, { from: '127.0.0.2' });
      h.send({ type: 'users' }); // talking is not logging in
      await h.closed;
      expect(h.frames.map((f) => f.code).filter(Boolean)).toEqual(['not_logged_in', 'timeout']);
      await a.stillChatting();
    });
  });

  it('idleTimeoutMs: a logged-in client that sends nothing is closed, even while the room is busy; pinging clients stay', async () => {
    await withArena({ idleTimeoutMs: 600 }, async (a) => {
      expect(a.alice.welcome?.idleTimeoutMs).toBe(600);
      const h = await rawPeer(a.server.port, pki, { from: '127.0.0.2' });
      await ask(h, { type: 'register', username: 'lurker', password: 'lurker-pw-1' }, 1);
      await ask(h, { type: 'login', username: 'lurker', password: 'lurker-pw-1' }, 2);
      const started = Date.now();
      // The room stays busy (frames written *to* the lurker) for more than twice the idle timeout.
      while (Date.now() - started < 1500) await a.stillChatting();
      await h.closed;
      expect(h.frames.at(-1)).toMatchObject({ type: 'error', code: 'timeout' });
      expect(h.frames.some((f) => f.type === 'msg')).toBe(true); // it was receiving until then
      // alice and bob said something only every few ms but also pinged (client/keepalive.ts): still here.
      await new Promise((r) => setTimeout(r, 1300));
      expect(a.alice.closed || a.bob.closed).toBe(false);
      await a.stillChatting();
    });
  });

  it('maxConnectionsPerIp: connections over the cap from one address are closed at once, before TLS', async () => {
    await withArena({ maxConnectionsPerIp: 3 }, async (a) => {
      // Plain TCP sockets: the kernel completes the connection before the server can refuse it.
      const peers = Array.from({ length: 6 }, () => {
        const socket = net.connect({ host: '127.0.0.1', port: a.server.port, localAddress: '127.0.0.2' });
        socket.on('error', () => {});
        let closed = false;
        socket.once('close', () => (closed = true));
        return { socket, isClosed: () => closed };
      });
      await until(() => peers.filter((p) => p.isClosed()).length === 3, 3000, 'three refused');
      await new Promise((r) => setTimeout(r, 100));
      expect(peers.filter((p) => p.isClosed()).length).toBe(3);
      expect(a.log.filter((e) => e.event === 'too_many_connections')).toHaveLength(3);
      // Other addresses are not affected, and a slot frees up when a connection closes.
      const carol = await connectClient(profile, pki, a.server.port);
      await a.stillChatting();
      for (const p of peers) p.socket.destroy();
      let again = null;
      for (const end = Date.now() + 3000; !again && Date.now() < end; ) {
        again = await rawPeer(a.server.port, pki, { from: '127.0.0.2' }).catch(() => null); // until the server saw the closes
        if (!again) await new Promise((r) => setTimeout(r, 50));
      }
      if (!again) throw new Error('127.0.0.2 never got a slot back');
      expect(again.frames[0]).toMatchObject({ type: 'welcome' });
      again.socket.destroy();
      carol.close();
    });
  });

  it('maxLoginAttemptsPerAccountPerMinute: guessing locks the account (rate_limited), even for the right password; others log in', async () => {
    await withArena({ maxLoginAttemptsPerAccountPerMinute: 3 }, async (a) => {
      const victim = await connectClient(profile, pki, a.server.port);
      await victim.register('victim', 'victim-password-1');
      victim.close();
      const h = await rawPeer(a.server.port, pki, { from: '127.0.0.2' });
      for (let i = 0; i < 3; i++) expect(await ask(h, { type: 'login', username: 'victim', password: `guess-${i}` }, i)).toMatchObject({ code: 'bad_credentials' });
      const locked = await ask(h, { type: 'login', username: 'VICTIM', password: 'guess-3' }, 9); // another spelling is the same account
      expect(locked).toMatchObject({ type: 'error', code: 'rate_limited', scope: 'account' });
      expect(locked.retryAfterMs).toBeGreaterThan(55_000);
      expect(String(locked.message)).toMatch(/too many failed logins for victim; try again in \d+ s/);
      // The lockout holds for the right password too (no oracle), from any address, until the minute slides.
      const real = await rawPeer(a.server.port, pki, { from: '127.0.0.3' });
      expect(await ask(real, { type: 'login', username: 'victim', password: 'victim-password-1' }, 1)).toMatchObject({ code: 'rate_limited' });
      // Other accounts are fine.
      const carol = await connectClient(profile, pki, a.server.port);
      await carol.register('carol', 'carol-password-1');
      await carol.login('carol', 'carol-password-1');
      carol.close();
      await a.stillChatting();
      expect(a.log.some((e) => e.event === 'rate_limited' && e.scope === 'account')).toBe(true);
    });
  });

  it('maxLoginAttemptsPerIpPerMinute: one address spraying logins and registrations is refused; other addresses are not', async () => {
    await withArena({ maxLoginAttemptsPerIpPerMinute: 5 }, async (a) => {
      const h = await rawPeer(a.server.port, pki, { from: '127.0.0.2' });
      for (let i = 0; i < 5; i++) expect((await ask(h, { type: 'login', username: `user${i}`, password: 'password-1' }, i)).code).toBe('bad_credentials');
      expect(await ask(h, { type: 'login', username: 'user9', password: 'password-1' }, 10)).toMatchObject({ code: 'rate_limited', scope: 'address' });
      expect(await ask(h, { type: 'register', username: 'spam1', password: 'password-1' }, 11)).toMatchObject({ code: 'rate_limited', scope: 'address' });
      const other = await rawPeer(a.server.port, pki, { from: '127.0.0.3' });
      expect(await ask(other, { type: 'register', username: 'dave', password: 'dave-password-1' }, 1)).toMatchObject({ type: 'ok' });
      expect(await ask(other, { type: 'login', username: 'dave', password: 'dave-password-1' }, 2)).toMatchObject({ type: 'ok' });
      await a.stillChatting();
    });
  });

  it('username rules: look-alikes, control and bidi characters cannot register or impersonate', async () => {
    await withArena({}, async (a) => {
      const h = await rawPeer(a.server.port, pki, { from: '127.0.0.2' });
      const reg = (username: string, id: number) => ask(h, { type: 'register', username, password: 'mallory-pw-1' }, id);
      expect(await reg('ＡＬＩＣＥ', 1)).toMatchObject({ code: 'username_taken' }); // fullwidth capitals = alice
      expect(await reg('Bob', 2)).toMatchObject({ code: 'username_taken' });
      expect(await reg('\u202Eecila', 3)).toMatchObject({ code: 'invalid_username' });
      expect(await reg('alice\u001b[0m', 4)).toMatchObject({ code: 'invalid_username' });
      expect(await reg('аlice', 5)).toMatchObject({ code: 'invalid_username' }); // Cyrillic а
      expect(await reg('x'.repeat(33), 6)).toMatchObject({ code: 'invalid_username' });
      expect(await reg('x'.repeat(60_000), 7)).toMatchObject({ code: 'invalid_username' }); // refused before NFKC runs
      // Logging in under another spelling reaches the same account: the one already online.
      expect(await ask(h, { type: 'login', username: 'ＡＬＩＣＥ', password: 'pw-alice-0123456789' }, 8)).toMatchObject({ code: 'already_logged_in' });
      expect(a.alice.received.filter((f) => f.type === 'joined').map((f) => f.username)).toEqual(['bob']);
      await a.stillChatting();
    });
  });

  it('maxPendingFramesPerConnection + maxQueueBytes: a client flooding requests without reading is cut off, not buffered', async () => {
    await withArena({ maxQueueBytes: 128 * 1024, maxPendingFramesPerConnection: 16 }, async (a) => {
      const h = await rawPeer(a.server.port, pki, { from: '127.0.0.2' });
      await ask(h, { type: 'register', username: 'flood', password: 'flood-pw-12' }, 1);
      await ask(h, { type: 'login', username: 'flood', password: 'flood-pw-12' }, 2);
      h.socket.pause(); // stop reading
      const burst = Buffer.from('{"type":"users"}\n'.repeat(20_000));
      for (let i = 0; i < 10 && !h.socket.destroyed; i++) h.socket.write(burst);
      await until(() => a.log.find((e) => e.event === 'slow_consumer'), 10_000, 'slow_consumer');
      const entry = a.log.find((e) => e.event === 'slow_consumer')!;
      expect(Number(entry.queuedBytes)).toBeLessThanOrEqual(128 * 1024 + 1024);
      expect(a.server.hub.isOnline('flood')).toBe(false);
      await a.stillChatting();
      h.socket.destroy();
    });
  });
});
