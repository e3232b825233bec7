/**
 * The downgrade verdicts (attacks/kit/downgrade-verdict.ts) from crafted observations: a version
 * downgrade succeeds only when alice's session actually ran below the profile's maximum (or with
 * no TLS after a strip), a STARTTLS strip only when the attacker read the canary, a cipher
 * downgrade only when the weak cipher ran and was exploited; each refusal names what stopped it;
 * everything else is inconclusive. The attacks run end to end in
 * test/attacks-channel-replay-downgrade.test.ts and test/downgrade-fallback-position.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  cipherDowngradeVerdict,
  hiddenOfferVerdict,
  ranBelow,
  resetFallbackVerdict,
  starttlsStripVerdict,
  strippedFallbackVerdict,
  terminatedFallbackVerdict,
  withoutOfferRewrite,
  type CipherRun,
  type ResetRun,
  type VersionRange,
} from '../attacks/kit/downgrade-verdict.ts';
import type { CanarySighting } from '../attacks/kit/evidence.ts';
import type { Position } from '../attacks/kit/position.ts';
import type { ProxyConnectionRecord } from '../attacks/proxy.ts';
import type { ClientHello } from '../core/tls/client-hello.ts';
import type { ClientObservation, Observations } from '../attacks/types.ts';

const CANARY = 'c-42';
const CANARY_MSG = 'the secret is c-42';
const TLS13 = { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', group: 'X25519' };
const TLS12 = { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', group: 'X25519' };
const TLS11 = { protocol: 'TLSv1.1', cipher: 'ECDHE-RSA-AES128-SHA', group: 'X25519' };

function position(o: Partial<Position> = {}): Position {
  return { strippedStarttls: false, tls: null, framesReadable: true, channel: null, weakCipher: null, steps: ['on-path'], probes: [], probeMs: 0, ...o };
}
const STRIP = 'stripped the STARTTLS offer (the client carried on in plaintext)';
const TERMINATE = 'terminated TLS with the self-signed certificate (the client accepted it)';
const TAKEOVER = 'took over the secure channel (ecdhe, no certificate needed)';
const REWRITE = 'rewrote the cipher offer to null (no transcript MAC)';

function client(o: Partial<ClientObservation> = {}): ClientObservation {
  return { connected: true, loggedIn: true, negotiated: null, channel: null, fallbackAttempts: [], localAddress: null, error: null, received: [], ...o };
}
function conn(o: Partial<ProxyConnectionRecord> = {}): ProxyConnectionRecord {
  return { id: 1, clientPeer: '127.0.0.1:1000', upstreamLocal: null, startedAtMs: 0, endedAtMs: null, mode: 'relay', clientHello: null, forwardedHello: null, clientHelloInfo: null, clientHop: null, serverHop: null, errors: [], notes: [], ...o };
}
type Chan = NonNullable<ClientObservation['channel']>;
const chan = (o: Partial<Chan> = {}): Chan => ({ keyExchange: 'ecdhe-signed', cipher: 'aes-256-gcm', transcriptMac: true, replayProtection: 'sequence', warnings: [], ...o }) as Chan;
const hello = (maxVersion: number, fallbackScsv = false) => ({ maxVersion, fallbackScsv }) as ClientHello;

function observations(o: { alice?: Partial<ClientObservation>; bob?: Partial<ClientObservation>; connections?: ProxyConnectionRecord[]; log?: Array<Record<string, unknown>>; bobReceived?: string | null } = {}): Observations {
  return {
    canary: CANARY,
    canaryMessage: CANARY_MSG,
    proxy: { connections: o.connections ?? [], engine: null as never },
    clients: { alice: client(o.alice), bob: client(o.bob) },
    server: { log: (o.log ?? []) as Observations['server']['log'], port: 1 },
    bobReceived: o.bobReceived === undefined ? CANARY_MSG : o.bobReceived,
    bobCanaryCopies: 1,
    aliceReceived: 'reply',
    durationMs: 10,
  };
}
const sighting = (layer: CanarySighting['layer'], conn = 1): CanarySighting => ({ conn, dir: 'c2s', layer, encoding: 'raw', excerpt: `{"text":"${CANARY_MSG}"}` });
const range = (transport: VersionRange['transport'], minVersion: VersionRange['tls']['minVersion'] = 'TLSv1.2', maxVersion: VersionRange['tls']['maxVersion'] = 'TLSv1.3'): VersionRange => ({ transport, tls: { minVersion, maxVersion } });

describe('ranBelow', () => {
  it('is true only for a TLS version ranked below the maximum', () => {
    expect(ranBelow(TLS12, 'TLSv1.3')).toBe(true);
    expect(ranBelow({ ...TLS12, protocol: 'TLSv1' }, 'TLSv1.2')).toBe(true); // the lowest rank counts
    expect(ranBelow(TLS12, 'TLSv1.2')).toBe(false); // at the maximum is no downgrade
    expect(ranBelow(TLS13, 'TLSv1.2')).toBe(false);
  });
  it('no TLS, no protocol, or a name outside TLS_VERSIONS is below nothing', () => {
    expect(ranBelow(null, 'TLSv1.3')).toBe(false);
    expect(ranBelow({ ...TLS12, protocol: null }, 'TLSv1.3')).toBe(false);
    expect(ranBelow({ ...TLS12, protocol: 'SSLv3' }, 'TLSv1.3')).toBe(false);
    expect(ranBelow({ ...TLS12, protocol: 'unknown' }, 'TLSv1.3')).toBe(false);
  });
});

describe('strippedFallbackVerdict (downgrade-fallback after a STARTTLS strip)', () => {
  const pos = position({ strippedStarttls: true, steps: ['on-path', STRIP] });
  const stripNote = 'removed "starttls": true from the server\'s plaintext welcome';
  const stripped = [conn({ id: 1, notes: ['relayed the greeting'] }), conn({ id: 2, notes: ['relayed', stripNote] })];

  it('alice connected with no TLS after the strip: succeeded', () => {
    expect(strippedFallbackVerdict(range('starttls'), pos, observations({ connections: stripped }))).toEqual({
      outcome: 'succeeded',
      reason: `${STRIP} → alice's session ran with no TLS at all, below any version the profile allows (TLSv1.2–TLSv1.3): the attacker needed no fallback`,
      summary: 'no TLS: STARTTLS stripped',
      impact: ['confidentiality', 'integrity'],
      evidence: [
        { kind: 'downgraded-to', detail: "alice's client connected with no TLS at all (negotiated: none) although the profile's transport is starttls with TLSv1.2–TLSv1.3" },
        { kind: 'position', detail: `on-path → ${STRIP}` },
        { kind: 'position-probe', detail: 'nothing to probe: the chat frames cross the path readable' },
        { kind: 'proxy-note', detail: 'connection 1: relayed the greeting' },
        { kind: 'proxy-note', detail: 'connection 2: relayed' },
        { kind: 'proxy-note', detail: `connection 2: ${stripNote}` },
        { kind: 'client-alice', detail: 'alice connected (no TLS) and logged in' },
        { kind: 'client-bob', detail: 'bob connected (no TLS) and logged in' },
        { kind: 'delivery', detail: "bob received alice's message unaltered" },
      ],
      negotiated: null,
      data: { via: 'starttls-strip' },
    });
  });

  it('starttls-required counts the same when its client carried on', () => {
    expect(strippedFallbackVerdict(range('starttls-required', 'TLSv1.3', 'TLSv1.3'), pos, observations({ connections: stripped }))?.reason).toMatch(/\(TLSv1\.3–TLSv1\.3\)/);
  });

  it('not observed: null, so the attack carries on', () => {
    expect(strippedFallbackVerdict(range('tls'), pos, observations({ connections: stripped }))).toBeNull();
    expect(strippedFallbackVerdict(range('plain'), pos, observations({ connections: stripped }))).toBeNull();
    expect(strippedFallbackVerdict(range('starttls'), pos, observations({ connections: stripped, alice: { connected: false } }))).toBeNull();
    expect(strippedFallbackVerdict(range('starttls'), pos, observations({ connections: stripped, alice: { negotiated: TLS12 } }))).toBeNull();
  });

  it('looks like success but is not: no TLS, but the proxy never removed the offer', () => {
    expect(strippedFallbackVerdict(range('starttls'), pos, observations({ connections: [conn({ notes: ['kept the welcome; removed "starttls": true was not possible'] })] }))).toBeNull();
    expect(strippedFallbackVerdict(range('starttls'), pos, observations({ connections: [] }))).toBeNull();
    expect(strippedFallbackVerdict(range('starttls'), pos, observations({ connections: [conn()] }))).toBeNull(); // a connection with no note at all
  });
});

describe('terminatedFallbackVerdict (downgrade-fallback from terminated TLS)', () => {
  const pos = position({ tls: { cert: 'self-signed' }, channel: { keyExchange: 'ecdhe', cert: null }, steps: ['on-path', TERMINATE, TAKEOVER, REWRITE] });
  const hop = conn({ id: 3, mode: 'terminate', clientHop: TLS12, serverHop: TLS13 });

  it('alice ran below the maximum on the attacker\'s capped hop: succeeded, the chain ending at the termination', () => {
    expect(terminatedFallbackVerdict(range('tls'), pos, 'self-signed', observations({ alice: { negotiated: TLS12 }, connections: [conn({ id: 2, mode: 'terminate' }), hop] }))).toEqual({
      outcome: 'succeeded',
      reason: `${TERMINATE} → capped its own hop at TLSv1.2: alice's session ran on TLSv1.2 (ECDHE-RSA-AES128-GCM-SHA256), below the profile's maximum TLSv1.3 — the attacker chose the version, no fallback needed`,
      summary: 'forced TLSv1.2: TLS terminated',
      impact: ['integrity'],
      evidence: [
        { kind: 'downgraded-to', detail: "alice's client negotiated TLSv1.2 (ECDHE-RSA-AES128-GCM-SHA256) with the attacker, whose hop was capped at TLSv1.2; the profile allows up to TLSv1.3; the attacker's side saw TLSv1.2" },
        { kind: 'accepted-certificate', detail: `alice's client accepted the attacker's self-signed certificate (${TERMINATE})` },
        { kind: 'position', detail: `on-path → ${TERMINATE} → ${TAKEOVER} → ${REWRITE}` },
        { kind: 'position-probe', detail: 'nothing to probe: the chat frames cross the path readable' },
        { kind: 'proxy-tls', detail: 'connection 2: attacker terminated TLS — victim hop did not complete, server hop did not complete' },
        { kind: 'proxy-tls', detail: 'connection 3: attacker terminated TLS — victim hop TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256, server hop TLSv1.3 TLS_AES_128_GCM_SHA256' },
        { kind: 'client-alice', detail: 'alice connected (TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 X25519) and logged in' },
        { kind: 'client-bob', detail: 'bob connected (no TLS) and logged in' },
        { kind: 'delivery', detail: "bob received alice's message unaltered" },
      ],
      negotiated: TLS12,
      data: { via: 'tls-termination', cert: 'self-signed', victimVersion: 'TLSv1.2' },
    });
  });

  it('without a completed victim hop on a terminated connection, the evidence does not claim one; without the termination step it says "probed"', () => {
    const v = terminatedFallbackVerdict(range('tls', 'TLSv1.1'), position({ tls: { cert: 'wrong-host' } }), 'wrong-host', observations({ alice: { negotiated: TLS11 }, connections: [conn({ clientHop: TLS11 }), conn({ id: 2, mode: 'terminate' })] }));
    expect(v?.evidence.slice(0, 2)).toEqual([
      { kind: 'downgraded-to', detail: "alice's client negotiated TLSv1.1 (ECDHE-RSA-AES128-SHA) with the attacker, whose hop was capped at TLSv1.1; the profile allows up to TLSv1.3" },
      { kind: 'accepted-certificate', detail: "alice's client accepted the attacker's wrong-host certificate (probed)" },
    ]);
    expect(v?.reason).toMatch(/^capped its own hop at TLSv1\.1: alice's session ran on TLSv1\.1/);
  });

  it('alice at the maximum, or with no TLS: null (not a downgrade)', () => {
    expect(terminatedFallbackVerdict(range('tls'), pos, 'self-signed', observations({ alice: { negotiated: TLS13 }, connections: [hop] }))).toBeNull();
    expect(terminatedFallbackVerdict(range('tls'), pos, 'self-signed', observations({ connections: [hop] }))).toBeNull();
  });
});

describe('resetFallbackVerdict (downgrade-fallback by resetting handshakes)', () => {
  const probe: ResetRun['probe'] = { answer: 'inappropriate_fallback', detail: 'the server answered with alert inappropriate_fallback (86)' };
  const hellos = [conn({ id: 1, clientHelloInfo: hello(0x0304) }), conn({ id: 2 }), conn({ id: 3, clientHelloInfo: hello(0x0302) })];
  const retries = [{ maxVersion: 'TLSv1.3', error: 'ECONNRESET' }, { maxVersion: 'TLSv1.2', error: 'ECONNRESET' }];
  const scsvNote = " The server does refuse inappropriate fallbacks (TLS_FALLBACK_SCSV, RFC 7507), but the client's retries carried no SCSV (node's TLS client cannot send it): the client's own fallback is what makes the attack possible.";

  it('the client fell back below the maximum after resets: succeeded, the missing SCSV explained', () => {
    expect(resetFallbackVerdict(range('tls', 'TLSv1.1'), { killed: 2, probe }, observations({ alice: { negotiated: TLS11, fallbackAttempts: retries }, connections: hellos }))).toEqual({
      outcome: 'succeeded',
      reason: `alice's session ran on TLSv1.1 (ECDHE-RSA-AES128-SHA) below the profile's maximum TLSv1.3: after 2 reset handshake(s) the client fell back.${scsvNote}`,
      summary: 'forced TLSv1.1',
      impact: ['integrity'],
      evidence: [
        { kind: 'client-hellos', detail: '2 ClientHello(s) seen, offering up to TLSv1.3, TLSv1.1; TLS_FALLBACK_SCSV absent from every one' },
        { kind: 'client-fallback', detail: "alice's client gave up 2 handshake(s) and retried lower: max TLSv1.3 (ECONNRESET); max TLSv1.2 (ECONNRESET)" },
        { kind: 'fallback-scsv', detail: probe.detail },
        { kind: 'client-alice', detail: 'alice connected (TLSv1.1 ECDHE-RSA-AES128-SHA X25519) and logged in' },
        { kind: 'client-bob', detail: 'bob connected (no TLS) and logged in' },
        { kind: 'delivery', detail: "bob received alice's message unaltered" },
      ],
      negotiated: TLS11,
      data: { killedHandshakes: 2, fallbackScsvProbe: 'inappropriate_fallback', clientSentScsv: false },
    });
  });

  it('no SCSV note when a retry carried the SCSV, or when the server does not refuse fallbacks', () => {
    const withScsv = [conn({ clientHelloInfo: hello(0x0304) }), conn({ id: 2, clientHelloInfo: hello(0x0303, true) })];
    const a = resetFallbackVerdict(range('tls'), { killed: 1, probe }, observations({ alice: { negotiated: TLS12 }, connections: withScsv }));
    expect(a.reason).toBe("alice's session ran on TLSv1.2 (ECDHE-RSA-AES128-GCM-SHA256) below the profile's maximum TLSv1.3: after 1 reset handshake(s) the client fell back.");
    expect(a.evidence[0]).toEqual({ kind: 'client-hellos', detail: '2 ClientHello(s) seen, offering up to TLSv1.3, TLSv1.2; TLS_FALLBACK_SCSV present' });
    expect(a.evidence[1]!.kind).toBe('fallback-scsv'); // no retries: no client-fallback line
    expect(a.data).toEqual({ killedHandshakes: 1, fallbackScsvProbe: 'inappropriate_fallback', clientSentScsv: true });
    const b = resetFallbackVerdict(range('tls'), { killed: 1, probe: { answer: 'server_hello', detail: 'accepted' } }, observations({ alice: { negotiated: TLS12 }, connections: hellos }));
    expect(b.reason).not.toContain('RFC 7507');
  });

  it('looks like success but is not: alice ran below the maximum with no handshake reset', () => {
    const v = resetFallbackVerdict(range('tls'), { killed: 0, probe }, observations({ alice: { negotiated: TLS12 } }));
    expect(v.outcome).toBe('error');
    expect(v.reason).toBe('no verdict: 0 handshake(s) reset, and alice negotiated TLSv1.2 — not a measured downgrade nor a refusal');
    expect(v.negotiated).toEqual(TLS12);
    expect(v.evidence[0]).toEqual({ kind: 'client-hellos', detail: '0 ClientHello(s) seen, offering up to nothing; TLS_FALLBACK_SCSV absent from every one' });
  });

  it('the client gave up with a handshake or network error: blocked, only a denial of service', () => {
    for (const code of ['SECCHAT_ERR_TLS_HANDSHAKE', 'SECCHAT_ERR_NETWORK']) {
      const v = resetFallbackVerdict(range('tls'), { killed: 3, probe }, observations({ alice: { connected: false, error: { code, message: 'socket hang up' } }, connections: hellos }));
      expect(v).toMatchObject({
        outcome: 'blocked',
        reason: `the client did not fall back: 3 handshake(s) offering more than TLSv1.2 were reset and it gave up (${code}) — no downgrade, only a denial of service`,
        summary: 'client did not fall back',
        impact: [],
        negotiated: null,
        data: { killedHandshakes: 3, fallbackScsvProbe: 'inappropriate_fallback', clientSentScsv: false },
      });
    }
  });

  it('anything else is inconclusive, never blocked', () => {
    const other = resetFallbackVerdict(range('tls'), { killed: 3, probe }, observations({ alice: { error: { code: 'SECCHAT_ERR_CERTIFICATE', message: 'refused' } } }));
    expect(other).toMatchObject({ outcome: 'error', reason: 'no verdict: 3 handshake(s) reset, and alice stopped with SECCHAT_ERR_CERTIFICATE: refused — not a measured downgrade nor a refusal', summary: 'inconclusive', impact: [], negotiated: null });
    expect(resetFallbackVerdict(range('tls'), { killed: 3, probe }, observations()).reason).toBe('no verdict: 3 handshake(s) reset, and alice stopped with no error — not a measured downgrade nor a refusal');
    // no reset at all: a handshake failure is not the attacker's doing
    expect(resetFallbackVerdict(range('tls'), { killed: 0, probe }, observations({ alice: { error: { code: 'SECCHAT_ERR_TLS_HANDSHAKE', message: 'x' } } })).outcome).toBe('error');
    // a session at the maximum after resets, with an error: TLS ran, so the client did not give up
    const atMax = resetFallbackVerdict(range('tls'), { killed: 1, probe }, observations({ alice: { negotiated: TLS13, error: { code: 'SECCHAT_ERR_TLS_HANDSHAKE', message: 'x' } } }));
    expect(atMax.outcome).toBe('error');
    expect(atMax.reason).toBe('no verdict: 1 handshake(s) reset, and alice negotiated TLSv1.3 — not a measured downgrade nor a refusal');
  });
});

describe('starttlsStripVerdict (downgrade-starttls)', () => {
  const pos = position({ strippedStarttls: true, steps: ['on-path', STRIP], probes: ['TLS: refused the self-signed certificate', 'secure channel: refused the takeover (pin mismatch)', 'secure channel: no unsigned share'] });

  it('the canary read on the wire after the strip: succeeded', () => {
    const v = starttlsStripVerdict(pos, 1, [sighting('client-wire'), sighting('plaintext', 2)], observations());
    expect(v).toMatchObject({
      outcome: 'succeeded',
      reason: `${STRIP} → the client carried on without TLS and the attacker read the canary on the wire`,
      summary: 'canary read: STARTTLS stripped',
      impact: ['confidentiality', 'integrity'],
      negotiated: null,
    });
    expect(v.evidence.filter((e) => e.kind === 'canary-recovered').map((e) => e.detail)).toEqual([
      `canary ${CANARY} read by the attacker on connection 1 (c2s, client-wire): …{"text":"${CANARY_MSG}"}…`,
      `canary ${CANARY} read by the attacker on connection 2 (c2s, plaintext): …{"text":"${CANARY_MSG}"}…`,
    ]);
    expect(v.evidence[0]).toEqual({ kind: 'position', detail: `on-path → ${STRIP}` });
  });

  it('read only inside a channel taken over after the strip: says so', () => {
    const v = starttlsStripVerdict(pos, 1, [sighting('plaintext')], observations());
    expect(v.reason).toBe(`${STRIP} → the client carried on without TLS and the attacker read the canary inside the channel it took over`);
    expect(v.summary).toBe('canary read: strip + channel takeover');
  });

  it('looks like success but is not: the canary seen only on the server-facing wire', () => {
    const v = starttlsStripVerdict(pos, 1, [sighting('server-wire')], observations());
    expect(v.outcome).not.toBe('succeeded');
    expect(v.evidence.some((e) => e.kind === 'canary-recovered')).toBe(false);
  });

  it('a client that requires STARTTLS refused: blocked, with its message (bob\'s refusal counts when alice had none)', () => {
    const err = { code: 'SECCHAT_ERR_STARTTLS_UNAVAILABLE', message: 'the server did not offer STARTTLS; refusing to continue in plaintext' };
    for (const who of ['alice', 'bob'] as const) {
      const v = starttlsStripVerdict(pos, 1, [], observations({ [who]: { error: err, negotiated: TLS13 } }));
      expect(v).toMatchObject({ outcome: 'blocked', reason: `the client refused to continue: ${err.message}`, summary: 'client requires STARTTLS', impact: [], negotiated: null });
    }
  });

  it('alice\'s own other error is the one read, not bob\'s refusal behind it', () => {
    const v = starttlsStripVerdict(pos, 1, [], observations({ alice: { error: { code: 'SECCHAT_ERR_NETWORK', message: 'reset' } }, bob: { error: { code: 'SECCHAT_ERR_STARTTLS_UNAVAILABLE', message: 'no' } }, bobReceived: null }));
    expect(v.outcome).toBe('error');
    expect(v.reason).toBe('no verdict: 1 greeting(s) seen, the canary did not cross readable, and no client refused for lack of STARTTLS (SECCHAT_ERR_NETWORK: reset)');
  });

  it('stripped, but a channel the attacker could not take delivered the canary sealed: blocked, naming the channel and the probes', () => {
    expect(starttlsStripVerdict(pos, 1, [], observations({ alice: { channel: chan() } }))).toMatchObject({
      outcome: 'blocked',
      reason: `${STRIP} → the client carried on in plaintext, but the secure channel (ecdhe-signed, aes-256-gcm) kept the canary sealed: the attacker could not take it over (secure channel: refused the takeover (pin mismatch); secure channel: no unsigned share)`,
      summary: 'stripped; channel kept it sealed',
      impact: [],
      negotiated: null,
    });
    expect(starttlsStripVerdict(position({ steps: ['on-path', STRIP] }), 1, [], observations({ alice: { channel: chan() } })).reason).toMatch(/could not take it over \(no takeover possible\)$/);
  });

  it('the channel rule needs plaintext transport, a channel that is on, and the canary delivered unaltered', () => {
    for (const o of [{ alice: { channel: chan(), negotiated: TLS13 } }, { alice: { channel: chan({ cipher: 'none' }) } }, { alice: {} }, { alice: { channel: chan() }, bobReceived: null }, { alice: { channel: chan() }, bobReceived: 'altered' }]) {
      expect(starttlsStripVerdict(pos, 2, [], observations(o)).outcome).toBe('error');
    }
  });

  it('nothing observed: inconclusive, counting the greetings seen', () => {
    expect(starttlsStripVerdict(pos, 0, [], observations({ alice: { negotiated: TLS13 } }))).toMatchObject({
      outcome: 'error',
      reason: 'no verdict: no greeting was seen, the canary did not cross readable, and no client refused for lack of STARTTLS',
      summary: 'inconclusive',
      impact: [],
      negotiated: TLS13,
    });
    expect(starttlsStripVerdict(pos, 2, [], observations()).reason).toBe('no verdict: 2 greeting(s) seen, the canary did not cross readable, and no client refused for lack of STARTTLS');
  });
});

describe('hiddenOfferVerdict and withoutOfferRewrite (downgrade-cipher)', () => {
  it('an offer inside TLS the attacker could not terminate: blocked, naming the probes', () => {
    const pos = position({ framesReadable: false, probes: ['TLS: refused the self-signed certificate', 'TLS: refused the wrong-host certificate'] });
    expect(hiddenOfferVerdict(pos, observations({ alice: { negotiated: TLS13 } }))).toEqual({
      outcome: 'blocked',
      reason: "the channel's cipher offer travels inside TLS the attacker could not terminate (TLS: refused the self-signed certificate; TLS: refused the wrong-host certificate)",
      summary: 'offer hidden by TLS',
      impact: [],
      evidence: [
        { kind: 'position', detail: 'on-path' },
        { kind: 'position-probe', detail: 'TLS: refused the self-signed certificate; TLS: refused the wrong-host certificate' },
        { kind: 'client-alice', detail: 'alice connected (TLSv1.3 TLS_AES_128_GCM_SHA256 X25519) and logged in' },
        { kind: 'client-bob', detail: 'bob connected (no TLS) and logged in' },
        { kind: 'delivery', detail: "bob received alice's message unaltered" },
      ],
      negotiated: TLS13,
    });
  });

  it('drops the offer-rewrite rung (the attack\'s own technique) and nothing else', () => {
    const probed = position({ weakCipher: { cipher: 'null' }, steps: ['on-path', STRIP, REWRITE] });
    expect(withoutOfferRewrite(probed)).toEqual({ ...probed, weakCipher: null, steps: ['on-path', STRIP] });
    const plain = position({ steps: ['on-path', STRIP] });
    expect(withoutOfferRewrite(plain)).toEqual(plain);
  });
});

describe('cipherDowngradeVerdict (downgrade-cipher)', () => {
  const OFFER = ['aes-256-gcm', 'null'];
  const cipherRun = (o: Partial<CipherRun> = {}): CipherRun => ({ offered: OFFER, rewritten: 1, altered: null, ...o });
  const probed = position({ weakCipher: { cipher: 'null' }, steps: ['on-path', REWRITE] });
  const owner = position({ channel: { keyExchange: 'ecdhe', cert: null }, steps: ['on-path', TAKEOVER] });
  const onChannel = (cipher: string) => ({ alice: { channel: chan({ cipher: cipher as Chan['cipher'], transcriptMac: false }) } });

  it('no offer crossed the path: error, whatever else was seen', () => {
    expect(cipherDowngradeVerdict(position(), cipherRun({ offered: null }), [sighting('client-wire')], observations(onChannel('null')))).toEqual({
      outcome: 'error',
      reason: "no verdict: no channel cipher offer crossed the attacker's path",
      summary: 'offer not seen',
      impact: [],
      evidence: [
        { kind: 'position', detail: 'on-path' },
        { kind: 'position-probe', detail: 'nothing to probe: the chat frames cross the path readable' },
        { kind: 'client-alice', detail: 'alice connected (no TLS; secure channel ecdhe-signed null, replay protection sequence) and logged in' },
        { kind: 'client-bob', detail: 'bob connected (no TLS) and logged in' },
        { kind: 'delivery', detail: "bob received alice's message unaltered" },
      ],
      negotiated: null,
    });
  });

  it('forced null and read the canary on the wire: succeeded, the chain without the probe\'s rewrite rung, the sighting first', () => {
    const v = cipherDowngradeVerdict(probed, cipherRun(), [sighting('server-wire', 5), sighting('client-wire', 1)], observations(onChannel('null')));
    expect(v.outcome).toBe('succeeded');
    expect(v.reason).toBe('the attacker rewrote the cipher offer; the channel ran on the null cipher and the attacker read the canary on the wire');
    expect(v.summary).toBe('forced null cipher: canary read');
    expect(v.impact).toEqual(['confidentiality', 'integrity']);
    expect(v.evidence.slice(0, 2)).toEqual([
      { kind: 'canary-recovered', detail: `canary ${CANARY} read by the attacker on connection 1 (c2s, client-wire): …{"text":"${CANARY_MSG}"}…` },
      { kind: 'position', detail: `on-path → ${REWRITE}` },
    ]);
  });

  it('owning the victim\'s side: the cipher it chose from her own offer, and a summary naming the victim hop', () => {
    const v = cipherDowngradeVerdict(owner, cipherRun({ rewritten: 0 }), [sighting('client-wire')], observations(onChannel('null')));
    expect(v.reason).toBe(`${TAKEOVER} → the attacker chose null from the victim's own offer ["aes-256-gcm","null"] on the victim's side of the channel it took over; the channel ran on the null cipher and the attacker read the canary on the wire`);
    expect(v.summary).toBe('null cipher on victim hop: read');
  });

  it('an offer of weak ciphers only, left as it was', () => {
    const v = cipherDowngradeVerdict(position(), cipherRun({ offered: ['null'], rewritten: 0 }), [sighting('client-wire')], observations(onChannel('null')));
    expect(v.reason).toBe('the attacker left the offer ["null"] as it was (weak ciphers only); the channel ran on the null cipher and the attacker read the canary on the wire');
  });

  it('looks like success but is not: null ran, yet the canary was seen only opened or on the server side', () => {
    const v = cipherDowngradeVerdict(position(), cipherRun(), [sighting('plaintext'), sighting('server-wire')], observations(onChannel('null')));
    expect(v.outcome).toBe('error');
    expect(v.evidence.some((e) => e.kind === 'canary-recovered')).toBe(false);
    expect(v.reason).toBe('no verdict: the attacker rewrote the cipher offer, the channel ran on null, and neither an exploit nor a refusal was observed (on-path)');
  });

  it('CBC on the victim\'s side of a channel it owns, the canary opened: succeeded', () => {
    const v = cipherDowngradeVerdict(owner, cipherRun({ offered: ['aes-128-cbc', 'aes-256-gcm'], rewritten: 0 }), [sighting('client-wire', 7), sighting('plaintext', 2)], observations(onChannel('aes-128-cbc')));
    expect(v).toMatchObject({
      outcome: 'succeeded',
      reason: `${TAKEOVER} → the attacker chose aes-128-cbc from the victim's own offer ["aes-128-cbc","aes-256-gcm"] on the victim's side of the channel it took over; the victim's side runs aes-128-cbc without a MAC, and the attacker read the canary`,
      summary: 'CBC on victim hop: canary read',
      impact: ['confidentiality', 'integrity'],
    });
    expect(v.evidence.filter((e) => e.kind === 'canary-recovered').map((e) => e.detail)).toEqual([`canary ${CANARY} read by the attacker on connection 2 (c2s, plaintext): …{"text":"${CANARY_MSG}"}…`]);
  });

  it('looks like success but is not: CBC ran, but the canary was only "opened" without owning the channel, or seen only as ciphertext bytes on a channel it owns', () => {
    expect(cipherDowngradeVerdict(position(), cipherRun(), [sighting('plaintext')], observations(onChannel('aes-128-cbc'))).outcome).toBe('error');
    expect(cipherDowngradeVerdict(owner, cipherRun(), [sighting('client-wire')], observations(onChannel('aes-128-cbc'))).outcome).toBe('error');
  });

  it('looks like success but is not: owning the victim\'s side and reading it opened is the takeover, not a downgrade, unless a weak cipher ran there', () => {
    expect(cipherDowngradeVerdict(owner, cipherRun(), [sighting('plaintext')], observations(onChannel('aes-256-gcm'))).outcome).toBe('blocked');
    expect(cipherDowngradeVerdict(owner, cipherRun(), [sighting('server-wire')], observations(onChannel('null'))).outcome).toBe('error');
  });

  it('null on the victim\'s side of a channel it owns, the canary read in the plaintext it reads there: succeeded (it was "no verdict": found by the consistency sample)', () => {
    const v = cipherDowngradeVerdict(owner, cipherRun({ offered: ['aes-256-gcm', 'null'], rewritten: 0 }), [sighting('plaintext', 3)], observations(onChannel('null')));
    expect(v).toMatchObject({
      outcome: 'succeeded',
      reason: `${TAKEOVER} → the attacker chose null from the victim's own offer ["aes-256-gcm","null"] on the victim's side of the channel it took over; the victim's side runs the null cipher (no encryption, no MAC), and the attacker read the canary`,
      summary: 'null cipher on victim hop: read',
      impact: ['confidentiality', 'integrity'],
    });
    expect(v.evidence[0]).toEqual({ kind: 'canary-recovered', detail: `canary ${CANARY} read by the attacker on connection 3 (c2s, plaintext): …{"text":"${CANARY_MSG}"}…` });
  });

  it('null inside TLS the attacker terminated (channel not taken over): the canary in the TLS plaintext is read, succeeded', () => {
    const terminated = position({ tls: { cert: 'self-signed' }, framesReadable: true, steps: ['terminated TLS'] });
    const v = cipherDowngradeVerdict(terminated, cipherRun(), [sighting('plaintext', 4)], observations(onChannel('null')));
    expect(v).toMatchObject({ outcome: 'succeeded', summary: 'forced null cipher: canary read', impact: ['confidentiality', 'integrity'] });
    expect(v.reason).toMatch(/the channel ran on the null cipher inside the TLS the attacker terminated \(no encryption, no MAC\), and the attacker read the canary$/);
    // The same sighting with a real cipher is not a read of the canary by the downgrade.
    expect(cipherDowngradeVerdict(terminated, cipherRun(), [sighting('plaintext', 4)], observations(onChannel('aes-256-gcm'))).outcome).not.toBe('succeeded');
  });

  it('CBC without a MAC and bob received the altered canary without an error: succeeded, the altered delivery first', () => {
    const v = cipherDowngradeVerdict(probed, cipherRun({ altered: 'XOR-ed 7 bytes into the CBC IV' }), [], observations({ ...onChannel('aes-128-cbc'), bobReceived: 'the secret is XXXX' }));
    expect(v).toMatchObject({
      outcome: 'succeeded',
      reason: 'the attacker rewrote the cipher offer; the channel ran on aes-128-cbc without a MAC; the attacker XOR-ed 7 bytes into the CBC IV, and bob received the altered canary',
      summary: 'forced CBC: canary altered',
      impact: ['integrity'],
    });
    expect(v.evidence[0]).toEqual({ kind: 'altered-delivery', detail: `bob received "the secret is XXXX" instead of "${CANARY_MSG}"` });
  });

  it('looks like success but is not: an alteration bob never received altered, or refused, or under another cipher', () => {
    const altered = cipherRun({ altered: 'XOR-ed into the IV' });
    for (const o of [
      { ...onChannel('aes-128-cbc'), bobReceived: CANARY_MSG },
      { ...onChannel('aes-128-cbc'), bobReceived: null },
      { ...onChannel('aes-128-cbc'), bobReceived: 'altered', bob: { error: { code: 'SECCHAT_ERR_CHANNEL', message: 'bad_padding' } } },
      { ...onChannel('null'), bobReceived: 'altered' },
    ]) {
      expect(cipherDowngradeVerdict(position(), altered, [], observations(o)).outcome).toBe('error');
    }
    expect(cipherDowngradeVerdict(position(), cipherRun(), [], observations({ ...onChannel('aes-128-cbc'), bobReceived: 'altered' })).outcome).toBe('error'); // not the attacker's alteration
  });

  it('owning the victim\'s side and the victim offers no weak cipher: blocked, no weak cipher in common', () => {
    expect(cipherDowngradeVerdict(owner, cipherRun({ offered: ['aes-256-gcm'], rewritten: 0 }), [], observations(onChannel('aes-256-gcm')))).toMatchObject({
      outcome: 'blocked',
      reason: `${TAKEOVER} → no weak cipher in common: the victim offers only ["aes-256-gcm"], so even on the side of the channel the attacker owns it runs aes-256-gcm`,
      summary: 'no weak cipher in common',
      impact: [],
    });
  });

  it('a strong cipher without owning the channel is no "no weak cipher in common"; a weak one on a channel it owns is not either', () => {
    const log = [{ event: 'channel_error', peer: '127.0.0.1:1', code: 'transcript_mismatch', message: 'the transcript MAC does not match' }];
    expect(cipherDowngradeVerdict(position(), cipherRun(), [], observations({ ...onChannel('aes-256-gcm'), log })).summary).toBe('refused: transcript_mismatch');
    expect(cipherDowngradeVerdict(owner, cipherRun(), [], observations({ ...onChannel('aes-128-cbc'), log })).summary).toBe('refused: transcript_mismatch');
    expect(cipherDowngradeVerdict(owner, cipherRun(), [], observations({ log })).summary).toBe('refused: transcript_mismatch'); // no channel at all
  });

  it('the server refused the rewritten offer: blocked, naming the most telling refusal', () => {
    const log = [
      { event: 'socket_error', peer: '127.0.0.1:2', code: 'ECONNRESET', message: 'reset' },
      { event: 'channel_error', peer: '127.0.0.1:1', code: 'transcript_mismatch', message: 'the transcript MAC does not match' },
    ];
    expect(cipherDowngradeVerdict(probed, cipherRun(), [], observations({ log, alice: { error: { code: 'SECCHAT_ERR_CHANNEL', message: 'closed' } } }))).toMatchObject({
      outcome: 'blocked',
      reason: 'the attacker rewrote the cipher offer; the rewrite was caught: the secure channel refused it (transcript_mismatch): the transcript MAC does not match',
      summary: 'refused: transcript_mismatch',
      impact: [],
    });
  });

  it('no_common_cipher is named as such; a refusal that is not the channel\'s is summarised as "refused"; a long code is cut', () => {
    const noCommon = cipherDowngradeVerdict(position(), cipherRun(), [], observations({ log: [{ event: 'channel_error', peer: 'p', code: 'no_common_cipher', message: 'none of null, aes-128-cbc' }] }));
    expect(noCommon.reason).toBe('the attacker rewrote the cipher offer; the rewrite was caught: no weak cipher in common: the secure channel refused it (no_common_cipher): none of null, aes-128-cbc');
    expect(noCommon.summary).toBe('refused: no_common_cipher');
    const proto = cipherDowngradeVerdict(position(), cipherRun(), [], observations({ log: [{ event: 'protocol_error', peer: 'p', code: 'bad_json', message: 'm' }] }));
    expect(proto.reason).toBe('the attacker rewrote the cipher offer; the rewrite was caught: protocol_error bad_json: m');
    expect(proto.summary).toBe('refused');
    const long = cipherDowngradeVerdict(position(), cipherRun(), [], observations({ log: [{ event: 'channel_error', peer: 'p', code: 'a_channel_code_longer_than_a_table_cell', message: 'm' }] }));
    expect(long.summary).toBe('refused: a_channel_code_longer_than_a_ta');
  });

  it('only alice\'s client refused the channel: blocked by the client', () => {
    expect(cipherDowngradeVerdict(probed, cipherRun(), [], observations({ alice: { error: { code: 'SECCHAT_ERR_CHANNEL', message: 'transcript_mismatch: the offer was altered' } } }))).toMatchObject({
      outcome: 'blocked',
      reason: 'the attacker rewrote the cipher offer; the rewrite was caught by the client: transcript_mismatch: the offer was altered',
      summary: 'client refused',
      impact: [],
    });
  });

  it('anything else: inconclusive, with alice\'s error and the last rung', () => {
    expect(cipherDowngradeVerdict(owner, cipherRun({ rewritten: 0 }), [], observations({ alice: { error: { code: 'SECCHAT_ERR_NETWORK', message: 'reset' } } }))).toMatchObject({
      outcome: 'error',
      reason: 'no verdict: the attacker chose null from the victim\'s own offer ["aes-256-gcm","null"] on the victim\'s side of the channel it took over, the channel ran on no cipher, and neither an exploit nor a refusal was observed (SECCHAT_ERR_NETWORK: reset) (channel taken over)',
      summary: 'inconclusive',
      impact: [],
    });
  });
});
