/**
 * Tools for hostile-input tests: a raw TLS (or TCP) peer that sends exactly the bytes it is told
 * to, from a chosen loopback address (Linux routes all of 127.0.0.0/8 to lo, so 127.0.0.2 is "a
 * different client" to the per-address limits), and a server with two logged-in bystanders.
 */
import net from 'node:net';
import tls from 'node:tls';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FrameDecoder, encodeFrame, type Frame } from '../../core/frames.ts';
import type { PkiMaterial } from '../../core/pki.ts';
import type { Profile } from '../../core/profile.ts';
import { startChatServer, type ChatServer, type ServerLimits, type ServerLogEntry } from '../../server/chat-server.ts';
import type { ChatClient } from '../../client/chat-client.ts';
import { loggedIn } from './lab-env.ts';

/** A raw peer: what it received, and when it closed. */
export interface RawPeer {
  socket: net.Socket;
  frames: Frame[];
  closed: Promise<void>;
  isClosed(): boolean;
  send(frame: Frame): void;
  /** Waits for a frame matching `match` (already received or future). */
  waitFor(match: (f: Frame) => boolean, ms?: number): Promise<Frame>;
}

/**
 * Opens a raw connection. With `tls` false it stops at TCP (no handshake at all).
 * @param from local address to connect from, e.g. "127.0.0.2"
 */
export async function rawPeer(port: number, pki: PkiMaterial, opts: { from?: string; tls?: boolean; waitWelcome?: boolean } = {}): Promise<RawPeer> {
  const useTls = opts.tls ?? true;
  const socket: net.Socket = useTls
    ? // localAddress is a net.connect option node:tls passes through (its typings omit it).
      tls.connect({ host: '127.0.0.1', port, localAddress: opts.from, servername: 'localhost', ca: pki.ca.certPem } as tls.ConnectionOptions)
    : net.connect({ host: '127.0.0.1', port, localAddress: opts.from });
  let isClosed = false;
  const closed = new Promise<void>((r) =>
    socket.once('close', () => {
      isClosed = true;
      r();
    }),
  );
  socket.on('error', () => {});
  const frames: Frame[] = [];
  const d = new FrameDecoder({ maxFrameBytes: 1 << 22 });
  socket.on('data', (b: Buffer) => {
    d.push(b);
    for (;;) {
      try {
        const f = d.next();
        if (!f) break;
        frames.push(f);
      } catch (err) {
        if ((err as { details?: { fatal?: boolean } }).details?.fatal) {
          socket.destroy(); // the stream is unusable: stop, once
          return;
        }
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once(useTls ? 'secureConnect' : 'connect', () => resolve());
    socket.once('close', () => reject(new Error('closed while connecting')));
  });
  const peer: RawPeer = {
    socket,
    frames,
    closed,
    isClosed: () => isClosed,
    send: (f) => void socket.write(encodeFrame(f)),
    waitFor: (match, ms = 5000) => until(() => frames.find(match), ms),
  };
  if (opts.waitWelcome ?? useTls) await peer.waitFor((f) => f.type === 'welcome');
  return peer;
}

/** Polls `get` until it returns a value. @throws after `ms` */
export async function until<T>(get: () => T | undefined | false | null, ms = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sends a request with `id` and waits for its answer. */
export async function ask(peer: RawPeer, frame: Frame, id: number): Promise<Frame> {
  peer.send({ ...frame, id });
  return peer.waitFor((f) => f.re === id);
}

/** A server for one test, its log, and two logged-in bystanders (alice and bob, from 127.0.0.1). */
export interface Arena {
  server: ChatServer;
  log: ServerLogEntry[];
  dbPath: string;
  alice: ChatClient;
  bob: ChatClient;
  /** alice says something unique and bob must receive it (and the reverse): the room still works. */
  stillChatting(): Promise<void>;
  stop(): Promise<void>;
}

let said = 0;

/** Starts a server with `limits` and logs in the two bystanders. */
export async function arena(profile: Profile, pki: PkiMaterial, limits: Partial<ServerLimits>): Promise<Arena> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-hostile-'));
  const dbPath = path.join(dir, 'users.db');
  const log: ServerLogEntry[] = [];
  const server = await startChatServer({ profile, identity: pki.server, dbPath, limits, log: (e) => log.push(e) });
  const alice = await loggedIn(profile, pki, server.port, 'alice');
  const bob = await loggedIn(profile, pki, server.port, 'bob');
  return {
    server,
    log,
    dbPath,
    alice,
    bob,
    async stillChatting() {
      for (const [from, to] of [[alice, bob], [bob, alice]] as const) {
        const text = `still chatting ${++said}`;
        await from.send(text);
        const got = await to.waitFor((f) => f.type === 'msg' && f.text === text);
        if (got.from !== from.username) throw new Error(`message attributed to ${String(got.from)}`);
      }
    },
    async stop() {
      alice.close();
      bob.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
