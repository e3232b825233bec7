/**
 * Challenge–response login end to end over real loopback sockets: every storage over plain and
 * TLS, wrong passwords, replayed proofs (new connection), stale nonces, refusals of the other
 * method, and the client refusing a downgrade its profile does not allow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { makeTestPki, profileOf, startTestServer, connectClient } from './helpers/lab-env.ts';
import type { PkiMaterial } from '../core/pki.ts';
import { deriveVerifierKey, loginProof, parseChallenge } from '../core/auth-proof.ts';
import { FrameDecoder, type Frame } from '../core/frames.ts';
import type { ChatClient } from '../client/chat-client.ts';

let pki: PkiMaterial;
let cleanup: () => void;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
});
afterAll(() => cleanup());

const PASSWORD = 'correct horse battery';

/** Runs the challenge step by hand and returns the proof the client would send. */
async function handProof(c: ChatClient, username: string, password = PASSWORD): Promise<string> {
  const ch = await c.request({ type: 'auth_challenge', username });
  const parsed = parseChallenge(ch, username, 'plaintext');
  return loginProof(await deriveVerifierKey(password, parsed), parsed.nonce, username).toString('base64');
}

describe.each(['plain', 'tls'] as const)('challenge login over %s', (transport) => {
  describe.each(['plaintext', 'sha256', 'scrypt'] as const)('storage %s', (storage) => {
    const profile = profileOf({ transport, auth: { storage, method: 'challenge' } });

    it('logs in without the password on the wire, refuses a wrong one, and refuses a replayed proof', async () => {
      const { server, stop } = await startTestServer(profile, pki);
      try {
        const reg = await connectClient(profile, pki, server.port);
        expect(reg.welcome?.auth).toBe('challenge');
        await reg.register('alice', PASSWORD); // registration still carries the password
        await expect(reg.login('alice', 'not the password')).rejects.toMatchObject({ details: { code: 'bad_credentials' } });
        expect(await reg.login('Alice', PASSWORD)).toEqual(['alice']); // username normalized on both sides
        expect(reg.username).toBe('alice');
        await reg.quit();

        // Capture a valid exchange, then replay its proof from a new connection.
        const victim = await connectClient(profile, pki, server.port);
        const proof = await handProof(victim, 'alice');
        await victim.request({ type: 'login', username: 'alice', proof });
        await victim.quit();
        const attacker = await connectClient(profile, pki, server.port);
        await expect(attacker.request({ type: 'login', username: 'alice', proof })).rejects.toMatchObject({ details: { code: 'stale_challenge' } });
        await attacker.request({ type: 'auth_challenge', username: 'alice' }); // a fresh nonce does not help either
        await expect(attacker.request({ type: 'login', username: 'alice', proof })).rejects.toMatchObject({ details: { code: 'bad_credentials' } });
        attacker.close();
      } finally {
        await stop();
      }
    });
  });
});

describe('challenge login: nonces, and each method refusing the other', () => {
  it('refuses a proof for an expired nonce, and a proof used twice', async () => {
    const profile = profileOf({ transport: 'plain', auth: { storage: 'sha256', method: 'challenge' } });
    const { server, stop } = await startTestServer(profile, pki, { challengeTtlMs: 150 });
    try {
      const c = await connectClient(profile, pki, server.port);
      await c.register('alice', PASSWORD);
      const late = await handProof(c, 'alice');
      await new Promise((r) => setTimeout(r, 250));
      await expect(c.request({ type: 'login', username: 'alice', proof: late })).rejects.toMatchObject({ details: { code: 'stale_challenge' }, message: /expired/ });
      const proof = await handProof(c, 'alice');
      await c.request({ type: 'login', username: 'alice', proof });
      await c.quit();
      const again = await connectClient(profile, pki, server.port);
      await expect(again.request({ type: 'login', username: 'alice', proof })).rejects.toMatchObject({ details: { code: 'stale_challenge' } });
      again.close();
    } finally {
      await stop();
    }
  });

  it('a challenge server refuses a password login with bad_request saying why', async () => {
    const profile = profileOf({ transport: 'plain', auth: { storage: 'scrypt', method: 'challenge' } });
    const { server, stop } = await startTestServer(profile, pki);
    try {
      const c = await connectClient(profile, pki, server.port);
      await c.register('alice', PASSWORD);
      await expect(c.request({ type: 'login', username: 'alice', password: PASSWORD })).rejects.toMatchObject({ details: { code: 'bad_request' }, message: /challenge-response login .* refuses passwords/ });
      c.close();
    } finally {
      await stop();
    }
  });

  it('a password server refuses proofs and challenges; a challenge-profile client refuses to send it the password', async () => {
    const serverProfile = profileOf({ transport: 'plain', auth: { storage: 'sha256', method: 'password' } });
    const { server, stop } = await startTestServer(serverProfile, pki);
    try {
      const c = await connectClient(serverProfile, pki, server.port);
      await c.register('alice', PASSWORD);
      await expect(c.request({ type: 'auth_challenge', username: 'alice' })).rejects.toMatchObject({ details: { code: 'bad_request' }, message: /issues no challenges/ });
      await expect(c.request({ type: 'login', username: 'alice', proof: Buffer.alloc(32).toString('base64') })).rejects.toMatchObject({ details: { code: 'bad_request' }, message: /not challenge proofs/ });
      c.close();

      // What a man-in-the-middle rewriting the welcome to "password" would get: nothing.
      const strict = profileOf({ transport: 'plain', auth: { storage: 'sha256', method: 'challenge' } });
      const s = await connectClient(strict, pki, server.port);
      const sent: Frame[] = [];
      const origSend = s.sendFrame.bind(s);
      s.sendFrame = (f: Frame) => {
        sent.push(f);
        origSend(f);
      };
      await expect(s.login('alice', PASSWORD)).rejects.toMatchObject({ code: 'SECCHAT_ERR_PROTOCOL', details: { reason: 'auth downgrade' } });
      expect(sent).toEqual([]);
      s.close();
    } finally {
      await stop();
    }
  });

  it('a password-profile client follows a server that asks for challenge-response', async () => {
    const serverProfile = profileOf({ transport: 'plain', auth: { storage: 'sha256', method: 'challenge' } });
    const { server, stop } = await startTestServer(serverProfile, pki);
    try {
      const lax = profileOf({ transport: 'plain', auth: { storage: 'plaintext', method: 'password' } });
      const c = await connectClient(lax, pki, server.port);
      await c.register('alice', PASSWORD);
      await c.login('alice', PASSWORD);
      expect(c.received.some((f) => f.type === 'challenge')).toBe(true);
      await c.quit();
    } finally {
      await stop();
    }
  });

  it('a client whose profile says scrypt refuses a challenge for a sha256 verifier', async () => {
    const serverProfile = profileOf({ transport: 'plain', auth: { storage: 'sha256', method: 'challenge' } });
    const { server, stop } = await startTestServer(serverProfile, pki);
    try {
      const strict = profileOf({ transport: 'plain', auth: { storage: 'scrypt', method: 'challenge' } });
      const c = await connectClient(strict, pki, server.port);
      await c.register('alice', PASSWORD);
      await expect(c.login('alice', PASSWORD)).rejects.toThrow(/sha256 verifier, weaker than this profile's auth.storage \(scrypt\)/);
      c.close();
    } finally {
      await stop();
    }
  });

  it('the password never crosses the wire in a challenge login (raw capture over plain TCP)', async () => {
    const profile = profileOf({ transport: 'plain', auth: { storage: 'scrypt', method: 'challenge' } });
    const { server, stop } = await startTestServer(profile, pki);
    try {
      const reg = await connectClient(profile, pki, server.port);
      await reg.register('alice', PASSWORD);
      reg.close();
      // A tapping relay in front of the server records what the client sends.
      const seen: Buffer[] = [];
      const tap = net.createServer((down) => {
        const up = net.connect(server.port, '127.0.0.1');
        down.on('data', (b) => (seen.push(b), up.write(b)));
        up.on('data', (b) => down.write(b));
        down.on('close', () => up.destroy());
        up.on('close', () => down.destroy());
        down.on('error', () => {});
        up.on('error', () => {});
      });
      await new Promise<void>((r) => tap.listen(0, '127.0.0.1', r));
      const c = await connectClient(profile, pki, (tap.address() as net.AddressInfo).port);
      await c.login('alice', PASSWORD);
      await c.quit();
      tap.close();
      const wire = Buffer.concat(seen).toString('utf8');
      expect(wire).toContain('"proof"');
      expect(wire).not.toContain(PASSWORD);
      const d = new FrameDecoder();
      d.push(Buffer.concat(seen));
      const types: string[] = [];
      for (let f = d.next(); f; f = d.next()) types.push(f.type);
      expect(types).toEqual(['auth_challenge', 'login', 'quit']);
    } finally {
      await stop();
    }
  });
});
