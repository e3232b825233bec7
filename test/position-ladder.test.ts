/**
 * The attacker-positions ladder (attacks/kit/position.ts) apart from sockets: the climb driven by
 * scripted probe outcomes (which plans it tries, in which order, and the chain it reports), the
 * probe's judgement of what a client showed, the addon that takes a position (STARTTLS strip,
 * cipher-offer rewrite, the technique's results), and the position's evidence lines. The rungs
 * against real clients and servers are in test/positions.test.ts; the cache of probePosition is
 * checked here against a real server with profiles that need at most one probe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelClient, ChannelServer } from '../core/channel/index.ts';
import { ProtocolError } from '../core/errors.ts';
import type { Frame } from '../core/frames.ts';
import type { PkiMaterial } from '../core/pki.ts';
import type { Profile } from '../core/profile.ts';
import type { ProxyConnection } from '../attacks/proxy.ts';
import {
  attackerIdentity,
  chainPrefix,
  climbLadder,
  judgeProbe,
  positionAddon,
  probeRefusal,
  positionEvidence,
  probePosition,
  shortStep,
  type Position,
  type ProbeOutcome,
  type ProbePlan,
  type Technique,
} from '../attacks/kit/position.ts';
import { makeTestPki, profileOf } from './helpers/lab-env.ts';

const ON_PATH = 'on the path between the victim and the server';
const ok = (channel: string | null = null, tls = false): ProbeOutcome => ({ ok: true, tls, channel });
const no = (why: string): ProbeOutcome => ({ ok: false, why });

type Ladder = Pick<Profile, 'transport' | 'channel'>;
function ladder(transport: Profile['transport'], keyExchange: Profile['channel']['keyExchange'] = 'none'): Ladder {
  return { transport, channel: { keyExchange } as Profile['channel'] };
}

/** Climbs with `answer` deciding each plan; returns the position and the plans tried, in order. */
async function climb(profile: Ladder, answer: (plan: ProbePlan) => ProbeOutcome): Promise<{ pos: Position; plans: ProbePlan[] }> {
  const plans: ProbePlan[] = [];
  const pos = await climbLadder(profile, async (plan) => {
    plans.push(plan);
    return answer(plan);
  });
  return { pos, plans };
}
const basePlan: ProbePlan = { strip: false, tls: null, channel: null };

describe('climbLadder: which steps are tried, and the chain', () => {
  it('plain transport, no channel: nothing to probe, the frames are readable on the path', async () => {
    const { pos, plans } = await climb(ladder('plain'), () => {
      throw new Error('no probe expected');
    });
    expect(plans).toEqual([]);
    expect(pos).toEqual({ strippedStarttls: false, tls: null, framesReadable: true, channel: null, weakCipher: null, steps: [ON_PATH], probes: [], probeMs: 0 });
  });

  it('TLS: the self-signed certificate first; a client that takes it gives rung 3 at once', async () => {
    const { pos, plans } = await climb(ladder('tls'), () => ok(null, true));
    expect(plans).toEqual([{ ...basePlan, tls: 'self-signed' }]);
    expect(pos.tls).toEqual({ cert: 'self-signed' });
    expect(pos.framesReadable).toBe(true);
    expect(pos.strippedStarttls).toBe(false);
    expect(pos.steps).toEqual([ON_PATH, 'terminated TLS with the self-signed certificate (the client accepted a certificate no trusted CA issued: it does not verify the chain)']);
    expect(pos.probes).toEqual(['TLS terminated with the self-signed certificate: the client proceeded']);
  });

  it('TLS: self-signed refused, wrong-host taken: the chain names the refusal that showed the chain is checked', async () => {
    const { pos, plans } = await climb(ladder('tls'), (p) => (p.tls === 'self-signed' ? no('CERT_UNTRUSTED: self-signed') : ok(null, true)));
    expect(plans).toEqual([
      { ...basePlan, tls: 'self-signed' },
      { ...basePlan, tls: 'wrong-host' },
    ]);
    expect(pos.tls).toEqual({ cert: 'wrong-host' });
    expect(pos.steps).toEqual([ON_PATH, 'terminated TLS with the wrong-host certificate (the client does not check the hostname (it refused the self-signed one: CERT_UNTRUSTED: self-signed))']);
    expect(pos.probes).toEqual(['TLS terminated with the self-signed certificate: the client refused (CERT_UNTRUSTED: self-signed)', 'TLS terminated with the wrong-host certificate: the client proceeded']);
  });

  it('TLS with both certificates refused: rung 1 only, and no channel step is tried on unreadable frames', async () => {
    const { pos, plans } = await climb(ladder('tls', 'ecdhe'), (p) => no(`refused ${p.tls}`));
    expect(plans).toEqual([
      { ...basePlan, tls: 'self-signed' },
      { ...basePlan, tls: 'wrong-host' },
    ]);
    expect(pos).toEqual({
      strippedStarttls: false,
      tls: null,
      framesReadable: false,
      channel: null,
      weakCipher: null,
      steps: [ON_PATH],
      probes: ['TLS terminated with the self-signed certificate: the client refused (refused self-signed)', 'TLS terminated with the wrong-host certificate: the client refused (refused wrong-host)'],
      probeMs: 0,
    });
  });

  it('opportunistic STARTTLS stripped: no TLS step, and the channel steps carry the strip', async () => {
    const { pos, plans } = await climb(ladder('starttls', 'ecdhe'), (p) => (p.strip ? ok('aes-256-gcm') : no('x')));
    expect(plans).toEqual([
      { ...basePlan, strip: true },
      { strip: true, tls: null, channel: { cert: null } },
    ]);
    expect(pos.strippedStarttls).toBe(true);
    expect(pos.framesReadable).toBe(true);
    expect(pos.tls).toBeNull();
    expect(pos.channel).toEqual({ keyExchange: 'ecdhe', cert: null });
    expect(pos.steps).toEqual([ON_PATH, 'stripped the STARTTLS offer (the client carried on in plaintext)', 'took over the secure channel by swapping the unsigned ECDHE key shares (nothing authenticates them)']);
    expect(pos.probes).toEqual(['stripping the STARTTLS offer: the client carried on in plaintext', 'secure channel answered with its own unsigned key share: the client proceeded']);
  });

  it('required STARTTLS refuses the strip: the TLS steps follow without it', async () => {
    const { pos, plans } = await climb(ladder('starttls-required'), (p) => (p.strip ? no('SECCHAT_ERR_STARTTLS_UNAVAILABLE: no offer') : p.tls === 'wrong-host' ? ok(null, true) : no('untrusted')));
    expect(plans).toEqual([
      { ...basePlan, strip: true },
      { ...basePlan, tls: 'self-signed' },
      { ...basePlan, tls: 'wrong-host' },
    ]);
    expect(pos.strippedStarttls).toBe(false);
    expect(pos.tls).toEqual({ cert: 'wrong-host' });
    expect(pos.probes[0]).toBe('stripping the STARTTLS offer: the client refused (SECCHAT_ERR_STARTTLS_UNAVAILABLE: no offer)');
    expect(pos.steps).toHaveLength(2);
  });

  it('a signed channel: unsigned share, then self-signed, then wrong-host, each on top of the TLS step taken', async () => {
    const { pos, plans } = await climb(ladder('tls', 'ecdhe-signed'), (p) => {
      if (!p.channel) return p.tls === 'wrong-host' ? ok(null, true) : no('untrusted TLS');
      return p.channel.cert === 'wrong-host' ? ok('aes-256-gcm', true) : no(`refused ${p.channel.cert}`);
    });
    expect(plans).toEqual([
      { ...basePlan, tls: 'self-signed' },
      { ...basePlan, tls: 'wrong-host' },
      { ...basePlan, tls: 'wrong-host', channel: { cert: null } },
      { ...basePlan, tls: 'wrong-host', channel: { cert: 'self-signed' } },
      { ...basePlan, tls: 'wrong-host', channel: { cert: 'wrong-host' } },
    ]);
    expect(pos.channel).toEqual({ keyExchange: 'ecdhe-signed', cert: 'wrong-host' });
    expect(pos.weakCipher).toBeNull();
    expect(pos.steps.at(-1)).toBe('took over the secure channel with the wrong-host certificate (the client does not check the hostname (it refused the self-signed one: refused self-signed))');
    expect(pos.probes.slice(2)).toEqual([
      'secure channel answered with its own unsigned key share: the client refused (refused null)',
      'secure channel answered with the self-signed certificate: the client refused (refused self-signed)',
      'secure channel answered with the wrong-host certificate: the client proceeded',
    ]);
  });

  it('a channel certificate the client takes without checking: self-signed, and the steps stop there', async () => {
    const { pos, plans } = await climb(ladder('plain', 'rsa'), (p) => (p.channel?.cert === 'self-signed' ? ok('aes-256-gcm') : no('no')));
    expect(plans.map((p) => p.channel?.cert)).toEqual([null, 'self-signed']);
    expect(pos.channel).toEqual({ keyExchange: 'rsa', cert: 'self-signed' });
    expect(pos.steps).toEqual([ON_PATH, 'took over the secure channel with the self-signed certificate (the client accepted a certificate no trusted CA issued: it does not verify the chain)']);
  });

  it('an unsigned share accepted on a channel that is not plain ECDHE is not called "unsigned ECDHE"', async () => {
    const { pos } = await climb(ladder('plain', 'rsa'), () => ok('aes-256-gcm'));
    expect(pos.steps.at(-1)).toBe('took over the secure channel by swapping the key shares (nothing authenticates them)');
  });

  it('no takeover: the cipher offer is rewritten last, and a weak cipher accepted is rung 5', async () => {
    const { pos, plans } = await climb(ladder('plain', 'ecdhe-signed'), (p) => (p.downgradeOffer ? ok('aes-128-cbc') : no('pin mismatch')));
    expect(plans.at(-1)).toEqual({ ...basePlan, downgradeOffer: true });
    expect(plans).toHaveLength(4);
    expect(pos.channel).toBeNull();
    expect(pos.weakCipher).toEqual({ cipher: 'aes-128-cbc' });
    expect(pos.probes.at(-1)).toBe('cipher offer rewritten to null/aes-128-cbc: the channel ran aes-128-cbc');
    expect(pos.steps).toEqual([ON_PATH, 'rewrote the channel cipher offer (nothing authenticates it: the client accepted aes-128-cbc, which authenticates nothing)']);
  });

  it('the rewritten offer refused: no rung 5, the refusal is in the probes', async () => {
    const { pos, plans } = await climb(ladder('plain', 'ecdhe-signed'), (p) => no(p.downgradeOffer ? 'transcript MAC mismatch' : 'pin mismatch'));
    expect(plans).toHaveLength(4);
    expect(pos.weakCipher).toBeNull();
    expect(pos.steps).toEqual([ON_PATH]);
    expect(pos.probes.at(-1)).toBe('cipher offer rewritten to null/aes-128-cbc: refused (transcript MAC mismatch)');
  });

  it('a channel taken over is not followed by an offer rewrite', async () => {
    const { plans } = await climb(ladder('plain', 'ecdhe'), () => ok('aes-256-gcm'));
    expect(plans).toEqual([{ ...basePlan, channel: { cert: null } }]);
  });
});

describe('judgeProbe: a client that proceeded, with the step taken', () => {
  const seen = { negotiatedTls: false, channelAnswered: false, channelCipher: null };
  it('a stripped plan must see no TLS', () => {
    expect(judgeProbe({ ...basePlan, strip: true }, { ...seen, negotiatedTls: true })).toEqual({ ok: false, why: 'the client negotiated TLS anyway' });
    expect(judgeProbe({ ...basePlan, strip: true }, seen)).toEqual({ ok: true, tls: false, channel: null });
    expect(judgeProbe(basePlan, { ...seen, negotiatedTls: true })).toEqual({ ok: true, tls: true, channel: null });
  });
  it('a channel plan must have answered the ch_hello itself', () => {
    expect(judgeProbe({ ...basePlan, channel: { cert: null } }, { ...seen, channelCipher: 'aes-256-gcm' })).toEqual({ ok: false, why: 'the attacker could not answer the channel handshake' });
    expect(judgeProbe({ ...basePlan, channel: { cert: null } }, { ...seen, channelAnswered: true, channelCipher: 'aes-256-gcm' })).toEqual({ ok: true, tls: false, channel: 'aes-256-gcm' });
  });
  it('a rewritten offer must end on a cipher that authenticates nothing', () => {
    const plan = { ...basePlan, downgradeOffer: true };
    expect(judgeProbe(plan, { ...seen, channelCipher: 'aes-256-gcm' })).toEqual({ ok: false, why: 'the channel still negotiated aes-256-gcm' });
    expect(judgeProbe(plan, seen)).toEqual({ ok: false, why: 'the channel still negotiated null' });
    expect(judgeProbe(plan, { ...seen, channelCipher: 'null' })).toEqual({ ok: true, tls: false, channel: 'null' });
    expect(judgeProbe(plan, { ...seen, channelCipher: 'aes-128-cbc', negotiatedTls: true })).toEqual({ ok: true, tls: true, channel: 'aes-128-cbc' });
  });
});

describe('probeRefusal', () => {
  it('names the error by code and message, cut to 320 characters with the cut marked', () => {
    expect(probeRefusal(new ProtocolError('bad frame'))).toEqual({ ok: false, why: 'SECCHAT_ERR_PROTOCOL: bad frame' });
    const long = probeRefusal(new ProtocolError('x'.repeat(400)));
    expect(long).toEqual({ ok: false, why: `${`SECCHAT_ERR_PROTOCOL: ${'x'.repeat(400)}`.slice(0, 318)} …` });
  });
});

describe('the position as evidence and as words', () => {
  const pos = (over: Partial<Position>): Position => ({ strippedStarttls: false, tls: null, framesReadable: false, channel: null, weakCipher: null, steps: [ON_PATH], probes: [], probeMs: 0, ...over });
  it('positionEvidence: the chain, then the probes with their time when measured', () => {
    expect(positionEvidence(pos({ steps: [ON_PATH, 'a', 'b'], probes: ['p1', 'p2'], probeMs: 123 }))).toEqual([
      { kind: 'position', detail: `${ON_PATH} → a → b` },
      { kind: 'position-probe', detail: 'p1; p2 (probed in 123 ms)' },
    ]);
    expect(positionEvidence(pos({ probes: ['p1'] }))[1]).toEqual({ kind: 'position-probe', detail: 'p1' });
    expect(positionEvidence(pos({}))).toEqual([
      { kind: 'position', detail: ON_PATH },
      { kind: 'position-probe', detail: 'nothing to probe: the chat frames cross the path readable' },
    ]);
  });
  it('chainPrefix: the rungs above the first, or nothing at rung 1', () => {
    expect(chainPrefix(pos({}))).toBe('');
    expect(chainPrefix(pos({ steps: [ON_PATH, 'a'] }))).toBe('a → ');
    expect(chainPrefix(pos({ steps: [ON_PATH, 'a', 'b'] }))).toBe('a → b → ');
  });
  it('shortStep: the highest rung climbed', () => {
    const all = { strippedStarttls: true, tls: { cert: 'self-signed' as const }, channel: { keyExchange: 'ecdhe', cert: null }, weakCipher: { cipher: 'null' } };
    expect(shortStep(all)).toBe('channel taken over');
    expect(shortStep({ ...all, channel: null })).toBe('weak cipher null');
    expect(shortStep({ ...all, channel: null, weakCipher: null })).toBe('TLS terminated');
    expect(shortStep({ ...all, channel: null, weakCipher: null, tls: null })).toBe('STARTTLS stripped');
    expect(shortStep({ strippedStarttls: false, tls: null, channel: null, weakCipher: null })).toBe('on-path');
  });
  it('attackerIdentity: the certificate named', () => {
    const fake = { attackerSelfSigned: { certPem: 'S', keyPem: 's' }, attackerWrongHost: { certPem: 'W', keyPem: 'w' } } as unknown as PkiMaterial;
    expect(attackerIdentity(fake, 'self-signed').certPem).toBe('S');
    expect(attackerIdentity(fake, 'wrong-host').certPem).toBe('W');
  });
});

/** A stand-in for one proxied connection: what the addon reads and writes. */
function fakeConn(readable = true): ProxyConnection & { notes: string[]; injected: Array<[string, Frame]> } {
  const notes: string[] = [];
  const injected: Array<[string, Frame]> = [];
  return {
    notes,
    injected,
    note: (t: string) => notes.push(t),
    framesReadableAt: () => readable,
    injectFrame: (dir: string, f: Frame) => injected.push([dir, f]),
    capture: () => {},
  } as unknown as ProxyConnection & { notes: string[]; injected: Array<[string, Frame]> };
}
const fakePki = { attackerSelfSigned: { certPem: 'S', keyPem: 's' }, attackerWrongHost: { certPem: 'W', keyPem: 'w' } } as unknown as PkiMaterial;
const at = (over: Partial<Position> = {}): Position => ({ strippedStarttls: false, tls: null, framesReadable: true, channel: null, weakCipher: null, steps: [ON_PATH], probes: [], probeMs: 0, ...over });

describe('positionAddon: taking the position on a connection', () => {
  it('terminates TLS with the certificate the probe found accepted, else relays', () => {
    const conn = fakeConn();
    expect(positionAddon(at({ tls: { cert: 'wrong-host' } }), fakePki, { name: 't' }).addon.onClientHello!(conn, Buffer.alloc(0), null)).toEqual({ action: 'terminate', identity: { certPem: 'W', keyPem: 'w' } });
    expect(positionAddon(at(), fakePki, { name: 't' }).addon.onClientHello!(conn, Buffer.alloc(0), null)).toEqual({ action: 'relay' });
  });
  it('hands the technique only the bytes it cannot read as frames', () => {
    const seen: Buffer[] = [];
    const technique: Technique = { name: 't', onOpaque: (_c, d) => (seen.push(d), Buffer.from('replaced')) };
    const { addon } = positionAddon(at(), fakePki, technique);
    expect(addon.onData!(fakeConn(true), Buffer.from('readable'), 'c2s', 'client-wire')).toBeUndefined();
    expect(seen).toEqual([]);
    expect(addon.onData!(fakeConn(false), Buffer.from('opaque'), 'c2s', 'client-wire')).toEqual(Buffer.from('replaced'));
    expect(seen).toEqual([Buffer.from('opaque')]);
    expect(positionAddon(at(), fakePki, { name: 'none' }).addon.onData!(fakeConn(false), Buffer.from('x'), 'c2s', 'client-wire')).toBeUndefined();
  });
  it('strips "starttls": true from the server\'s welcome only when the position stripped it', () => {
    const welcome = { type: 'welcome', starttls: true, server: 'secchat' } as Frame;
    const conn = fakeConn();
    expect(positionAddon(at({ strippedStarttls: true }), fakePki, { name: 't' }).addon.onFrame!(conn, welcome, 's2c', 'client-wire')).toEqual([{ type: 'welcome', server: 'secchat' }]);
    expect(conn.notes).toEqual(['removed "starttls": true from the server\'s plaintext welcome']);
    const other = fakeConn();
    const strip = positionAddon(at({ strippedStarttls: true }), fakePki, { name: 't' }).addon;
    expect(strip.onFrame!(other, welcome, 'c2s', 'client-wire')).toEqual([welcome]);
    expect(strip.onFrame!(other, { type: 'hello', starttls: true } as Frame, 's2c', 'client-wire')).toEqual([{ type: 'hello', starttls: true }]);
    expect(strip.onFrame!(other, { type: 'welcome', starttls: false } as Frame, 's2c', 'client-wire')).toEqual([{ type: 'welcome', starttls: false }]);
    expect(positionAddon(at(), fakePki, { name: 't' }).addon.onFrame!(other, welcome, 's2c', 'client-wire')).toEqual([welcome]);
    expect(other.notes).toEqual([]);
  });
  it('records the channel cipher the server chose, per connection', () => {
    const p = positionAddon(at(), fakePki, { name: 't' });
    const a = fakeConn();
    const b = fakeConn();
    expect(p.channelCipher(a)).toBeNull();
    p.addon.onFrame!(a, { type: 'ch_server_hello', cipher: 1 } as Frame, 's2c', 'client-wire');
    p.addon.onFrame!(a, { type: 'ch_hello', cipher: 'aes-128-cbc' } as Frame, 's2c', 'client-wire');
    p.addon.onFrame!(a, { type: 'ch_server_hello', cipher: 'null' } as Frame, 'c2s', 'client-wire');
    expect(p.channelCipher(a)).toBeNull();
    p.addon.onFrame!(a, { type: 'ch_server_hello', cipher: 'aes-256-gcm' } as Frame, 's2c', 'client-wire');
    expect(p.channelCipher(a)).toBe('aes-256-gcm');
    expect(p.channelCipher(b)).toBeNull();
    expect(p.victimChannelCipher(a)).toBeNull();
    expect(p.tookChannel(a)).toBe(false);
  });
  it('rewrites the victim\'s cipher offer to the ciphers that authenticate nothing when rung 5 came that way', () => {
    const p = positionAddon(at({ weakCipher: { cipher: 'aes-128-cbc' } }), fakePki, { name: 't' });
    const conn = fakeConn();
    const hello = { type: 'ch_hello', ciphers: ['aes-256-gcm', 'aes-128-cbc'], keyExchange: 'ecdhe-signed' } as Frame;
    expect(p.addon.onFrame!(conn, hello, 'c2s', 'client-wire')).toEqual([{ ...hello, ciphers: ['null', 'aes-128-cbc'] }]);
    expect(conn.notes).toEqual(['rewrote the channel cipher offer ["aes-256-gcm","aes-128-cbc"] to ["null","aes-128-cbc"]']);
    const quiet = fakeConn();
    // already weak only, the server's direction, another frame, or no list: left alone
    for (const [f, dir] of [
      [{ type: 'ch_hello', ciphers: ['aes-128-cbc', 'null'] }, 'c2s'],
      [hello, 's2c'],
      [{ type: 'ch_server_hello', ciphers: ['aes-256-gcm'] }, 'c2s'],
      [{ type: 'ch_hello', ciphers: 'aes-256-gcm' }, 'c2s'],
    ] as Array<[Frame, 'c2s' | 's2c']>) {
      expect(p.addon.onFrame!(quiet, f, dir, 'client-wire')).toEqual([f]);
    }
    expect(quiet.notes).toEqual([]);
    expect(positionAddon(at(), fakePki, { name: 't' }).addon.onFrame!(quiet, hello, 'c2s', 'client-wire')).toEqual([hello]);
  });
  it("forwards what the technique returns: undefined keeps the frame, null drops it, one frame or a list replaces it", () => {
    const frame = { type: 'dm', text: 'hi' } as Frame;
    const calls: unknown[] = [];
    const addonOf = (r: Frame | Frame[] | null | undefined) =>
      positionAddon(at(), fakePki, {
        name: 't',
        onFrame: (c, dir, f, layer) => {
          calls.push([dir, f, layer]);
          return r;
        },
      }).addon;
    const conn = fakeConn();
    expect(addonOf(undefined).onFrame!(conn, frame, 'c2s', 'plaintext')).toEqual([frame]);
    expect(addonOf(null).onFrame!(conn, frame, 'c2s', 'plaintext')).toEqual([]);
    expect(addonOf({ type: 'dm', text: 'x' } as Frame).onFrame!(conn, frame, 'c2s', 'plaintext')).toEqual([{ type: 'dm', text: 'x' }]);
    expect(addonOf([frame, frame]).onFrame!(conn, frame, 's2c', 'plaintext')).toEqual([frame, frame]);
    expect(calls).toEqual([
      ['c2s', frame, 'frames'],
      ['c2s', frame, 'frames'],
      ['c2s', frame, 'frames'],
      ['s2c', frame, 'frames'],
    ]);
  });
  it('with a signed channel taken: the victim gets the attacker\'s certificate and its weakest cipher, and the technique sees opened frames at the channel layer', async () => {
    const { pki: real, cleanup: done } = await makeTestPki();
    try {
      const seen: Array<[string, string]> = [];
      const p = positionAddon(at({ channel: { keyExchange: 'ecdhe-signed', cert: 'self-signed' } }), real, {
        name: 't',
        preferWeakCipher: true,
        onFrame: (_c, _d, f, layer) => {
          seen.push([String(f.text ?? f.type), layer]);
          return f.type === 'dm' ? { ...f, text: 'altered' } : undefined;
        },
      });
      const settings = { keyExchange: 'ecdhe-signed', ciphers: ['aes-256-gcm', 'null'], transcriptMac: true, replayProtection: 'sequence', replayWindowMs: 30_000 } as Profile['channel'];
      const certsSeen: string[] = [];
      const victim = new ChannelClient({ profileChannel: settings, verifyCertificate: (pem) => (certsSeen.push(pem), { ok: true }) });
      const server = new ChannelServer({ profileChannel: settings, serverCert: real.server });
      const conn = fakeConn();
      const serverGot: Frame[] = [];
      const toServer: Frame[] = [];
      const toVictim: Frame[] = [];
      const fromVictim = (f: Frame) => toServer.push(...(p.addon.onFrame!(conn, f, 'c2s', 'plaintext') as Frame[]));
      const fromServer = (f: Frame) => toVictim.push(...(p.addon.onFrame!(conn, f, 's2c', 'plaintext') as Frame[]));
      for (const f of victim.start()) fromVictim(f as unknown as Frame);
      for (let i = 0; i < 20 && (toServer.length || toVictim.length || conn.injected.length); i++) {
        for (const [dir, f] of conn.injected.splice(0)) (dir === 's2c' ? toVictim : toServer).push(f);
        for (const f of toServer.splice(0)) {
          const a = server.handle(f);
          serverGot.push(...(a.deliver as Frame[]));
          for (const x of a.send) fromServer(x as unknown as Frame);
        }
        for (const f of toVictim.splice(0)) for (const x of victim.handle(f).send) fromVictim(x as unknown as Frame);
        if (victim.established && server.established && serverGot.length === 0 && !toServer.length && !toVictim.length && !conn.injected.length) fromVictim(victim.seal({ type: 'dm', to: 'bob', text: 'secret' } as never) as unknown as Frame);
      }
      expect(victim.established && server.established).toBe(true);
      expect(certsSeen).toEqual([real.attackerSelfSigned.certPem]);
      expect(p.tookChannel(conn)).toBe(true);
      expect(p.victimChannelCipher(conn)).toBe('null');
      expect(serverGot).toEqual([{ type: 'dm', to: 'bob', text: 'altered' }]);
      expect(seen).toContainEqual(['secret', 'channel']);
    } finally {
      done();
    }
  });
  it('with the channel taken: frames outside it go to the technique first, sealed ones are not shown to it unopened, and the ch_hello is answered', () => {
    const calls: Array<[string, string]> = [];
    const p = positionAddon(at({ channel: { keyExchange: 'ecdhe', cert: null } }), fakePki, {
      name: 't',
      onFrame: (_c, _d, f, layer) => {
        calls.push([f.type, layer]);
        return f.type === 'dm' ? { ...f, text: 'changed' } : undefined;
      },
    });
    const conn = fakeConn();
    expect(p.addon.onFrame!(conn, { type: 'dm', text: 'outside' } as Frame, 'c2s', 'client-wire')).toEqual([{ type: 'dm', text: 'changed' }]);
    const sealed = { type: 'sealed', seq: 0, ct: 'AAAA' } as unknown as Frame;
    expect(p.addon.onFrame!(conn, sealed, 'c2s', 'client-wire')).toEqual([sealed]);
    expect(calls).toEqual([['dm', 'frames']]);
    expect(p.tookChannel(conn)).toBe(false);
    const victim = new ChannelClient({ profileChannel: { keyExchange: 'ecdhe', ciphers: ['aes-256-gcm'], transcriptMac: true, replayProtection: 'sequence', replayWindowMs: 30_000 } });
    const [hello] = victim.start();
    const toServer = p.addon.onFrame!(conn, hello as unknown as Frame, 'c2s', 'client-wire') as Frame[];
    expect(toServer.map((f) => f.type)).toEqual(['ch_hello']);
    expect(calls).toEqual([
      ['dm', 'frames'],
      ['ch_hello', 'frames'],
    ]);
    expect(p.tookChannel(conn)).toBe(true);
    expect(p.tookChannel(fakeConn())).toBe(false);
    expect(conn.injected.map(([dir, f]) => [dir, f.type])).toEqual([['s2c', 'ch_server_hello']]);
  });
});

describe('probePosition against a real server: computed once per set of settings', () => {
  let pki: PkiMaterial;
  let cleanup: () => void;
  beforeAll(async () => {
    ({ pki, cleanup } = await makeTestPki());
  });
  afterAll(() => cleanup());
  it('times the first probe, serves the same position from the cache after, and keys it by the settings', async () => {
    const plain = profileOf({ name: 'cache-a', transport: 'plain' });
    const t0 = performance.now();
    const first = await probePosition(plain, pki);
    const wallMs = performance.now() - t0;
    expect(first.probeMs).toBeGreaterThanOrEqual(0);
    expect(first.probeMs).toBeLessThanOrEqual(Math.ceil(wallMs));
    expect(first.steps).toEqual([ON_PATH]);
    const again = await probePosition(profileOf({ name: 'cache-b', transport: 'plain' }), pki);
    expect(again).toEqual({ ...first, probeMs: 0 });
    const tls = await probePosition(profileOf({ name: 'cache-c', transport: 'tls', client: { verify: 'none' } }), pki);
    expect(tls.tls).toEqual({ cert: 'self-signed' });
    expect(tls.probes).toEqual(['TLS terminated with the self-signed certificate: the client proceeded']);
  });
  it('strips opportunistic STARTTLS and takes an unsigned ECDHE channel over, with the victim\'s own client', async () => {
    const pos = await probePosition(profileOf({ name: 'real-strip', transport: 'starttls', channel: { keyExchange: 'ecdhe' } }), pki);
    expect(pos.strippedStarttls).toBe(true);
    expect(pos.channel).toEqual({ keyExchange: 'ecdhe', cert: null });
    expect(pos.probes).toEqual(['stripping the STARTTLS offer: the client carried on in plaintext', 'secure channel answered with its own unsigned key share: the client proceeded']);
  });
  it('a client checking the chain but not the host: the self-signed refusal is named, the wrong-host certificate taken', async () => {
    const pos = await probePosition(profileOf({ name: 'real-host', transport: 'tls', client: { verify: 'ca', checkHostname: false } }), pki);
    expect(pos.tls).toEqual({ cert: 'wrong-host' });
    expect(pos.probes[0]).toMatch(/^TLS terminated with the self-signed certificate: the client refused \([A-Z_]+: .+\)$/);
    expect(pos.probes[0].length).toBeLessThanOrEqual('TLS terminated with the self-signed certificate: the client refused ()'.length + 200);
  });
  it('a verified signed channel without a transcript MAC: every takeover refused, the rewritten cipher offer taken (rung 5)', async () => {
    const pos = await probePosition(profileOf({ name: 'real-offer', transport: 'plain', client: { verify: 'ca', checkHostname: true }, channel: { keyExchange: 'ecdhe-signed', ciphers: ['aes-256-gcm', 'aes-128-cbc'], transcriptMac: false } }), pki);
    expect(pos.channel).toBeNull();
    expect(pos.probes.slice(0, 3)).toEqual([
      expect.stringMatching(/^secure channel answered with its own unsigned key share: the client refused \(/),
      expect.stringMatching(/^secure channel answered with the self-signed certificate: the client refused \(/),
      expect.stringMatching(/^secure channel answered with the wrong-host certificate: the client refused \(/),
    ]);
    expect(pos.weakCipher).toEqual({ cipher: 'aes-128-cbc' });
  });
  it('a signed channel behind stripped STARTTLS: the unsigned share is not answered at all, the certificates are refused by the client', async () => {
    const pos = await probePosition(profileOf({ name: 'real-signed', transport: 'starttls', client: { verify: 'ca', checkHostname: true }, channel: { keyExchange: 'ecdhe-signed' } }), pki);
    expect(pos.strippedStarttls).toBe(true);
    expect(pos.channel).toBeNull();
    expect(pos.probes[1]).toBe('secure channel answered with its own unsigned key share: the client refused (the attacker could not answer the channel handshake)');
    expect(pos.probes[2]).toMatch(/^secure channel answered with the self-signed certificate: the client refused \(SECCHAT_ERR_CHANNEL: server certificate rejected/);
  });
  it('leaves no listening socket behind: the probe closes its server and every proxy', async () => {
    const listening = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    const before = listening();
    const pos = await probePosition(profileOf({ name: 'real-leak', transport: 'tls', client: { verify: 'ca', checkHostname: true, }, channel: { keyExchange: 'ecdhe', replayProtection: 'window' } }), pki);
    expect(pos.probes).toHaveLength(2);
    expect(listening()).toBe(before);
  });
  it('the same channel with a transcript MAC: the rewritten offer is refused', async () => {
    const pos = await probePosition(profileOf({ name: 'real-mac', transport: 'plain', client: { verify: 'ca', checkHostname: true }, channel: { keyExchange: 'ecdhe-signed', ciphers: ['aes-256-gcm', 'aes-128-cbc'], transcriptMac: true } }), pki);
    expect(pos.weakCipher).toBeNull();
    expect(pos.probes.at(-1)).toMatch(/^cipher offer rewritten to null\/aes-128-cbc: refused \(/);
  });
});
