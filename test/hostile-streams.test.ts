/**
 * Hostile and careless peers over real loopback sockets (issue 12 items 1, 2, 3, 10): a poisoned
 * stream ends instead of spinning, every close path destroys its socket and releases its
 * per-address slot, a fast sender is slowed instead of its readers being cut, and after
 * `starttls_ok` the server writes nothing in plaintext.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import tls from 'node:tls';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTestPki, profileOf, startTestServer, loggedIn } from './helpers/lab-env.ts';
import { until } from './helpers/hostile.ts';
import { FrameDecoder, encodeFrame, type Frame } from '../core/frames.ts';
import type { PkiMaterial } from '../core/pki.ts';
import { CLOSE_GRACE_MS } from '../server/limits.ts';

let pki: PkiMaterial;
let cleanup: () => void;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
});
afterAll(() => cleanup());

const here = path.dirname(fileURLToPath(import.meta.url));

/** Collects frames from `socket` until a fatal decoder error (then stops). */
function collect(socket: net.Socket): Frame[] {
  const frames: Frame[] = [];
  const d = new FrameDecoder({ maxFrameBytes: 1 << 22 });
  socket.on('data', (b: Buffer) => {
    d.push(b);
    try {
      for (let f = d.next(); f; f = d.next()) frames.push(f);
    } catch {
      socket.destroy();
    }
  });
  return frames;
}

describe('a poisoned stream ends, it does not spin', () => {
  it('a server that sends 65,536 bytes without a newline: the client reports frame_too_large once and closes', async () => {
    const fake = net.createServer((s) => {
      s.on('error', () => {});
      s.write(encodeFrame({ type: 'welcome', server: 'secchat', version: 1, transport: 'plain', auth: 'password', idleTimeoutMs: 60_000 }));
      s.once('data', () => s.write(Buffer.alloc(65_536, 0x41))); // after the client's first request
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const port = (fake.address() as net.AddressInfo).port;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'helpers', 'poisoned-client-child.ts'), String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    // A spinning client never exits on its own: kill it after a bound and let the assertions say so.
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearTimeout(killer);
    fake.close();
    expect(code, `child exit (stderr: ${err})`).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines.filter((l) => l.includes('frame_too_large'))).toHaveLength(1);
    expect(lines.at(-1)).toBe('closed');
  }, 30_000);

  it('after frame_too_large the server destroys the connection, though the peer keeps its side open and keeps sending', async () => {
    const { server, stop } = await startTestServer(profileOf({ transport: 'plain' }), pki, { maxFrameBytes: 32 * 1024, maxMessageChars: 1024, maxQueueBytes: 128 * 1024 });
    try {
      const peer = net.connect({ host: '127.0.0.1', port: server.port, allowHalfOpen: true });
      peer.on('error', () => {});
      const frames = collect(peer);
      await new Promise<void>((r) => peer.once('connect', () => r()));
      peer.write(Buffer.alloc(40 * 1024, 0x41));
      await until(() => frames.find((f) => f.code === 'frame_too_large'), 5000, 'frame_too_large');
      // The peer goes on writing (it never ends its side): the server must not keep reading it.
      const started = Date.now();
      const pump = setInterval(() => !peer.destroyed && peer.write(Buffer.alloc(16 * 1024, 0x42)), 20);
      await until(() => server.connectionCount() === 0, CLOSE_GRACE_MS + 3000, 'the server to destroy the poisoned connection');
      clearInterval(pump);
      expect(Date.now() - started).toBeLessThan(CLOSE_GRACE_MS + 3000);
      expect(frames.filter((f) => f.code === 'frame_too_large')).toHaveLength(1);
      peer.destroy();
    } finally {
      await stop();
    }
  });
});

describe('closed means gone', () => {
  it('16 silent TLS peers from one address time out, are destroyed and release the address: a 17th client logs in', async () => {
    const profile = profileOf({ transport: 'tls', auth: { storage: 'sha256' } });
    const { server, stop } = await startTestServer(profile, pki, { loginTimeoutMs: 300, maxConnectionsPerIp: 16 });
    const silent: tls.TLSSocket[] = [];
    try {
      for (let i = 0; i < 16; i++) {
        // A peer that completes the handshake and then never sends, reads or closes anything.
        const raw = net.connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.2', allowHalfOpen: true });
        const s = tls.connect({ socket: raw, servername: 'localhost', ca: pki.ca.certPem, allowHalfOpen: true } as tls.ConnectionOptions);
        s.on('error', () => {});
        raw.on('error', () => {});
        await new Promise<void>((r, j) => s.once('secureConnect', () => r()).once('close', () => j(new Error('closed while connecting'))));
        s.pause();
        silent.push(s);
      }
      await until(() => server.connectionCount() === 0, 300 + CLOSE_GRACE_MS + 3000, 'the silent peers to be destroyed');
      // The address is free again: a 17th client from it connects and logs in.
      const raw = net.connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.2' });
      const s = tls.connect({ socket: raw, servername: 'localhost', ca: pki.ca.certPem });
      s.on('error', () => {});
      const frames = collect(s);
      await new Promise<void>((r, j) => s.once('secureConnect', () => r()).once('close', () => j(new Error('17th client refused'))));
      s.write(encodeFrame({ type: 'register', username: 'seventeen', password: 'seventeen-pw-1', id: 1 }));
      s.write(encodeFrame({ type: 'login', username: 'seventeen', password: 'seventeen-pw-1', id: 2 }));
      expect(await until(() => frames.find((f) => f.re === 2), 10_000, `login answer (got ${JSON.stringify(frames)})`)).toMatchObject({ type: 'ok', username: 'seventeen' });
      s.destroy();
    } finally {
      for (const s of silent) s.destroy();
      await stop();
    }
  });

  it('an idle timeout and a refused connection are destroyed too, whatever the peer does', async () => {
    const profile = profileOf({ transport: 'plain' });
    const { server, stop } = await startTestServer(profile, pki, { idleTimeoutMs: 300, maxConnectionsPerIp: 1 });
    try {
      const first = net.connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.3', allowHalfOpen: true });
      first.on('error', () => {});
      const firstFrames = collect(first);
      await until(() => firstFrames.find((f) => f.type === 'welcome'), 5000, 'welcome');
      // Over the per-address cap: told so, then destroyed even though it never closes its side.
      const second = net.connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.3', allowHalfOpen: true });
      second.on('error', () => {});
      const secondFrames = collect(second);
      const secondClosed = new Promise<void>((r) => second.once('close', () => r()));
      // It keeps its side open and keeps talking: only a destroyed server socket answers with a reset.
      const talk = setInterval(() => !second.destroyed && second.write('still here\n'), 100);
      secondClosed.then(() => clearInterval(talk));
      await until(() => secondFrames.find((f) => f.code === 'too_many_connections'), 5000, 'too_many_connections');
      await until(() => firstFrames.find((f) => f.code === 'timeout'), 5000, 'idle timeout');
      await until(() => server.connectionCount() === 0, CLOSE_GRACE_MS + 3000, 'the idle connection to be destroyed');
      await Promise.race([secondClosed, new Promise((_, j) => setTimeout(() => j(new Error('refused connection never destroyed')), CLOSE_GRACE_MS + 3000))]);
      first.destroy();
    } finally {
      await stop();
    }
  });
});

describe('backpressure, not disconnection', () => {
  const profile = profileOf({ transport: 'tls', auth: { storage: 'sha256' } });

  /** A raw TLS sender logged in as `name`; it reads everything the server sends it. */
  async function rawSender(port: number, name: string): Promise<{ socket: tls.TLSSocket; frames: Frame[] }> {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: pki.ca.certPem });
    socket.on('error', () => {});
    const frames = collect(socket);
    await new Promise<void>((r) => socket.once('secureConnect', () => r()));
    socket.write(encodeFrame({ type: 'register', username: name, password: `${name}-password-1`, id: 1 }));
    socket.write(encodeFrame({ type: 'login', username: name, password: `${name}-password-1`, id: 2 }));
    await until(() => frames.find((f) => f.re === 2 && f.type === 'ok'), 10_000, `${name} login`);
    return { socket, frames };
  }

  /** An ordinary reader in another process (test/helpers/reader-child.ts): the lines it printed. */
  async function readerProcess(port: number, name: string): Promise<{ lines: () => string[]; stop: () => void }> {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'helpers', 'reader-child.ts'), String(port), name], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SECCHAT_TEST_CA: pki.ca.certPem } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    await until(() => out.startsWith('ready\n'), 20_000, `reader ${name} ready (${err})`);
    return { lines: () => out.split('\n').slice(1).filter(Boolean), stop: () => child.kill('SIGKILL') };
  }

  // 300 × 4 KiB is the reported input; loopback's kernel buffers (about 4 MiB here) can absorb all
  // of it, so 3,000 (12 MB) is sent too, which no kernel buffer hides.
  it.each([300, 3000])('%i room messages of 4 KiB in one write: readers in other processes get all of them in order, nobody is cut', async (count) => {
    const { server, stop } = await startTestServer(profile, pki);
    const readers = [await readerProcess(server.port, 'bob'), await readerProcess(server.port, 'carol')];
    try {
      const sender = await rawSender(server.port, 'alice');
      const texts = Array.from({ length: count }, (_, i) => `${String(i).padStart(8, '0')}${'x'.repeat(4096 - 8)}`);
      sender.socket.write(Buffer.concat(texts.map((text, i) => encodeFrame({ type: 'msg', text, id: 100 + i }))));
      const order = texts.map((t) => t.slice(0, 8));
      for (const r of readers) {
        await until(() => r.lines().length >= count || r.lines().some((l) => l.startsWith('error') || l === 'closed'), 30_000, 'the readers to finish');
        expect(r.lines()).toEqual(order);
      }
      await until(() => sender.frames.filter((f) => f.type === 'ok' && Number(f.re) >= 100).length === count, 10_000, 'the sender got every ok');
      expect(sender.frames.some((f) => f.code === 'slow_consumer')).toBe(false);
      expect(server.hub.onlineUsers()).toEqual(['alice', 'bob', 'carol']);
      sender.socket.destroy();
    } finally {
      for (const r of readers) r.stop();
      await stop();
    }
  }, 90_000);

  it('20,000 messages in one write: the reader gets every one in order, a recipient that never reads is cut, the sender is not', async () => {
    const { server, stop } = await startTestServer(profile, pki, { maxQueueBytes: 128 * 1024, slowConsumerStallMs: 500 });
    try {
      const bob = await loggedIn(profile, pki, server.port, 'bob');
      const seen: number[] = [];
      bob.on('msg', (f: Frame) => seen.push(Number(f.text)));
      const stuck = await rawSender(server.port, 'stuck');
      stuck.socket.pause(); // never reads again
      const sender = await rawSender(server.port, 'alice');
      const n = 20_000;
      // 300-byte messages: 6 MB in all, more than the kernel buffers a non-reader can absorb (about 4 MiB on loopback).
      sender.socket.write(Buffer.concat(Array.from({ length: n }, (_, i) => encodeFrame({ type: 'msg', text: String(i).padStart(300, '0'), id: 100 + i }))));
      await until(() => seen.length === n, 60_000, `all ${n} delivered (got ${seen.length})`);
      expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
      await until(() => sender.frames.filter((f) => f.type === 'ok' && Number(f.re) >= 100).length === n, 20_000, 'the sender got every ok');
      expect(sender.frames.some((f) => f.code === 'slow_consumer')).toBe(false);
      expect(bob.received.some((f) => f.code === 'slow_consumer')).toBe(false);
      await until(() => !server.hub.isOnline('stuck'), 5000, 'the non-reader to be cut'); // it took no byte for slowConsumerStallMs
      expect(server.hub.isOnline('alice') && server.hub.isOnline('bob')).toBe(true);
      bob.close();
      sender.socket.destroy();
      stuck.socket.destroy();
    } finally {
      await stop();
    }
  }, 120_000);
});

describe('after starttls_ok nothing but TLS', () => {
  it('a user joining while a logged-in peer upgrades: the notice waits for TLS, not one plaintext byte follows starttls_ok', async () => {
    const profile = profileOf({ transport: 'starttls', auth: { storage: 'sha256' } });
    const { server, stop } = await startTestServer(profile, pki);
    try {
      const raw = net.connect({ host: '127.0.0.1', port: server.port });
      raw.on('error', () => {});
      let plain = Buffer.alloc(0);
      const onPlain = (b: Buffer) => (plain = Buffer.concat([plain, b]));
      raw.on('data', onPlain);
      const lineCount = () => plain.toString('utf8').split('\n').length - 1;
      const send = (f: Frame) => raw.write(encodeFrame(f));
      await until(() => lineCount() >= 1, 5000, 'welcome');
      // Opportunistic STARTTLS lets a peer log in first: it is online, so it receives notices.
      send({ type: 'register', username: 'alice', password: 'alice-password-1', id: 1 });
      send({ type: 'login', username: 'alice', password: 'alice-password-1', id: 2 });
      await until(() => plain.includes('"re":2'), 5000, 'alice login');
      send({ type: 'starttls' });
      await until(() => plain.includes('"starttls_ok"'), 5000, 'starttls_ok');
      const okEnd = plain.indexOf('\n', plain.indexOf('"starttls_ok"')) + 1;
      // The peer has not started its TLS handshake yet: bob joins now, and the server must not
      // write the joined notice in plaintext on alice's connection.
      const bob = await loggedIn(profile, pki, server.port, 'bob');
      await new Promise((r) => setTimeout(r, 300));
      expect(plain.subarray(okEnd).toString('utf8')).toBe('');
      // Now the handshake: the welcome over TLS, then the notice that waited.
      raw.off('data', onPlain);
      const secure = tls.connect({ socket: raw, servername: 'localhost', ca: pki.ca.certPem });
      secure.on('error', () => {});
      const frames = collect(secure);
      await new Promise<void>((r, j) => secure.once('secureConnect', () => r()).once('close', () => j(new Error('TLS handshake failed'))));
      await until(() => frames.find((f) => f.type === 'joined'), 5000, 'the joined notice over TLS');
      expect(frames.map((f) => f.type).slice(0, 2)).toEqual(['welcome', 'joined']);
      expect(frames[0]).toMatchObject({ tls: true });
      expect(frames[1]).toMatchObject({ username: 'bob' });
      bob.close();
      secure.destroy();
    } finally {
      await stop();
    }
  });
});
