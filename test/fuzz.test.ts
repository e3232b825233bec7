/**
 * Property-based tests (fast-check) of everything that reads what a peer sends: the frame parser
 * gets random and mutated bytes in random pieces, the protocol handler (ChatSession, with a fake
 * ConnectionPort) gets random and mutated frames, and a real server gets random bytes on real
 * sockets. Only a frame, "need more bytes" (null) or a ProtocolError may come out of the parser;
 * the handler never rejects and never reports an internal error; the server never throws.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import net from 'node:net';
import { FrameDecoder, encodeFrame, FRAME_ERRORS, type Frame } from '../core/frames.ts';
import { ProtocolError } from '../core/errors.ts';
import { CLIENT_FRAMES, PROTOCOL_ERRORS, SERVER_FRAMES } from '../core/protocol.ts';
import { ChatHub, ChatSession, type ConnectionPort } from '../server/session.ts';
import { UserStore } from '../server/user-store.ts';
import { DEFAULT_LIMITS } from '../server/chat-server.ts';
import { makeTestPki, profileOf, startTestServer, loggedIn } from './helpers/lab-env.ts';
import type { PkiMaterial } from '../core/pki.ts';

const MAX = 256;

/** Feeds `chunks` to a decoder; asserts the parser's contract at every step. */
function drive(chunks: Uint8Array[], maxFrameBytes = MAX): { frames: Frame[]; errors: string[] } {
  const d = new FrameDecoder({ maxFrameBytes });
  const frames: Frame[] = [];
  const errors: string[] = [];
  let fatal = false;
  for (const c of chunks) {
    d.push(c);
    for (;;) {
      let f: Frame | null;
      try {
        f = d.next();
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
        const code = (err as ProtocolError).details.protocolCode as string;
        expect(Object.values(FRAME_ERRORS)).toContain(code);
        errors.push(code);
        if ((err as ProtocolError).details.fatal) {
          fatal = true;
          break;
        }
        continue;
      }
      if (f === null) break;
      expect(fatal).toBe(false);
      expect(typeof f.type).toBe('string');
      expect(f !== null && typeof f === 'object' && !Array.isArray(f)).toBe(true);
      frames.push(f);
    }
    // Never holds more than one frame's worth waiting for its newline.
    expect(d.pendingBytes).toBeLessThanOrEqual(maxFrameBytes + c.length);
    if (fatal) break;
  }
  return { frames, errors };
}

/** Cuts `bytes` at the given (sorted, deduplicated) offsets. */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const at = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const o of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, o));
    prev = o;
  }
  return out;
}

const jsonFrame = fc.record({ type: fc.constantFrom(...CLIENT_FRAMES, 'x'), text: fc.string({ unit: 'binary', maxLength: 40 }), n: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['type'] });

/** A byte-level mutation of a valid stream: flip, insert, delete, or duplicate a slice. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(bytes: Buffer, muts: Mutation[]): Buffer {
  let b = Buffer.from(bytes);
  for (const m of muts) {
    const at = b.length ? m.at % b.length : 0;
    if (m.kind === 'flip' && b.length) b[at] = b[at]! ^ (1 << m.bit);
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    else if (m.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
    else if (m.kind === 'dup') b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at)]);
  }
  return b;
}

describe('frame parser properties', () => {
  it('random bytes in random pieces: only frames, null or ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.array(fc.nat(), { maxLength: 20 }), (bytes, offsets) => {
        drive(cut(bytes, offsets));
      }),
      { numRuns: 1500 },
    );
  });

  it('random printable JSON-ish lines (more likely to parse) behave the same', () => {
    const line = fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ maxLength: 80 }), jsonFrame.map((f) => JSON.stringify(f)));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (lines, offsets) => {
        drive(cut(Buffer.from(lines.join('\n') + '\n'), offsets));
      }),
      { numRuns: 1000 },
    );
  });

  it('valid streams decode exactly however they are cut; mutated ones break only by the contract', () => {
    fc.assert(
      fc.property(fc.array(jsonFrame, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), fc.array(mutation, { maxLength: 4 }), (frames, offsets, muts) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f as Frame)));
        const big = 64 * 1024;
        expect(drive(cut(stream, offsets), big).frames).toEqual(frames.map((f) => JSON.parse(JSON.stringify(f))));
        drive(cut(mutate(stream, muts), offsets), MAX);
      }),
      { numRuns: 1000 },
    );
  });
});

/** A ConnectionPort that records what the session sends. */
function fakePort(n: number): ConnectionPort & { sent: Frame[]; closed: string | null } {
  const port = {
    peer: `10.0.0.${n}:4000${n}`,
    address: `10.0.0.${n}`,
    sent: [] as Frame[],
    closed: null as string | null,
    send(frame: Frame, onWritten?: (written: boolean) => void) {
      encodeFrame(frame); // must always be serializable
      port.sent.push(frame);
      onWritten?.(true);
    },
    close(reason: string) {
      port.closed ??= reason;
    },
  };
  return port;
}

const NAMES = ['alice', 'bob', 'ALICE', 'ｂｏｂ', 'carol', '', 'x'.repeat(40), '\u202Eevil'];
const anyJson = fc.jsonValue({ maxDepth: 2 });
const field = (likely: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary: likely }, { weight: 1, arbitrary: anyJson });
const sessionFrame: fc.Arbitrary<Frame> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      {
        type: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('msg', 'dm', 'dm', 'users', 'login', 'register', 'ping', 'quit') }, { weight: 2, arbitrary: fc.constantFrom(...CLIENT_FRAMES) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }),
        username: field(fc.constantFrom(...NAMES)),
        password: field(fc.constantFrom('password-123', 'wrong-password', 'short', '')),
        text: field(fc.string({ unit: 'binary', maxLength: 30 })),
        to: field(fc.constantFrom(...NAMES)),
        id: anyJson,
      },
      { requiredKeys: ['type'] },
    ) as fc.Arbitrary<Frame>,
  },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), anyJson).map((o) => ({ ...o, type: typeof o.type === 'string' ? o.type : 'msg' }) as Frame) },
);

const SERVER_ERROR_CODES = new Set<string>(Object.values(PROTOCOL_ERRORS));

describe('protocol handler properties (ChatSession with a fake port)', () => {
  // Most peers first register and log in (so the logged-in paths get fuzzed too), then anything.
  const opening = fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.constantFrom('alice', 'bob', 'carol'), fc.boolean()), { maxLength: 3 }).map((xs) =>
    xs.flatMap(([who, name, register]): Array<[number, Frame]> => [
      ...(register ? [[who, { type: 'register', username: name, password: 'password-123', id: 1 }] as [number, Frame]] : []),
      [who, { type: 'login', username: name, password: 'password-123', id: 2 }],
    ]),
  );
  const script = fc.tuple(opening, fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), sessionFrame), { maxLength: 40 })).map(([a, b]) => [...a, ...b]);

  it('random frame sequences from three peers: never rejects, never an internal error, only protocol frames out', async () => {
    await fc.assert(
      fc.asyncProperty(script, async (script) => {
        const store = new UserStore(':memory:', 'plaintext');
        const hub = new ChatHub(store, { ...DEFAULT_LIMITS, maxMessageChars: 20, maxOfflineMessagesPerUser: 3, maxLoginAttemptsPerAccountPerMinute: 3, maxLoginAttemptsPerIpPerMinute: 10 });
        const events: string[] = [];
        hub.onEvent = (e) => events.push(e);
        const ports = [0, 1, 2].map(fakePort);
        const sessions = ports.map((p) => new ChatSession(hub, p));
        try {
          const done = script.map(([who, frame]) => sessions[who]!.handle(frame));
          await expect(Promise.all(done)).resolves.toBeDefined();
          expect(events).not.toContain('internal_error');
          for (const p of ports) {
            for (const f of p.sent) {
              expect(SERVER_FRAMES as readonly string[]).toContain(f.type);
              if (f.type === 'error') {
                expect(SERVER_ERROR_CODES.has(String(f.code))).toBe(true);
                expect(f.code).not.toBe(PROTOCOL_ERRORS.internal);
              }
            }
          }
          // The room is consistent: every session logged in (and not closed) is online, once.
          const online = hub.onlineUsers();
          expect(new Set(online).size).toBe(online.length);
          for (const s of sessions) if (s.username && !ports[sessions.indexOf(s)]!.closed) expect(online).toContain(s.username);
        } finally {
          for (const s of sessions) s.end();
          store.close();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('bytes → parser → handler: whatever arrives, the only failures are protocol errors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(sessionFrame.map((f) => encodeFrame(f)), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b))), { maxLength: 20 }), fc.array(mutation, { maxLength: 3 }), async (parts, muts) => {
        const store = new UserStore(':memory:', 'plaintext');
        const hub = new ChatHub(store, DEFAULT_LIMITS);
        const port = fakePort(1);
        const session = new ChatSession(hub, port);
        const d = new FrameDecoder({ maxFrameBytes: 4096 });
        d.push(mutate(Buffer.concat(parts), muts));
        const handled: Promise<void>[] = [];
        try {
          for (;;) {
            let f: Frame | null;
            try {
              f = d.next();
            } catch (err) {
              expect(err).toBeInstanceOf(ProtocolError);
              if ((err as ProtocolError).details.fatal) break;
              continue;
            }
            if (!f) break;
            handled.push(session.handle(f));
          }
          await Promise.all(handled);
          expect(port.sent.some((f) => f.code === PROTOCOL_ERRORS.internal)).toBe(false);
        } finally {
          session.end();
          store.close();
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the server never throws', () => {
  let pki: PkiMaterial;
  let cleanup: () => void;
  beforeAll(async () => {
    ({ pki, cleanup } = await makeTestPki());
  });
  afterAll(() => cleanup());

  it('random and mutated bytes on real sockets; a bystander keeps chatting', async () => {
    const profile = profileOf({ transport: 'plain', auth: { storage: 'sha256' } });
    const { server, stop } = await startTestServer(profile, pki, { maxFrameBytes: 2048, maxMessageChars: 200, maxConnectionsPerIp: 1000, maxLoginAttemptsPerIpPerMinute: 10_000 });
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onError);
    process.on('unhandledRejection', onError);
    try {
      const alice = await loggedIn(profile, pki, server.port, 'alice');
      const bob = await loggedIn(profile, pki, server.port, 'bob');
      await fc.assert(
        fc.asyncProperty(fc.array(fc.oneof(sessionFrame.map((f) => encodeFrame(f)), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b))), { maxLength: 12 }), fc.array(mutation, { maxLength: 3 }), async (parts, muts) => {
          const s = net.connect(server.port, '127.0.0.1');
          s.on('error', () => {});
          s.on('data', () => {});
          await new Promise<void>((r) => s.once('connect', () => r()));
          for (const p of [mutate(Buffer.concat(parts), muts)]) s.write(p);
          await new Promise((r) => setTimeout(r, 5));
          s.destroy();
        }),
        { numRuns: 60 },
      );
      const text = `still here ${Date.now()}`;
      await alice.send(text);
      expect((await bob.waitFor((f) => f.type === 'msg' && f.text === text)).from).toBe('alice');
      await Promise.all([alice.quit(), bob.quit()]);
    } finally {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
      await stop();
    }
    expect(errors).toEqual([]);
  });
});
