/**
 * The per-connection rules of both ends (server/connection-rules.ts, client/connection-rules.ts),
 * without sockets: every input is fed whole, split at every offset, and byte by byte, and must
 * give the same actions (like test/frames.test.ts for the frame parser).
 */
import { describe, expect, it } from 'vitest';
import { encodeFrame, type Frame } from '../core/frames.ts';
import { loadProfile, type Profile } from '../core/profile.ts';
import { ServerConnectionRules, type ServerConnectionAction } from '../server/connection-rules.ts';
import { ClientConnectionRules, type ClientConnectionAction } from '../client/connection-rules.ts';
import { makePair } from './helpers/channel-fixtures.ts';
import type { ChannelServer } from '../core/channel/index.ts';

const MAX = 4096;
const lines = (...frames: Frame[]) => Buffer.concat(frames.map(encodeFrame));

function serverRules(profile: Profile, opts: { tls?: boolean; channel?: ChannelServer } = {}): ServerConnectionRules {
  return new ServerConnectionRules({ profile, maxFrameBytes: MAX, idleTimeoutMs: 1000, maxMessageChars: 100, tls: opts.tls ?? false, channel: opts.channel ?? null });
}

/** Every way of cutting `input`: whole, two pieces at each offset, one byte at a time. */
function cuttings(input: Buffer): Array<{ label: string; chunks: Buffer[] }> {
  const out = [{ label: 'whole', chunks: [input] }];
  for (let i = 1; i < input.length; i++) out.push({ label: `split at ${i}`, chunks: [input.subarray(0, i), input.subarray(i)] });
  out.push({ label: 'byte by byte', chunks: [...input].map((b) => Buffer.from([b])) });
  return out;
}

function runServer(make: () => ServerConnectionRules, chunks: Buffer[]): ServerConnectionAction[] {
  const r = make();
  return chunks.flatMap((c) => r.feed(c));
}

function runClient(make: () => ClientConnectionRules, chunks: Buffer[]): ClientConnectionAction[] {
  const r = make();
  return chunks.flatMap((c) => r.feed(c));
}

/** Actions in a comparable form: error objects reduced to their codes. */
function summary(actions: Array<ServerConnectionAction | ClientConnectionAction>): unknown[] {
  return actions.map((a) => ('error' in a && a.error ? { ...a, error: (a.error as { details?: { protocolCode?: string }; code?: string }).details?.protocolCode ?? (a.error as { code?: string }).code } : a));
}

describe('ServerConnectionRules', () => {
  const plain = loadProfile('plaintext');
  const opportunistic = loadProfile('starttls-opportunistic');
  const required = loadProfile('starttls-required');

  it('welcomes with the profile, and says starttls until TLS is up, then tls', () => {
    const r = serverRules(required);
    expect(r.welcome()).toMatchObject({ type: 'welcome', server: 'secchat', transport: 'starttls-required', starttls: true, idleTimeoutMs: 1000, limits: { maxFrameBytes: MAX, maxMessageChars: 100 } });
    expect(serverRules(plain).welcome()).not.toHaveProperty('starttls');
    r.feed(lines({ type: 'starttls' }));
    expect(r.tlsEstablished()).toEqual([{ type: 'send', frame: expect.objectContaining({ type: 'welcome', tls: true }) }]);
  });

  it('shares one frozen welcome between connections with the same inputs, and only between those', () => {
    // The welcome is cached per profile (one serialization per server, not per handshake): a key
    // that missed an input would announce another server's settings.
    const make = (o: Partial<{ maxFrameBytes: number; idleTimeoutMs: number; maxMessageChars: number; tls: boolean }> = {}, profile: Profile = opportunistic) =>
      new ServerConnectionRules({ profile, maxFrameBytes: MAX, idleTimeoutMs: 1000, maxMessageChars: 100, tls: false, channel: null, ...o });
    const w = make().welcome();
    expect(make().welcome()).toBe(w);
    expect(Object.isFrozen(w) && Object.isFrozen(w.limits)).toBe(true);
    expect(() => ((w as unknown as { limits: { maxFrameBytes: number } }).limits.maxFrameBytes = 1)).toThrow(TypeError);
    expect(make({ maxFrameBytes: MAX + 1 }).welcome()).toMatchObject({ limits: { maxFrameBytes: MAX + 1, maxMessageChars: 100 }, idleTimeoutMs: 1000 });
    expect(make({ maxMessageChars: 7 }).welcome()).toMatchObject({ limits: { maxFrameBytes: MAX, maxMessageChars: 7 } });
    expect(make({ idleTimeoutMs: 5 }).welcome()).toMatchObject({ idleTimeoutMs: 5 });
    expect(make({ tls: true }).welcome()).toMatchObject({ tls: true });
    expect(make({ tls: true }).welcome()).not.toHaveProperty('starttls');
    expect(make({}, { ...opportunistic, transport: 'starttls-required' }).welcome()).toMatchObject({ transport: 'starttls-required', starttls: true });
    expect(make({}, { ...opportunistic, auth: { ...opportunistic.auth, method: 'challenge' } }).welcome()).toMatchObject({ auth: 'challenge' });
    expect(make().welcome()).toEqual({ type: 'welcome', server: 'secchat', version: w.version, transport: 'starttls', auth: opportunistic.auth.method, idleTimeoutMs: 1000, limits: { maxFrameBytes: MAX, maxMessageChars: 100 }, starttls: true });
  });

  it('dispatches chat frames in order and answers bad lines with error frames, at every split', () => {
    const input = Buffer.concat([lines({ type: 'users', id: 1 }), Buffer.from('not json\n'), lines({ type: 'msg', text: 'hé ✓', id: 2 })]);
    const expected = [
      { type: 'dispatch', frame: { type: 'users', id: 1 } },
      { type: 'send', frame: expect.objectContaining({ type: 'error', code: 'bad_json' }) },
      { type: 'log', entry: { event: 'protocol_error', code: 'bad_json' } },
      { type: 'dispatch', frame: { type: 'msg', text: 'hé ✓', id: 2 } },
    ];
    for (const { label, chunks } of cuttings(input)) expect(runServer(() => serverRules(plain), chunks), label).toEqual(expected);
  });

  it('a frame of maxFrameBytes without a newline: frame_too_large once, close, and nothing more is decoded', () => {
    const r = serverRules(plain);
    const actions = r.feed(Buffer.alloc(MAX, 0x41));
    expect(actions.map((a) => a.type)).toEqual(['send', 'log', 'close']);
    expect(actions[0]).toMatchObject({ frame: { type: 'error', code: 'frame_too_large' } });
    expect(r.state).toBe('closed');
    expect(r.feed(lines({ type: 'users' }))).toEqual([]);
    expect(r.pendingBytes).toBe(0);
  });

  it('STARTTLS: starttls_ok, then not one more plaintext byte is read; frames the session sends meanwhile are held', () => {
    for (const { label, chunks } of cuttings(lines({ type: 'starttls', id: 7 }))) {
      const r = serverRules(opportunistic);
      const actions = chunks.flatMap((c) => r.feed(c));
      expect(actions, label).toEqual([{ type: 'start_tls', frame: { type: 'starttls_ok' } }]);
      expect(r.state).toBe('upgrading');
      expect(r.wireFrame({ type: 'joined', username: 'bob' })).toBe('hold');
      expect(r.feed(lines({ type: 'login', username: 'mallory', password: 'x' }))).toEqual([]);
      r.tlsEstablished();
      expect(r.wireFrame({ type: 'joined', username: 'bob' })).toEqual({ type: 'joined', username: 'bob' });
    }
  });

  it('STARTTLS with plaintext pipelined behind it (CVE-2011-0411): refused and closed; the pipelined login is never dispatched, at any split', () => {
    const input = lines({ type: 'starttls' }, { type: 'login', username: 'alice', password: 'injected' });
    const starttlsLine = encodeFrame({ type: 'starttls' }).length;
    for (const { label, chunks } of cuttings(input)) {
      const actions = runServer(() => serverRules(opportunistic), chunks);
      expect(actions.some((a) => a.type === 'dispatch'), label).toBe(false);
      const endsAtStarttls = label === 'byte by byte' || label === `split at ${starttlsLine}`;
      if (!endsAtStarttls) {
        // The pipelined bytes arrived in the same read as the starttls: refused.
        expect(actions, label).toEqual([{ type: 'send', frame: expect.objectContaining({ code: 'bad_request' }) }, { type: 'close', reason: 'starttls injection' }]);
      } else {
        // They arrived after starttls_ok: they belong to the TLS layer, never to the chat.
        expect(actions, label).toEqual([{ type: 'start_tls', frame: { type: 'starttls_ok' } }]);
      }
    }
  });

  it('starttls-required: credentials before TLS get tls_required; after TLS they are dispatched', () => {
    const input = lines({ type: 'register', username: 'a', password: 'b', id: 1 }, { type: 'login', username: 'a', password: 'b', id: 2 }, { type: 'auth_challenge', id: 3 }, { type: 'users', id: 4 });
    for (const { label, chunks } of cuttings(input)) {
      const actions = runServer(() => serverRules(required), chunks);
      expect(actions.map((a) => (a.type === 'send' ? `send ${String(a.frame.code)} re ${String(a.frame.re)}` : `${a.type} ${String((a as { frame: Frame }).frame.type)}`)), label).toEqual([
        'send tls_required re 1',
        'send tls_required re 2',
        'send tls_required re 3',
        'dispatch users',
      ]);
    }
    const r = serverRules(required);
    r.feed(lines({ type: 'starttls' }));
    r.tlsEstablished();
    expect(r.feed(lines({ type: 'login', username: 'a', password: 'b', id: 2 }))).toEqual([{ type: 'dispatch', frame: { type: 'login', username: 'a', password: 'b', id: 2 } }]);
  });

  it('STARTTLS where none is offered, or twice, is a bad_request and the connection stays', () => {
    expect(serverRules(plain).feed(lines({ type: 'starttls' }))).toEqual([{ type: 'send', frame: expect.objectContaining({ code: 'bad_request', message: 'this server does not offer STARTTLS' }) }]);
    expect(serverRules(required, { tls: true }).feed(lines({ type: 'starttls' }))).toEqual([{ type: 'send', frame: expect.objectContaining({ code: 'bad_request', message: 'TLS is already active' }) }]);
  });

  it('channel gate: a chat frame before the channel is refused; the handshake runs; a sealed frame is dispatched and an unsealed one refused', () => {
    const channelProfile = loadProfile('channel-ecdhe-signed');
    const { client, server } = makePair({ both: channelProfile.channel });
    const r = serverRules(channelProfile, { channel: server });
    expect(r.feed(lines({ type: 'users', id: 1 }))).toEqual([{ type: 'send', frame: expect.objectContaining({ code: 'channel_error', re: 1 }) }]);
    // Drive the handshake through both machines (client frames in whole, server frames back).
    let toServer = client.start() as unknown as Frame[];
    for (let round = 0; round < 5 && !client.established; round++) {
      const out = toServer.flatMap((f) => r.feed(encodeFrame(f)));
      expect(out.every((a) => a.type === 'send_channel' || a.type === 'log')).toBe(true);
      toServer = out.flatMap((a) => (a.type === 'send_channel' ? (client.handle(a.frame).send as unknown as Frame[]) : []));
    }
    for (const f of toServer) r.feed(encodeFrame(f));
    expect(server.established).toBe(true);
    const sealed = encodeFrame(client.seal({ type: 'msg', text: 'sealed hello', id: 2 }) as unknown as Frame);
    // Byte by byte (a sealed frame opens once only: replay protection).
    expect([...sealed].flatMap((b) => r.feed(Buffer.from([b])))).toEqual([{ type: 'dispatch', frame: { type: 'msg', text: 'sealed hello', id: 2 } }]);
    expect(r.feed(lines({ type: 'msg', text: 'injected', id: 3 }))).toEqual([{ type: 'send', frame: expect.objectContaining({ code: 'channel_error', message: 'unprotected frame refused inside the secure channel' }) }]);
    expect(r.wireFrame({ type: 'ok', re: 2 })).toMatchObject({ type: 'sealed' });
  });
});

describe('ClientConnectionRules', () => {
  const tlsProfile = loadProfile('tls-verified');
  const opportunistic = loadProfile('starttls-opportunistic');
  const required = loadProfile('starttls-required');
  const welcome = (over: Record<string, unknown> = {}): Frame => ({ type: 'welcome', server: 'secchat', version: 1, idleTimeoutMs: 1000, ...over });

  it('over TLS: the welcome makes the connection ready; later frames pass, at every split', () => {
    const input = lines(welcome(), { type: 'msg', from: 'bob', text: 'hi' });
    for (const { label, chunks } of cuttings(input)) {
      expect(runClient(() => new ClientConnectionRules({ profile: tlsProfile, tls: true }), chunks), label).toEqual([
        { type: 'frame', frame: welcome() },
        { type: 'ready', welcome: welcome() },
        { type: 'frame', frame: { type: 'msg', from: 'bob', text: 'hi' } },
      ]);
    }
  });

  it('STARTTLS: asks for the upgrade; plaintext after starttls_ok is dropped, at every split; the welcome over TLS makes it ready', () => {
    const input = lines(welcome({ starttls: true }), { type: 'starttls_ok' }, { type: 'msg', from: 'mallory', text: 'injected in plaintext' });
    for (const { label, chunks } of cuttings(input)) {
      const r = new ClientConnectionRules({ profile: required, tls: false });
      const actions = chunks.flatMap((c) => r.feed(c));
      expect(actions, label).toEqual([
        { type: 'frame', frame: welcome({ starttls: true }) },
        { type: 'send', frame: { type: 'starttls' } },
        { type: 'frame', frame: { type: 'starttls_ok' } },
        { type: 'start_tls' },
      ]);
      expect(r.state).toBe('tls_handshake');
      r.tlsEstablished();
      expect(r.feed(lines(welcome({ tls: true })))).toEqual([
        { type: 'frame', frame: welcome({ tls: true }) },
        { type: 'ready', welcome: welcome({ tls: true }) },
      ]);
    }
  });

  it('STARTTLS gate: chat frames before the upgrade are dropped, at every split', () => {
    const input = lines({ type: 'msg', from: 'mallory', text: 'early' }, welcome({ starttls: true }));
    for (const { label, chunks } of cuttings(input)) {
      const actions = runClient(() => new ClientConnectionRules({ profile: opportunistic, tls: false }), chunks);
      expect(actions.map((a) => a.type), label).toEqual(['dropped', 'frame', 'send']);
    }
  });

  it('starttls-required without STARTTLS offered: fails; opportunistic carries on in plaintext', () => {
    expect(new ClientConnectionRules({ profile: required, tls: false }).feed(lines(welcome())).map((a) => a.type)).toEqual(['frame', 'fail']);
    const r = new ClientConnectionRules({ profile: opportunistic, tls: false });
    expect(r.feed(lines(welcome(), { type: 'msg', text: 'plain' })).map((a) => a.type)).toEqual(['frame', 'ready', 'frame']);
  });

  it('a server sending maxFrameBytes without a newline: one fatal action, then nothing — no spin', () => {
    for (const { label, chunks } of [{ label: 'whole', chunks: [Buffer.alloc(65_536, 0x41)] }, { label: '1 KiB reads', chunks: Array.from({ length: 64 }, () => Buffer.alloc(1024, 0x41)) }]) {
      const r = new ClientConnectionRules({ profile: tlsProfile, tls: true });
      const actions = chunks.flatMap((c) => r.feed(c));
      expect(summary(actions), label).toEqual([{ type: 'fatal', error: 'frame_too_large' }]);
      expect(r.next()).toBeNull();
      expect(r.feed(lines(welcome()))).toEqual([]);
    }
  });

  it('bad lines are reported and the stream goes on', () => {
    const input = Buffer.concat([Buffer.from('{oops\n'), lines(welcome())]);
    for (const { label, chunks } of cuttings(input)) {
      expect(summary(runClient(() => new ClientConnectionRules({ profile: tlsProfile, tls: true }), chunks)), label).toEqual([{ type: 'error', error: 'bad_json' }, { type: 'frame', frame: welcome() }, { type: 'ready', welcome: welcome() }]);
    }
  });

  it('channel gate: unprotected frames are dropped before and inside the channel; sealed ones are opened', () => {
    const channelProfile = loadProfile('channel-ecdhe-signed');
    const { client, server } = makePair({ both: channelProfile.channel });
    const r = new ClientConnectionRules({ profile: channelProfile, tls: false });
    expect(r.feed(lines(welcome({ channel: 'ecdhe-signed' }), { type: 'msg', text: 'before' })).map((a) => a.type)).toEqual(['frame', 'ready', 'dropped']);
    let toServer = r.startChannel(client);
    for (let round = 0; round < 5 && !server.established; round++) {
      const back = toServer.flatMap((f) => server.handle(f).send as unknown as Frame[]);
      toServer = back.flatMap((f) => r.feed(encodeFrame(f)).flatMap((a) => (a.type === 'send' ? [a.frame] : [])));
    }
    for (const f of toServer) server.handle(f);
    expect(client.established && server.established).toBe(true);
    expect(r.feed(lines({ type: 'msg', text: 'injected' })).map((a) => a.type)).toEqual(['dropped']);
    const sealed = encodeFrame(server.seal({ type: 'msg', from: 'bob', text: 'sealed' }) as unknown as Frame);
    const r2 = [...sealed].flatMap((b) => r.feed(Buffer.from([b])));
    expect(r2).toEqual([{ type: 'frame', frame: { type: 'msg', from: 'bob', text: 'sealed' } }]);
  });
});
