/**
 * The MITM verdicts (attacks/plugins/mitm.ts) from crafted observations: where the canary was
 * read (wire, terminated TLS, taken-over channel) and why; which client errors are a certificate
 * refusal (and what the summary names); ciphertext only; a conversation that failed. The attacks'
 * run() is driven with a stand-in context that returns crafted observations, so the addon each
 * one installs and the premise it states are checked without sockets. test/mitm.test.ts runs them
 * for real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyEngine, type ProxyConnectionRecord } from '../attacks/proxy.ts';
import { ROGUE_ROOT_PREMISE, mitmGallery, mitmPassive, mitmRogueCa, mitmSelfSigned, mitmVerdict, mitmWrongHost } from '../attacks/plugins/mitm.ts';
import { getAttack } from '../attacks/registry.ts';
import { GALLERY_DEFECTS, GALLERY_ENTRIES } from '../core/pki-gallery.ts';
import type { PkiMaterial } from '../core/pki.ts';
import type { Frame } from '../core/frames.ts';
import type { Attack, AttackContext, ClientObservation, ConversationOptions, Observations } from '../attacks/types.ts';
import type { Position } from '../attacks/kit/position.ts';
import { makeTestPki } from './helpers/lab-env.ts';

const CANARY = 'canary-00112233445566778899aabb';
const MESSAGE = `${CANARY} is the secret`;
let engine: ProxyEngine;
beforeAll(async () => {
  engine = await ProxyEngine.start({ upstream: { host: '127.0.0.1', port: 9 } });
});
afterAll(async () => {
  await engine.close();
});
/** Stand-in certificates: the attacks hand them to the proxy untouched (the gallery test makes real ones). */
const fakePki = {
  attackerSelfSigned: { certPem: 'self-signed cert', keyPem: 'k1' },
  attackerWrongHost: { certPem: 'wrong-host cert', keyPem: 'k2' },
  attackerRogue: { certPem: 'rogue-issued cert', keyPem: 'k3' },
  rogueCa: { certPem: 'rogue root', keyPem: 'k4' },
} as unknown as PkiMaterial;

function client(over: Partial<ClientObservation> = {}): ClientObservation {
  return { connected: true, loggedIn: true, negotiated: null, channel: null, fallbackAttempts: [], localAddress: null, error: null, received: [], ...over };
}
function conn(over: Partial<ProxyConnectionRecord> = {}): ProxyConnectionRecord {
  return { id: 1, clientPeer: '127.0.0.1:1000', upstreamLocal: null, startedAtMs: 0, endedAtMs: null, mode: 'relay', clientHello: null, forwardedHello: null, clientHelloInfo: null, clientHop: null, serverHop: null, errors: [], notes: [], ...over };
}
const TLS13 = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', group: 'X25519' };
type Chan = NonNullable<ClientObservation['channel']>;
const chan = (over: Partial<Chan>): Chan => ({ keyExchange: 'ecdhe', cipher: 'aes-256-gcm', transcriptMac: true, replayProtection: 'sequence', warnings: [], ...over }) as Chan;

/** Observations with `traffic` recorded on the (real) engine. */
function obs(opts: { traffic?: Array<[number, 'client-wire' | 'plaintext']>; connections?: ProxyConnectionRecord[]; alice?: Partial<ClientObservation>; bob?: Partial<ClientObservation>; bobReceived?: string | null } = {}): Observations {
  engine.traffic.length = 0;
  for (const [c, layer] of opts.traffic ?? []) engine.capture(c, 'c2s', layer, Buffer.from(`{"type":"dm","text":"${MESSAGE}"}\n`));
  engine.capture(9, 's2c', 'client-wire', Buffer.from('\x17\x03\x03 ciphertext only', 'latin1'));
  return {
    canary: CANARY,
    canaryMessage: MESSAGE,
    proxy: { engine, connections: opts.connections ?? [conn()] },
    clients: { alice: client(opts.alice), bob: client(opts.bob) },
    server: { log: [], port: 1 },
    bobReceived: opts.bobReceived === undefined ? MESSAGE : opts.bobReceived,
    bobCanaryCopies: 1,
    aliceReceived: 'hi',
    durationMs: 1,
  };
}

describe('mitmVerdict: the canary read', () => {
  it('on the wire of a plaintext chat: succeeded, says so, integrity too for an active attacker', () => {
    const v = mitmVerdict(obs({ traffic: [[1, 'client-wire']] }), true);
    expect(v.outcome).toBe('succeeded');
    expect(v.reason).toBe('the attacker read the canary in the bytes on the wire: the chat ran in plaintext; sitting in the plaintext path, it could also have altered it');
    expect(v.summary).toBe('canary read on the wire');
    expect(v.impact).toEqual(['confidentiality', 'integrity']);
    expect(v.negotiated).toBeNull();
    expect(v.evidence[0]).toEqual({ kind: 'canary-recovered', detail: expect.stringContaining(`canary ${CANARY} read by the attacker on connection 1 (c2s, client-wire)`) });
    expect(v.evidence.map((e) => e.kind)).toEqual(['canary-recovered', 'client-alice', 'client-bob', 'delivery']);
  });
  it('on the wire of a passive run where TLS or the channel was on but left the payload readable', () => {
    const tls = mitmVerdict(obs({ traffic: [[1, 'client-wire']], alice: { negotiated: TLS13 } }), false);
    expect(tls.reason).toBe('the attacker read the canary in the bytes on the wire: the payload was not protected');
    expect(tls.impact).toEqual(['confidentiality']);
    expect(tls.negotiated).toEqual(TLS13);
    expect(mitmVerdict(obs({ traffic: [[1, 'client-wire']], alice: { channel: chan({ cipher: 'aes-256-gcm' }) } }), false).reason).toBe('the attacker read the canary in the bytes on the wire: the payload was not protected');
  });
  it('through a null-cipher channel, whatever the layer', () => {
    const v = mitmVerdict(obs({ traffic: [[1, 'client-wire']], alice: { channel: chan({ cipher: 'null' }) } }), false);
    expect(v.reason).toBe('the attacker read the canary in the bytes on the wire: the secure channel negotiated the null cipher, which does not encrypt');
    expect(v.summary).toBe('canary read on the wire');
  });
  it('inside TLS it terminated: the victim accepted its certificate', () => {
    const v = mitmVerdict(obs({ traffic: [[1, 'plaintext']], connections: [conn({ mode: 'terminate', clientHop: TLS13 })], alice: { negotiated: TLS13 } }), true);
    expect(v.reason).toBe("the attacker read the canary inside the TLS session it terminated: the victim accepted the attacker's certificate; sitting in the plaintext path, it could also have altered it");
    expect(v.summary).toBe('canary read: forged cert accepted');
    expect(v.evidence.map((e) => e.kind)).toEqual(['canary-recovered', 'proxy-tls', 'client-alice', 'client-bob', 'delivery']);
  });
  it("inside an unsigned ECDHE channel it took over: the victim took the attacker's key share", () => {
    const note = "channel MITM: answered the victim's ch_hello (ecdhe) with the attacker's own key share, and opened its own channel to the server";
    const v = mitmVerdict(obs({ traffic: [[2, 'plaintext']], connections: [conn({ id: 1 }), conn({ id: 2, notes: ['something else', note] })], alice: { channel: chan({ keyExchange: 'ecdhe' }) } }), true);
    expect(v.reason).toBe("the attacker read the canary inside the secure channel it took over: nothing authenticates the unsigned key exchange, so the victim took the attacker's own X25519 share; sitting in the plaintext path, it could also have altered it");
    expect(v.summary).toBe('canary read: key share swapped');
  });
  it('inside both the TLS and the signed channel it took over: the certificate was accepted', () => {
    const note = "channel MITM: answered the victim's ch_hello (ecdhe-signed) with the attacker's own certificate and key share";
    const both = mitmVerdict(obs({ traffic: [[1, 'plaintext']], connections: [conn({ mode: 'terminate', clientHop: TLS13, notes: [note] })], alice: { channel: chan({ keyExchange: 'ecdhe-signed' }) } }), false);
    expect(both.reason).toBe("the attacker read the canary inside the TLS session it terminated and the secure channel it took over: the victim accepted the attacker's certificate");
    // an unsigned channel under terminated TLS: the TLS certificate is what the victim accepted
    const tlsToo = mitmVerdict(obs({ traffic: [[1, 'plaintext']], connections: [conn({ mode: 'terminate', clientHop: TLS13, notes: [note.replace('ecdhe-signed', 'ecdhe')] })], alice: { channel: chan({ keyExchange: 'ecdhe' }) } }), false);
    expect(tlsToo.reason).toMatch(/: the victim accepted the attacker's certificate$/);
    // a channel taken over on a client that reported no channel of its own
    const unreported = mitmVerdict(obs({ traffic: [[1, 'plaintext']], connections: [conn({ notes: [note] })] }), false);
    expect(unreported.reason).toBe("the attacker read the canary inside the secure channel it took over: the victim accepted the attacker's certificate");
    const signed = mitmVerdict(obs({ traffic: [[1, 'plaintext']], connections: [conn({ notes: [note] })], alice: { channel: chan({ keyExchange: 'ecdhe-signed' }) } }), false);
    expect(signed.reason).toBe("the attacker read the canary inside the secure channel it took over: the victim accepted the attacker's certificate");
  });
  it('in decrypted bytes with no record of how: says so rather than inventing a layer', () => {
    const v = mitmVerdict(obs({ traffic: [[3, 'plaintext']], connections: [conn({ id: 1, mode: 'terminate', clientHop: TLS13 })] }), false);
    expect(v.reason).toBe("the attacker read the canary inside the decrypted stream: the victim accepted the attacker's certificate");
    const noted = mitmVerdict(obs({ traffic: [[1, 'plaintext']], connections: [conn({ notes: ['channel MITM: the victim side failed: x'] })] }), false);
    expect(noted.reason).toBe("the attacker read the canary inside the decrypted stream: the victim accepted the attacker's certificate");
  });
});

describe('mitmVerdict: nothing read', () => {
  it('a TLS certificate refusal blocks it, naming the client, its message and the reason', () => {
    const err = { code: 'SECCHAT_ERR_CERT_HOSTNAME', message: 'certificate is for evil.example, not localhost', details: { reason: 'hostname mismatch' } };
    const v = mitmVerdict(obs({ alice: { error: err, negotiated: TLS13 }, bobReceived: null }), true);
    expect(v).toMatchObject({ outcome: 'blocked', reason: "alice's client refused the connection: certificate is for evil.example, not localhost", summary: 'refused: hostname mismatch', impact: [], negotiated: TLS13 });
  });
  it("names bob when only bob's client refused, and keeps the summary within 40 characters", () => {
    const err = { code: 'SECCHAT_ERR_CERT_UNTRUSTED', message: 'self-signed', details: { reason: 'self-signed certificate in certificate chain of trust' } };
    const v = mitmVerdict(obs({ bob: { error: err } }), true);
    expect(v.reason).toBe("bob's client refused the connection: self-signed");
    expect(v.summary).toBe('refused: self-signed certificate in cert');
    expect(v.summary).toHaveLength(40);
  });
  it('a certificate refusal without a reason is summarised by its code', () => {
    const v = mitmVerdict(obs({ alice: { error: { code: 'SECCHAT_ERR_CERT_EXPIRED', message: 'expired' } } }), true);
    expect(v.summary).toBe('refused: cert_expired');
    expect(v.outcome).toBe('blocked');
  });
  it("a secure-channel certificate refusal names the verifier's code, else the channel code", () => {
    const withVerifier = { code: 'SECCHAT_ERR_CHANNEL', message: 'server certificate rejected: pin mismatch', details: { channelCode: 'certificate_rejected', verifierCode: 'SECCHAT_ERR_CERT_PIN_MISMATCH' } };
    const v = mitmVerdict(obs({ alice: { error: withVerifier } }), true);
    expect(v).toMatchObject({ outcome: 'blocked', reason: "alice's client refused the connection: server certificate rejected: pin mismatch", summary: 'refused: pin mismatch (channel)' });
    const bare = { code: 'SECCHAT_ERR_CHANNEL', message: 'rejected', details: { channelCode: 'certificate_rejected', verifierCode: 42 } };
    expect(mitmVerdict(obs({ alice: { error: bare } }), true).summary).toBe('refused: certificate_rejected');
  });
  it('other client errors are no certificate refusal: a delivered canary means only ciphertext crossed', () => {
    for (const error of [
      { code: 'SECCHAT_ERR_CHANNEL', message: 'mac', details: { channelCode: 'bad_record_mac' } },
      { code: 'SECCHAT_ERR_TLS', message: 'handshake', details: { reason: 'x' } },
      { code: 'X_SECCHAT_ERR_CERT_Y', message: 'not at the start' },
      { code: 'SECCHAT_ERR_TLS', message: 'a channel code on another error', details: { channelCode: 'certificate_rejected' } },
      { code: 'SECCHAT_ERR_CHANNEL', message: 'no details' },
    ]) {
      const v = mitmVerdict(obs({ alice: { error, negotiated: TLS13 } }), true);
      expect(v.outcome, error.code).toBe('blocked');
      expect(v.reason, error.code).toBe('the attacker saw only encrypted bytes: the canary crossed only as ciphertext (TLSv1.3 TLS_AES_256_GCM_SHA384)');
    }
  });
  it('ciphertext only: names the protection, and TLS terminated without the canary in it', () => {
    const v = mitmVerdict(obs({ alice: { negotiated: TLS13 } }), false);
    expect(v).toMatchObject({ outcome: 'blocked', summary: 'only ciphertext seen (TLSv1.3)', impact: [], negotiated: TLS13 });
    const bobsHop = mitmVerdict(obs({ bob: { negotiated: { ...TLS13, protocol: 'TLSv1.2' } } }), false);
    expect(bobsHop.negotiated?.protocol).toBe('TLSv1.2');
    const term = mitmVerdict(obs({ connections: [conn({ mode: 'relay', clientHop: TLS13 }), conn({ id: 2, mode: 'terminate', clientHop: TLS13 })] }), true);
    expect(term.reason).toBe('the attacker saw only encrypted bytes: TLS was terminated but the canary was not in the plaintext');
    expect(term.summary).toBe('only ciphertext seen');
    const halfDone = mitmVerdict(obs({ connections: [conn({ mode: 'terminate', clientHop: null }), conn({ id: 2, mode: 'relay', clientHop: TLS13 })] }), true);
    expect(halfDone.reason).toBe('the attacker saw only encrypted bytes: the canary crossed only as ciphertext');
    const noProtocol = mitmVerdict(obs({ alice: { negotiated: { protocol: null, cipher: 'X', group: null } } }), false);
    expect(noProtocol.summary).toBe('only ciphertext seen');
  });
  it('neither read nor refused nor delivered: an error, with the client error if there was one', () => {
    const e = mitmVerdict(obs({ bobReceived: null, alice: { error: { code: 'ECONNRESET', message: 'reset' } } }), true);
    expect(e).toMatchObject({ outcome: 'error', reason: 'the conversation failed for another reason: ECONNRESET: reset', summary: 'conversation failed', impact: [] });
    expect(mitmVerdict(obs({ bobReceived: 'altered' }), true).reason).toBe('the conversation did not complete and no client reported why');
  });
});

/** A stand-in context whose conversations return what `respond` builds, recording their options. */
/** Rung 1 only: the probe reached nothing past the path (what a verifying client leaves an attacker without a premise). */
const ON_PATH_ONLY: Position = { strippedStarttls: false, tls: null, framesReadable: false, channel: null, weakCipher: null, steps: ['on the path between the victim and the server'], probes: ['TLS terminated with the self-signed certificate: the client refused (x)'], probeMs: 5 };

function context(respond: (o: ConversationOptions) => Observations, pki: PkiMaterial = fakePki, position: Position = ON_PATH_ONLY): { ctx: AttackContext; calls: ConversationOptions[]; servers: number } {
  const calls: ConversationOptions[] = [];
  const state = { ctx: null as unknown as AttackContext, calls, servers: 0 };
  state.ctx = {
    pki,
    canary: CANARY,
    position: async () => position,
    startServer: async () => {
      state.servers++;
      return { port: 1 } as never;
    },
    runConversation: async (o: ConversationOptions = {}) => {
      calls.push(o);
      return respond(o);
    },
  } as unknown as AttackContext;
  return state;
}

describe('the MITM attacks', () => {
  it('are registered under their ids, each with a title and a description', () => {
    for (const a of [mitmPassive, mitmSelfSigned, mitmWrongHost, mitmRogueCa, mitmGallery]) {
      expect(getAttack(a.id), a.id).toBe(a);
      expect(a.title.length, a.id).toBeGreaterThan(5);
      expect(a.description.length, a.id).toBeGreaterThan(40);
    }
    expect([mitmPassive, mitmSelfSigned, mitmWrongHost, mitmRogueCa, mitmGallery].map((a) => a.id)).toEqual(['mitm-passive', 'mitm-self-signed', 'mitm-wrong-host', 'mitm-rogue-ca', 'mitm-gallery']);
  });
  it('only the rogue-CA attack carries a premise', () => {
    expect(mitmRogueCa.premise).toBe(ROGUE_ROOT_PREMISE);
    expect(ROGUE_ROOT_PREMISE).toEqual({ assumes: 'the victim trusts a rogue root CA', label: 'rogue root trusted' });
    for (const a of [mitmPassive, mitmSelfSigned, mitmWrongHost, mitmGallery]) expect('premise' in a, a.id).toBe(false);
  });
  it('mitm-passive only reads: a relay addon, and no integrity impact', async () => {
    const { ctx, calls } = context(() => obs({ traffic: [[1, 'client-wire']] }));
    const v = await mitmPassive.run(ctx);
    expect(calls).toEqual([{ addon: { name: 'mitm-passive' } }]);
    expect(v.impact).toEqual(['confidentiality']);
  });
  it.each([
    [mitmSelfSigned, () => fakePki.attackerSelfSigned],
    [mitmWrongHost, () => fakePki.attackerWrongHost],
  ] as Array<[Attack, () => unknown]>)('%s terminates TLS with its certificate and states no premise', async (attack, identity) => {
    const { ctx, calls } = context(() => obs({ traffic: [[1, 'plaintext']], connections: [conn({ mode: 'terminate', clientHop: TLS13 })] }));
    const v = await attack.run(ctx);
    expect(calls).toHaveLength(1);
    const addon = calls[0].addon!;
    expect(addon.name).toBe(attack.id);
    expect(calls[0].extraTrustedCaPems).toBeUndefined();
    expect(addon.onClientHello!(null as never, Buffer.alloc(0), null)).toEqual({ action: 'terminate', identity: identity() });
    expect(v.outcome).toBe('succeeded');
    expect(v.reason).toMatch(/^the attacker read the canary inside the TLS session it terminated.*; sitting in the plaintext path, it could also have altered it$/);
    expect(v.impact).toEqual(['confidentiality', 'integrity']);
    expect(v.evidence.some((e) => e.kind === 'premise')).toBe(false);
  });
  it('mitm-rogue-ca makes the victims trust the rogue root and says so first in the reason and the evidence', async () => {
    const { ctx, calls } = context(() => obs({ alice: { error: { code: 'SECCHAT_ERR_CERT_PIN_MISMATCH', message: 'pin mismatch' } } }));
    const v = await mitmRogueCa.run(ctx);
    expect(calls[0].extraTrustedCaPems).toEqual(['rogue root']);
    expect(calls[0].addon!.onClientHello!(null as never, Buffer.alloc(0), null)).toEqual({ action: 'terminate', identity: fakePki.attackerRogue });
    expect(v.outcome).toBe('blocked');
    expect(v.reason).toBe("premise: the victim was made to trust the attacker's rogue root (as a corporate proxy or malware installs one). alice's client refused the connection: pin mismatch");
    expect(v.evidence[0]).toEqual({ kind: 'premise', detail: 'the victim clients trust the rogue root CA in addition to the lab CA' });
  });
  describe('mitm-rogue-ca uses its premise only when the position without it does not read the canary', () => {
    const tookTls: Position = { ...ON_PATH_ONLY, framesReadable: true, tls: { cert: 'self-signed' }, steps: [...ON_PATH_ONLY.steps, 'terminated TLS with the self-signed certificate (it does not verify the chain)'] };
    it('without a position past the path: straight to the premise run, and the evidence says what the attacker reached without it', async () => {
      const { ctx, calls } = context(() => obs({ traffic: [[1, 'plaintext']], connections: [conn({ mode: 'terminate', clientHop: TLS13 })] }));
      const v = await mitmRogueCa.run(ctx);
      expect(calls).toHaveLength(1);
      expect(v).toMatchObject({ outcome: 'succeeded', premiseUsed: true });
      expect(v.evidence[1]).toEqual({ kind: 'premise', detail: 'needed: without the rogue root the attacker reaches only on the path between the victim and the server, where the chat frames cross unreadable' });
    });
    it('a position that reads the canary: no rogue root installed, premiseUsed false, the chain in the reason', async () => {
      const { ctx, calls } = context(() => obs({ traffic: [[1, 'plaintext']], connections: [conn({ mode: 'terminate', clientHop: TLS13 })] }), fakePki, tookTls);
      const v = await mitmRogueCa.run(ctx);
      expect(calls).toHaveLength(1);
      expect(calls[0].extraTrustedCaPems).toBeUndefined();
      expect(calls[0].addon!.onClientHello!(null as never, Buffer.alloc(0), null)).toEqual({ action: 'terminate', identity: fakePki.attackerSelfSigned });
      expect(v).toMatchObject({ outcome: 'succeeded', premiseUsed: false });
      expect(v.reason).toMatch(/^without the premise \(no rogue root installed\): terminated TLS with the self-signed certificate \(it does not verify the chain\) → the attacker read the canary inside the TLS session it terminated/);
      expect(v.evidence[0].detail).toMatch(/^not needed: /);
    });
    it('a position that only saw ciphertext: the premise run follows, and "needed" names what the run without it showed', async () => {
      const { ctx, calls } = context((o) => (o.extraTrustedCaPems ? obs({ traffic: [[1, 'plaintext']], connections: [conn({ mode: 'terminate', clientHop: TLS13 })] }) : obs()), fakePki, tookTls);
      const v = await mitmRogueCa.run(ctx);
      expect(calls.map((c) => c.extraTrustedCaPems)).toEqual([undefined, ['rogue root']]);
      expect(v).toMatchObject({ outcome: 'succeeded', premiseUsed: true });
      expect(v.evidence[1].detail).toMatch(/^needed: without the rogue root the attacker reaches only .* → terminated TLS with the self-signed certificate .*, and from there: the attacker saw only encrypted bytes/);
    });
    it('a run without the premise that gave no verdict does not make the premise "needed"', async () => {
      const failed = () => obs({ alice: { error: { code: 'SECCHAT_ERR_TLS_HANDSHAKE', message: 'handshake broke' } }, bobReceived: null });
      const { ctx } = context((o) => (o.extraTrustedCaPems ? obs({ traffic: [[1, 'plaintext']], connections: [conn({ mode: 'terminate', clientHop: TLS13 })] }) : failed()), fakePki, tookTls);
      const v = await mitmRogueCa.run(ctx);
      expect(v).toMatchObject({ outcome: 'succeeded', premiseUsed: true });
      expect(v.evidence[1].detail).toMatch(/^not shown to be needed: .* and the run from there gave no verdict \(the conversation failed for another reason: SECCHAT_ERR_TLS_HANDSHAKE: handshake broke\)$/);
    });
  });
  it("the terminating addon relays chat frames that are not the channel's, and answers a channel hello", () => {
    const { ctx, calls } = context(() => obs());
    void mitmSelfSigned.run(ctx);
    const addon = calls[0].addon!;
    const notes: string[] = [];
    const fake = { note: (t: string) => notes.push(t), injectFrame: () => {}, capture: () => {} } as never;
    const dm = { type: 'dm', text: 'x' } as Frame;
    expect(addon.onFrame!(fake, dm, 'c2s', 'plaintext')).toEqual([dm]);
    expect(notes).toEqual([]);
  });
});

describe('mitm-gallery', () => {
  let pki: PkiMaterial;
  let cleanup: () => void;
  beforeAll(async () => {
    ({ pki, cleanup } = await makeTestPki());
  }, 60_000);
  afterAll(() => cleanup());
  it('one conversation per gallery certificate on one server, each with its own canary, folded into one cell', async () => {
    const { ctx, calls } = context((o) => obs({ alice: { error: { code: 'SECCHAT_ERR_CERT_UNTRUSTED', message: `refused ${o.canary}` } } }), pki);
    const state = { ctx, calls };
    const v = await mitmGallery.run(state.ctx);
    expect(calls.map((c) => c.canary)).toEqual(GALLERY_ENTRIES.map((e) => `${CANARY}-${e}`));
    expect(calls.map((c) => c.addon!.name)).toEqual(GALLERY_ENTRIES.map((e) => `mitm-gallery-${e}`));
    expect(new Set(calls.map((c) => c.server)).size).toBe(1);
    expect(calls[0].server).toEqual({ port: 1 });
    expect(v.outcome).toBe('blocked');
    expect(v.summary).toBe(`refused all ${GALLERY_ENTRIES.length}`);
    const gallery = (v.data as { gallery: Array<{ entry: string; defect: string; outcome: string; reason: string }> }).gallery;
    expect(gallery.map((g) => [g.entry, g.defect, g.outcome])).toEqual(GALLERY_ENTRIES.map((e) => [e, GALLERY_DEFECTS[e].defect, 'blocked']));
    expect(gallery[0].reason).toBe(`alice's client refused the connection: refused ${CANARY}-${GALLERY_ENTRIES[0]}`);
    expect(v.evidence.map((e) => e.kind)).toEqual(GALLERY_ENTRIES.map((e) => `gallery-${e}`));
    // each certificate served is a different one
    const ids = calls.map((c) => JSON.stringify(c.addon!.onClientHello!(null as never, Buffer.alloc(0), null)));
    expect(new Set(ids).size).toBe(GALLERY_ENTRIES.length);
  });
});
