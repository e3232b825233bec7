/**
 * A lab check's judgement (labs/check-judgement.ts) with crafted observations: which attack
 * outcomes defend a lab, when the chat counts as working (the conversation; lab 09's concurrent
 * clients against a reference run, at the edges of the allowed slowdown), what a handshake failure
 * is explained as, and the failures in the order the student reads them. The real runs that feed
 * these are in test/labs.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { concurrentChatOutcome, controlOf, conversationOutcome, explainHandshakeFailure, judgeAttack, labVerdict, type ChatOutcome, type ConcurrentChatSettings, type LabAttackOutcome } from '../labs/check-judgement.ts';
import type { ConcurrentChatResult } from '../labs/concurrency.ts';
import type { ClientObservation, Observations } from '../attacks/types.ts';
import type { MeasureResult } from '../labs/properties.ts';
import { loadProfile, type Profile } from '../core/profile.ts';
import type { Negotiated as ChannelNegotiated } from '../core/channel/index.ts';

const lab = { notApplicableDefends: ['downgrade-tls'] };

describe('judgeAttack: what defends a lab', () => {
  it('blocked defends; succeeded and error never do, each with its sentence', () => {
    expect(judgeAttack(lab, { attack: 'replay', outcome: 'blocked', reason: 'MAC failed' }, false)).toEqual({ defended: true, failure: null });
    expect(judgeAttack(lab, { attack: 'replay', outcome: 'succeeded', reason: 'bob got two copies' }, true)).toEqual({ defended: false, failure: 'replay succeeded: bob got two copies' });
    expect(judgeAttack(lab, { attack: 'replay', outcome: 'error', reason: 'server did not start' }, true)).toEqual({ defended: false, failure: 'replay did not complete, so nothing was proven: server did not start' });
  });

  it('not-applicable defends only an attack the lab lists, and only while the property holds', () => {
    expect(judgeAttack(lab, { attack: 'downgrade-tls', outcome: 'not-applicable', reason: 'one version only' }, true)).toEqual({ defended: true, failure: null });
    expect(judgeAttack(lab, { attack: 'downgrade-tls', outcome: 'not-applicable', reason: 'one version only' }, false)).toEqual({
      defended: false,
      failure: "downgrade-tls could not run (one version only), which counts only when the lab's property holds, and it does not",
    });
    for (const holds of [true, false]) {
      expect(judgeAttack(lab, { attack: 'replay', outcome: 'not-applicable', reason: 'no TLS' }, holds)).toEqual({
        defended: false,
        failure: 'replay could not run against this profile (no TLS); this lab needs a profile the attack applies to',
      });
    }
  });
});

describe('concurrentChatOutcome: lab 09, every client served and fast enough against the reference', () => {
  const chat: ConcurrentChatSettings = { kind: 'concurrent', clients: 4, messagesPerClient: 2, connectTimeoutMs: 3000, deliveryMs: 4000, maxSlowdown: 10 };
  const run = (o: Partial<ConcurrentChatResult> = {}): ConcurrentChatResult => ({
    clients: 4,
    connected: 4,
    loggedIn: 4,
    expected: 24,
    delivered: 24,
    errors: [],
    connectMs: { median: 40, max: 100 },
    negotiated: null,
    durationMs: 500,
    ...o,
  });

  it('all served within the slowdown: works, with the figures', () => {
    expect(concurrentChatOutcome(run(), 50, chat)).toEqual({
      works: true,
      detail: '4 clients connected at once and every one received all 6 messages of the others; connect time median 40 ms, max 100 ms (reference with X25519 in the same run: max 50 ms; allowed up to 500 ms, 10× the reference)',
    });
  });

  it('the limit is maxSlowdown × the reference, but never under the reference + 250 ms; both edges inclusive', () => {
    // 10 × 50 = 500 > 50 + 250: 500 is the limit.
    expect(concurrentChatOutcome(run({ connectMs: { median: 40, max: 500 } }), 50, chat).works).toBe(true);
    expect(concurrentChatOutcome(run({ connectMs: { median: 40, max: 501 } }), 50, chat).works).toBe(false);
    // 10 × 20 = 200 < 20 + 250 = 270: 270 is the limit.
    expect(concurrentChatOutcome(run({ connectMs: { median: 40, max: 270 } }), 20, chat)).toMatchObject({ works: true, detail: expect.stringContaining('allowed up to 270 ms') });
    expect(concurrentChatOutcome(run({ connectMs: { median: 40, max: 271 } }), 20, chat).works).toBe(false);
  });

  it('too slow: says every client was served, but too slowly', () => {
    expect(concurrentChatOutcome(run({ connectMs: { median: 900, max: 2000 } }), 50, chat)).toEqual({
      works: false,
      detail: 'every client was served, but too slowly; connect time median 900 ms, max 2000 ms (reference with X25519 in the same run: max 50 ms; allowed up to 500 ms, 10× the reference) — the event loop was busy with key exchanges',
    });
  });

  it('a reference but no client connected: not fast enough, even if the counts were to agree', () => {
    expect(concurrentChatOutcome(run({ connectMs: null }), 50, chat)).toEqual({
      works: false,
      detail: 'every client was served, but too slowly (reference with X25519 in the same run: max 50 ms; allowed up to 500 ms, 10× the reference) — the event loop was busy with key exchanges',
    });
  });

  it('no reference (plaintext): delivery alone decides, and no reference is quoted', () => {
    expect(concurrentChatOutcome(run({ connectMs: { median: 5000, max: 9000 } }), null, chat)).toEqual({
      works: true,
      detail: '4 clients connected at once and every one received all 6 messages of the others; connect time median 5000 ms, max 9000 ms',
    });
  });

  it('a message or a login missing: not served, with the counts and the first error', () => {
    expect(concurrentChatOutcome(run({ delivered: 23, errors: ['ECONNRESET: reset', 'second'] }), 50, chat)).toEqual({
      works: false,
      detail: '4 of 4 clients connected within 3000 ms, 4 logged in, 23 of 24 messages delivered; connect time median 40 ms, max 100 ms (reference with X25519 in the same run: max 50 ms; allowed up to 500 ms, 10× the reference); first error: ECONNRESET: reset',
    });
    expect(concurrentChatOutcome(run({ connected: 3, loggedIn: 3, connectMs: null }), null, chat)).toEqual({
      works: false,
      detail: '3 of 4 clients connected within 3000 ms, 3 logged in, 24 of 24 messages delivered',
    });
  });
});

describe('conversationOutcome: the chat with no attacker', () => {
  const profile = loadProfile('tls-verified');
  const client = (o: Partial<ClientObservation> = {}): ClientObservation => ({ connected: true, loggedIn: true, negotiated: null, channel: null, fallbackAttempts: [], localAddress: null, error: null, received: [], ...o });
  const tlsHop = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', group: 'X25519' };
  const channel = { keyExchange: 'ecdhe-signed', cipher: 'aes-256-gcm' } as unknown as ChannelNegotiated;
  const obs = (o: Partial<Observations> & { alice?: Partial<ClientObservation>; bob?: Partial<ClientObservation> } = {}) => ({
    canaryMessage: 'hi c-1',
    bobReceived: 'hi c-1',
    aliceReceived: 'reply',
    ...o,
    clients: { alice: client(o.alice), bob: client(o.bob) },
  });

  it('works when bob got the exact message and alice a reply, naming the hop', () => {
    expect(conversationOutcome(obs(), profile)).toEqual({ works: true, detail: "with no attacker, bob received alice's message and alice bob's reply (plaintext)", negotiated: null, channel: null });
    expect(conversationOutcome(obs({ alice: { negotiated: tlsHop, channel } }), profile)).toEqual({
      works: true,
      detail: "with no attacker, bob received alice's message and alice bob's reply (TLSv1.3 TLS_AES_256_GCM_SHA384; secure channel ecdhe-signed aes-256-gcm)",
      negotiated: tlsHop,
      channel,
    });
    // bob's TLS parameters stand in when alice has none; the channel is alice's only.
    expect(conversationOutcome(obs({ bob: { negotiated: tlsHop, channel } }), profile)).toMatchObject({ negotiated: tlsHop, channel: null, detail: expect.stringContaining('(TLSv1.3 TLS_AES_256_GCM_SHA384)') });
  });

  it('names what did not arrive, in order: bob nothing, bob an altered message, alice no reply', () => {
    expect(conversationOutcome(obs({ bobReceived: null }), profile)).toMatchObject({ works: false, detail: "with no attacker, bob never received alice's message" });
    expect(conversationOutcome(obs({ bobReceived: 'hi c-2' }), profile)).toMatchObject({ works: false, detail: 'with no attacker, bob received an altered message' });
    expect(conversationOutcome(obs({ aliceReceived: null }), profile)).toMatchObject({ works: false, detail: "with no attacker, alice never received bob's reply" });
  });

  it('a client error is named with its client, alice first, and its handshake meaning', () => {
    const bobErr = { code: 'ECONNRESET', message: 'socket hang up' };
    expect(conversationOutcome(obs({ bobReceived: null, bob: { error: bobErr } }), profile).detail).toBe("with no attacker, the chat does not work: bob's client stopped: ECONNRESET: socket hang up");
    const aliceErr = { code: 'ERR_SSL', message: 'ssl3_read_bytes:sslv3 alert handshake failure' };
    expect(conversationOutcome(obs({ bobReceived: null, alice: { error: aliceErr }, bob: { error: bobErr } }), profile).detail).toBe(
      "with no attacker, the chat does not work: alice's client stopped: ERR_SSL: ssl3_read_bytes:sslv3 alert handshake failure — no common cipher suite: client and server share no suite that the RSA lab certificate can serve (check tls.ciphers / tls.ciphersuites)",
    );
  });

  it('an error with the message delivered anyway still fails (the reply is missing)', () => {
    expect(conversationOutcome(obs({ aliceReceived: null, bob: { error: { code: 'X', message: 'y' } } }), profile).works).toBe(false);
  });
});

describe('explainHandshakeFailure', () => {
  const withCiphers = (ciphers: string | undefined): Profile => {
    const p = loadProfile('tls-verified');
    return { ...p, tls: { ...p.tls, ciphers } };
  };
  const NO_SUITE = ' — no common cipher suite: client and server share no suite that the RSA lab certificate can serve (check tls.ciphers / tls.ciphersuites)';
  const ECDSA = ' — no common cipher suite: the lab certificate is RSA, and every suite in tls.ciphers needs an ECDSA certificate (use ECDHE-RSA-… suites)';

  it('each OpenSSL wording of "no common suite", case-insensitively', () => {
    for (const m of ['no shared cipher', 'NO CIPHERS AVAILABLE', 'no cipher available', 'no ciphers match', 'no cipher match', 'sslv3 alert handshake failure', 'no suitable signature algorithm']) {
      expect(explainHandshakeFailure(`error:0A0000C1:SSL routines::${m}`, withCiphers(undefined)), m).toBe(NO_SUITE);
    }
  });

  it('blames the ECDSA-only cipher list when every entry needs ECDSA (security level and exclusions aside)', () => {
    expect(explainHandshakeFailure('no shared cipher', withCiphers('ECDHE-ECDSA-AES128-GCM-SHA256:ecdhe-ecdsa-chacha20-poly1305:@SECLEVEL=0:!aNULL'))).toBe(ECDSA);
    expect(explainHandshakeFailure('no shared cipher', withCiphers('ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256'))).toBe(NO_SUITE);
    expect(explainHandshakeFailure('no shared cipher', withCiphers(''))).toBe(NO_SUITE);
  });

  it('versions and groups, each in its wordings; anything else explains nothing', () => {
    const VERSION = ' — no common TLS version: tls.minVersion … tls.maxVersion leaves nothing both ends accept';
    const GROUP = ' — no common key-exchange group: tls.groups leaves nothing both ends accept';
    const p = withCiphers(undefined);
    for (const m of ['unsupported protocol', 'WRONG VERSION NUMBER', 'tlsv1 alert protocol version']) expect(explainHandshakeFailure(m, p), m).toBe(VERSION);
    for (const m of ['no suitable key share', 'No shared group', 'bad key share']) expect(explainHandshakeFailure(m, p), m).toBe(GROUP);
    expect(explainHandshakeFailure('certificate refused: self-signed certificate', p)).toBe('');
  });
});

describe('controlOf: what the property reads off the control run', () => {
  const tlsHop = { protocol: 'TLSv1.2', cipher: 'X', group: null };
  const channel = { keyExchange: 'rsa' } as unknown as ChannelNegotiated;
  it('nothing observed when the chat neither worked nor negotiated anything', () => {
    expect(controlOf({ works: false, detail: '', negotiated: null })).toBeNull();
    expect(controlOf({ works: false, detail: '', negotiated: null, channel: null })).toBeNull();
  });
  it('the parameters when the chat worked or got as far as negotiating', () => {
    expect(controlOf({ works: true, detail: '', negotiated: null })).toEqual({ tls: null, channel: null });
    expect(controlOf({ works: false, detail: '', negotiated: tlsHop })).toEqual({ tls: tlsHop, channel: null });
    expect(controlOf({ works: false, detail: '', negotiated: null, channel })).toEqual({ tls: null, channel });
  });
});

describe('labVerdict: the failures, in the order the student reads them', () => {
  const attack = (id: string, outcome: LabAttackOutcome['outcome'], reason = `${id} reason`): LabAttackOutcome => ({ attack: id, outcome, defended: outcome === 'succeeded', reason, summary: 's', durationMs: 1 });
  const works: ChatOutcome = { works: true, detail: 'ok', negotiated: null };
  const holdsM = { measure: 'encrypted', holds: true, evidence: 'records are encrypted' } as MeasureResult;
  const failsM = { measure: 'authenticated-records', holds: false, evidence: 'a flipped byte was accepted' } as MeasureResult;

  it('passes (no failures) when every attack is defended, the chat works and every measure holds', () => {
    const v = labVerdict(lab, [attack('mitm', 'blocked'), attack('downgrade-tls', 'not-applicable')], works, [holdsM]);
    expect(v).toEqual({ attacks: [{ ...attack('mitm', 'blocked'), defended: true }, { ...attack('downgrade-tls', 'not-applicable'), defended: true }], failures: [], holds: true });
  });

  it('attacks (unavailable ones by their reason), then the chat, then each measure that does not hold', () => {
    const broken: ChatOutcome = { works: false, detail: 'bob never received', negotiated: null };
    const v = labVerdict(lab, [attack('a', 'unavailable', 'attack a is not available'), attack('b', 'succeeded', 'read it'), attack('c', 'blocked'), attack('downgrade-tls', 'not-applicable', 'n/a')], broken, [holdsM, failsM]);
    expect(v.holds).toBe(false);
    expect(v.failures).toEqual([
      'attack a is not available',
      'b succeeded: read it',
      "downgrade-tls could not run (n/a), which counts only when the lab's property holds, and it does not",
      'bob never received',
      "the lab's property does not hold: a flipped byte was accepted",
    ]);
    expect(v.attacks.map((a) => [a.attack, a.defended])).toEqual([
      ['a', false],
      ['b', false],
      ['c', true],
      ['downgrade-tls', false],
    ]);
  });

  it('no measures: the property holds', () => {
    expect(labVerdict(lab, [attack('downgrade-tls', 'not-applicable')], works, []).holds).toBe(true);
  });
});
