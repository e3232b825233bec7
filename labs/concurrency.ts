/**
 * The concurrent-clients chat check (lab 09): N clients connect to one server at the same moment,
 * log in, each sends M room messages, and every client must receive every other client's messages.
 * One Node process serves them all on one event loop, so anything slow on that loop — a costly
 * key exchange in every handshake — delays every client at once; that is the lesson measured here.
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ChatClient } from '../client/chat-client.ts';
import { describeError } from '../core/errors.ts';
import type { PkiMaterial } from '../core/pki.ts';
import type { Profile } from '../core/profile.ts';
import { resolveTrust } from '../core/tls/certificate-verification.ts';
import type { NegotiatedTls } from '../core/tls/node-options.ts';
import { startChatServer } from '../server/chat-server.ts';

/** Options of {@link runConcurrentChat}; times in ms. */
export interface ConcurrentChatOptions {
  clients: number;
  messagesPerClient: number;
  /** each client must connect (TCP, TLS handshake, welcome frame) within this */
  connectTimeoutMs: number;
  /** after the last message is sent, every copy must have arrived within this */
  deliveryMs: number;
  /** folder for the server's temporary database */
  tmpDir: string;
}

/** What a concurrent run measured. */
export interface ConcurrentChatResult {
  clients: number;
  connected: number;
  loggedIn: number;
  /** room messages that should have arrived, summed over receivers: clients × (clients − 1) × messagesPerClient */
  expected: number;
  delivered: number;
  /** the first few distinct client errors, as `CODE: message` */
  errors: string[];
  /** time from the common start to each client's welcome frame, ms (connected clients only) */
  connectMs: { median: number; max: number } | null;
  negotiated: NegotiatedTls | null;
  durationMs: number;
}

/** Password every load client registers with (the accounts live in a throw-away database). */
const LOAD_PASSWORD = 'concurrent-lab-password';

/**
 * Runs the concurrent chat once against a fresh server with `profile`.
 * @returns the counts; never throws for client failures (they are counted and listed)
 * @throws only when the server itself cannot start (bad settings, no port)
 */
export async function runConcurrentChat(profile: Profile, pki: PkiMaterial, opts: ConcurrentChatOptions): Promise<ConcurrentChatResult> {
  const started = performance.now();
  // Every client comes from 127.0.0.1: lift the per-address limits meant for hostile clients.
  const server = await startChatServer({
    profile,
    identity: pki.server,
    dbPath: path.join(opts.tmpDir, `load-${randomBytes(4).toString('hex')}.db`),
    limits: { maxConnectionsPerIp: opts.clients + 8, maxLoginAttemptsPerIpPerMinute: opts.clients * 4 },
  });
  const trust = resolveTrust(profile, pki.ca.certPem, pki.server.certPem);
  const errors = new Set<string>();
  const note = (err: unknown) => {
    const d = describeError(err);
    if (errors.size < 5) errors.add(`${d.code}: ${d.message}`);
  };
  const names = Array.from({ length: opts.clients }, (_, i) => `load${String(i + 1).padStart(3, '0')}`);
  const connectTimes: number[] = [];
  const clients: Array<ChatClient | null> = await Promise.all(
    names.map(async () => {
      const t = performance.now();
      try {
        const c = await ChatClient.connect({
          profile,
          host: '127.0.0.1',
          servername: 'localhost',
          port: server.port,
          trust,
          connectTimeoutMs: opts.connectTimeoutMs,
          requestTimeoutMs: Math.max(10_000, opts.deliveryMs),
        });
        connectTimes.push(performance.now() - t);
        return c;
      } catch (err) {
        note(err);
        return null;
      }
    }),
  );
  const connected = clients.filter((c) => c !== null).length;
  const loggedIn = await Promise.all(
    clients.map(async (c, i) => {
      if (!c) return false;
      try {
        await c.register(names[i], LOAD_PASSWORD);
        await c.login(names[i], LOAD_PASSWORD);
        return true;
      } catch (err) {
        note(err);
        return false;
      }
    }),
  );
  const expected = opts.clients * (opts.clients - 1) * opts.messagesPerClient;
  const fromOthers = (c: ChatClient, me: string) => c.received.filter((f) => f.type === 'msg' && f.from !== me).length;
  let delivered = 0;
  try {
    if (loggedIn.every(Boolean)) {
      // Everyone is online before anyone speaks, so every message has every receiver.
      await Promise.all(
        clients.map(async (c, i) => {
          for (let k = 0; k < opts.messagesPerClient; k++) await c!.send(`message ${k + 1} from ${names[i]}`).catch(note);
        }),
      );
      const perClient = (opts.clients - 1) * opts.messagesPerClient;
      const deadline = performance.now() + opts.deliveryMs;
      while (performance.now() < deadline && clients.some((c, i) => fromOthers(c!, names[i]) < perClient)) await new Promise((r) => setTimeout(r, 20));
    }
    delivered = clients.reduce((n, c, i) => n + (c ? fromOthers(c, names[i]) : 0), 0);
  } finally {
    await Promise.all(clients.map((c) => c?.quit()));
    await server.close();
  }
  connectTimes.sort((a, b) => a - b);
  return {
    clients: opts.clients,
    connected,
    loggedIn: loggedIn.filter(Boolean).length,
    expected,
    delivered,
    errors: [...errors],
    connectMs: connectTimes.length ? { median: Math.round(connectTimes[Math.floor(connectTimes.length / 2)]), max: Math.round(connectTimes[connectTimes.length - 1]) } : null,
    negotiated: clients.find((c) => c)?.negotiated ?? null,
    durationMs: Math.round(performance.now() - started),
  };
}
