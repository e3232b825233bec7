import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { useTestPki, profileOf, startTestServer, connectClient, loggedIn } from './helpers/lab-env.ts';
import { rawPeer, until } from './helpers/hostile.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startChatServer, type ChatServer } from '../server/chat-server.ts';

const env = useTestPki('secchat-chat-e2e-');

describe('chat over TLS, end to end', () => {
  const profile = profileOf({ transport: 'tls' });
  let server: ChatServer;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ server, stop } = await startTestServer(profile, env.pki, { maxFrameBytes: 4096, maxMessageChars: 100 }));
  });
  afterAll(async () => stop());

  it('registers, logs in, broadcasts, sends direct messages, lists users, announces joins and leaves', async () => {
    const alice = await loggedIn(profile, env.pki, server.port, 'alice');
    expect(alice.negotiated?.protocol).toBe('TLSv1.3');
    const bob = await loggedIn(profile, env.pki, server.port, 'bob');
    const carol = await loggedIn(profile, env.pki, server.port, 'carol');
    await alice.waitFor((f) => f.type === 'joined' && f.username === 'carol');
    expect(await alice.users()).toEqual(['alice', 'bob', 'carol']);

    await alice.send('hello room');
    for (const c of [bob, carol]) expect((await c.waitFor((f) => f.type === 'msg')).text).toBe('hello room');
    expect(alice.received.some((f) => f.type === 'msg')).toBe(false); // no echo to the sender

    await alice.dm('bob', 'just for bob');
    expect(await bob.waitFor((f) => f.type === 'dm')).toMatchObject({ from: 'alice', to: 'bob', text: 'just for bob' });
    await new Promise((r) => setTimeout(r, 50));
    expect(carol.received.some((f) => f.type === 'dm')).toBe(false);

    await expect(alice.dm('dave', 'x')).rejects.toMatchObject({ details: { code: 'unknown_user' } }); // no such account (offline users get their dms stored)
    await carol.quit();
    expect(await alice.waitFor((f) => f.type === 'left')).toMatchObject({ username: 'carol' });
    await Promise.all([alice.quit(), bob.quit()]);
  });

  it('allows one login per username at a time and refuses wrong passwords', async () => {
    const a1 = await loggedIn(profile, env.pki, server.port, 'erin');
    const a2 = await connectClient(profile, env.pki, server.port);
    await expect(a2.login('erin', 'pw-erin-0123456789')).rejects.toMatchObject({ details: { code: 'already_logged_in' } });
    await expect(a2.login('erin', 'wrong-password')).rejects.toMatchObject({ details: { code: 'bad_credentials' } });
    await expect(a2.register('ERIN', 'another-password')).rejects.toMatchObject({ details: { code: 'username_taken' } }); // case-folded
    await a1.quit();
    await a2.login('erin', 'pw-erin-0123456789');
    await a2.quit();
  });

  it('answers bad input with error frames, closes only unusable streams, and others carry on', async () => {
    const bystanderA = await loggedIn(profile, env.pki, server.port, 'frank');
    const bystanderB = await loggedIn(profile, env.pki, server.port, 'grace');

    const h = await rawPeer(server.port, env.pki, { waitWelcome: false });
    h.socket.write('this is not json\n');
    h.socket.write('{"type":"teleport"}\n');
    h.socket.write('{"type":"msg","text":"before login"}\n');
    h.socket.write('{"type":"login","username":"x"}\n');
    await until(() => h.frames.filter((f) => f.type === 'error').length >= 4);
    expect(h.frames.filter((f) => f.type === 'error').map((f) => f.code)).toEqual(['bad_json', 'unknown_type', 'not_logged_in', 'bad_request']);
    expect(h.socket.destroyed).toBe(false); // recoverable errors keep the connection

    h.socket.write('{"type":"msg","text":"' + 'A'.repeat(5000) + '"}\n'); // over maxFrameBytes = 4096
    await h.closed;
    expect(h.frames.at(-1)).toMatchObject({ type: 'error', code: 'frame_too_large' });

    await bystanderA.send('still here?');
    expect((await bystanderB.waitFor((f) => f.type === 'msg' && f.text === 'still here?')).from).toBe('frank');
    // The server refuses an over-long message (sent raw here), and the client refuses it before sending.
    await expect(bystanderA.request({ type: 'msg', text: 'x'.repeat(101) })).rejects.toMatchObject({ details: { code: 'message_too_long' } });
    await expect(bystanderA.send('x'.repeat(101))).rejects.toThrow(/message of 101 characters is longer than the server's limit of 100; not sent/);
    await Promise.all([bystanderA.quit(), bystanderB.quit()]);
  });

  it('knows a TLS connection is TLS whether or not it logs: starttls is "already active", not "not offered"', async () => {
    // The server reads the negotiated parameters only when it logs; the rules' TLS flag must not depend on that.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-test-srv-'));
    const logged = await startChatServer({ profile, identity: env.pki.server, dbPath: path.join(dir, 'users.db'), log: () => {} });
    try {
      for (const port of [server.port, logged.port]) {
        const h = await rawPeer(port, env.pki, { waitWelcome: false });
        await until(() => h.frames.some((f) => f.type === 'welcome'));
        h.socket.write('{"type":"starttls"}\n');
        await until(() => h.frames.some((f) => f.type === 'error'));
        expect(h.frames.find((f) => f.type === 'error'), `server on port ${port}`).toMatchObject({ code: 'bad_request', message: 'TLS is already active' });
        h.socket.destroy();
      }
    } finally {
      await logged.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('survives a client that resets mid-handshake', async () => {
    const s = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00])); // a truncated ClientHello
    s.destroy();
    const c = await loggedIn(profile, env.pki, server.port, 'heidi');
    expect(await c.users()).toContain('heidi');
    await c.quit();
  });
});

describe('chat over plaintext', () => {
  it('works without TLS (and the client reports no negotiated parameters)', async () => {
    const profile = profileOf({ transport: 'plain' });
    const { server, stop } = await startTestServer(profile, env.pki);
    const a = await loggedIn(profile, env.pki, server.port, 'alice');
    const b = await loggedIn(profile, env.pki, server.port, 'bob');
    expect(a.negotiated).toBeNull();
    await a.dm('bob', 'plain hello');
    expect((await b.waitFor((f) => f.type === 'dm')).text).toBe('plain hello');
    await Promise.all([a.quit(), b.quit()]);
    await stop();
  });
});

/**
 * The library side of offline direct messages: the server pushes the stored dm right behind the
 * login ok (often in one TCP read). ChatClient must keep it in `received` and not drop it at the
 * trust gate (client/connection-rules.ts), over TLS and inside a secure channel alike.
 */
describe('offline direct message, ChatClient.received', () => {
  for (const [name, partial] of [
    ['tls', { transport: 'tls' }],
    ['secure channel', { transport: 'plain', client: { verify: 'ca', checkHostname: true }, channel: { keyExchange: 'ecdhe-signed', ciphers: ['aes-256-gcm'], transcriptMac: true, replayProtection: 'sequence' } }],
  ] as const) {
    it(`is received at the next login (${name})`, async () => {
      const profile = profileOf(partial);
      const { server, stop } = await startTestServer(profile, env.pki);
      try {
        const alice = await loggedIn(profile, env.pki, server.port, 'alice');
        const carol = await loggedIn(profile, env.pki, server.port, 'carol');
        await carol.quit();
        await until(() => !server.hub.isOnline('carol'));
        expect(await alice.dm('carol', 'offline-test-1')).toEqual({ stored: true });

        const back = await connectClient(profile, env.pki, server.port);
        await back.login('carol', 'pw-carol-0123456789');
        const dm = await back.waitFor((f) => f.type === 'dm', 5000);
        expect(dm).toMatchObject({ type: 'dm', from: 'alice', to: 'carol', text: 'offline-test-1', offline: true });
        expect(back.received.filter((f) => f.type === 'dm')).toHaveLength(1);
        expect(back.droppedUnprotected).toBe(0);
        // Deleted on the server only once written, and it was written: nothing is left to lose.
        await until(() => server.hub.offline.count('carol') === 0);
        await Promise.all([alice.quit(), back.quit()]);
      } finally {
        await stop();
      }
    });
  }
});
