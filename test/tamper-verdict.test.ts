/**
 * The tamper verdict (attacks/kit/tamper-verdict.ts) from crafted observations: succeeded only on
 * an altered delivery bob's client did not refuse; blocked only by a refusal logged on the altered
 * connection, naming the most telling one; inconclusive otherwise. The attack itself runs end to
 * end in test/attacks-channel-replay-downgrade.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { tamperVerdict } from '../attacks/kit/tamper-verdict.ts';
import type { Position } from '../attacks/kit/position.ts';
import type { ClientObservation, Evidence, Observations } from '../attacks/types.ts';

const CANARY_MSG = 'the secret is c-42';
const ALTERED = 'the secret is XXXXXXX';
const UPSTREAM = '127.0.0.1:40001';

function position(o: Partial<Position> = {}): Position {
  return { strippedStarttls: false, tls: null, framesReadable: true, channel: null, weakCipher: null, steps: ['on-path'], probes: [], probeMs: 0, ...o };
}
const terminated = position({ tls: { cert: 'self-signed' }, steps: ['on-path', 'terminated TLS with the self-signed certificate'] });

function client(o: Partial<ClientObservation> = {}): ClientObservation {
  return { connected: true, loggedIn: true, negotiated: null, channel: null, fallbackAttempts: [], localAddress: null, error: null, received: [], ...o };
}
function observations(o: { bobReceived?: string | null; log?: Array<Record<string, unknown>>; alice?: Partial<ClientObservation>; bob?: Partial<ClientObservation> } = {}): Observations {
  return {
    canary: 'c-42',
    canaryMessage: CANARY_MSG,
    proxy: null,
    clients: { alice: client({ negotiated: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', group: 'X25519' }, ...o.alice }), bob: client(o.bob) },
    server: { log: (o.log ?? []) as Observations['server']['log'], port: 1 },
    bobReceived: o.bobReceived === undefined ? ALTERED : o.bobReceived,
    bobCanaryCopies: 1,
    aliceReceived: 'reply',
    durationMs: 10,
  };
}
const before = (): Evidence[] => [{ kind: 'position', detail: 'p' }];
const altered = { how: 'rewrote the text of alice\'s readable dm', upstream: UPSTREAM };
const negotiated = { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', group: 'X25519' };

describe('tamperVerdict', () => {
  it('nothing altered: error, whatever bob received', () => {
    expect(tamperVerdict(position(), null, observations(), before())).toEqual({
      outcome: 'error',
      reason: "the attacker never saw alice's message pass (nothing was altered)",
      summary: 'message not seen',
      impact: [],
      evidence: before(),
      negotiated,
    });
  });

  it('bob received the altered text without an error: succeeded, the altered delivery first in the evidence', () => {
    expect(tamperVerdict(position(), altered, observations(), before())).toEqual({
      outcome: 'succeeded',
      reason: "bob received an altered message without any error: the attacker rewrote the text of alice's readable dm",
      summary: 'bob got the altered text',
      impact: ['integrity'],
      evidence: [{ kind: 'altered-delivery', detail: `rewrote the text of alice's readable dm → bob received "${ALTERED}" instead of "${CANARY_MSG}"` }, ...before()],
      negotiated,
    });
  });

  it('after climbing rungs: the chain in the reason and evidence, the last rung in the summary', () => {
    const v = tamperVerdict(terminated, altered, observations(), before());
    expect(v.reason).toBe("bob received an altered message without any error: terminated TLS with the self-signed certificate → the attacker rewrote the text of alice's readable dm");
    expect(v.summary).toBe('altered after TLS terminated');
    expect(v.evidence[0]!.detail).toMatch(/^terminated TLS with the self-signed certificate → rewrote/);
  });

  it('an altered text bob\'s client refused is no success', () => {
    const v = tamperVerdict(position(), altered, observations({ bob: { error: { code: 'SECCHAT_ERR_CHANNEL', message: 'bad_record_mac' } } }), before());
    expect(v.outcome).not.toBe('succeeded');
    expect(v.outcome).toBe('error');
    expect(v.reason).toBe("no verdict: the attacker rewrote the text of alice's readable dm, but the message never reached bob and nothing on the server says why (SECCHAT_ERR_CHANNEL: bad_record_mac)");
  });

  it('nothing delivered, a refusal on the altered connection: blocked, naming the most telling refusal', () => {
    const log = [
      { event: 'socket_error', peer: UPSTREAM, code: 'ECONNRESET', message: 'reset' },
      { event: 'tls_error', peer: UPSTREAM, code: 'ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC', message: 'bad record mac' },
      { event: 'channel_error', peer: '127.0.0.1:9', code: 'bad_record_mac', message: 'another connection' },
      { event: 'login', peer: UPSTREAM },
    ];
    const v = tamperVerdict(terminated, altered, observations({ bobReceived: null, log }), before());
    expect(v).toEqual({
      outcome: 'blocked',
      reason: "terminated TLS with the self-signed certificate → the attacker rewrote the text of alice's readable dm; the TLS record MAC check failed (ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC), so bob never saw it",
      summary: 'refused: TLS record MAC',
      impact: [],
      evidence: [
        { kind: 'server-refused', detail: 'socket_error ECONNRESET: reset' },
        { kind: 'server-refused', detail: 'the TLS record MAC check failed (ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC)' },
        ...before(),
      ],
      negotiated,
    });
  });

  it('the summary names a channel refusal by its code, and any other by its code or event, cut to 40 characters', () => {
    const ch = tamperVerdict(position(), altered, observations({ bobReceived: null, log: [{ event: 'channel_error', peer: UPSTREAM, code: 'bad_record_mac_with_a_long_suffix_here', message: 'm' }] }), before());
    expect(ch.summary).toBe('refused: channel bad_record_mac_with_a_l');
    expect(ch.reason).toBe("the attacker rewrote the text of alice's readable dm; the secure channel refused it (bad_record_mac_with_a_long_suffix_here): m, so bob never saw it");
    const proto = tamperVerdict(position(), altered, observations({ bobReceived: null, log: [{ event: 'protocol_error', peer: UPSTREAM, code: 'bad_json', message: 'frame is not valid JSON' }] }), before());
    expect(proto.summary).toBe('refused: bad_json');
    const noCode = tamperVerdict(position(), altered, observations({ bobReceived: null, log: [{ event: 'protocol_error_of_a_very_long_kind_indeed', peer: UPSTREAM }] }), before());
    expect(noCode.outcome).toBe('error'); // not a refusal kind the evidence readers count
    const tlsNoCode = tamperVerdict(position(), altered, observations({ bobReceived: null, log: [{ event: 'tls_error', peer: UPSTREAM, message: 'decryption failed or bad record mac' }] }), before());
    expect(tlsNoCode.summary).toBe('refused: TLS record MAC');
    const sock = tamperVerdict(position(), altered, observations({ bobReceived: null, log: [{ event: 'socket_error', peer: UPSTREAM, message: 'closed' }] }), before());
    expect(sock.summary).toBe('refused: socket_error');
  });

  it('a refusal on another connection explains nothing: inconclusive', () => {
    const v = tamperVerdict(position(), altered, observations({ bobReceived: null, log: [{ event: 'channel_error', peer: '127.0.0.1:9', code: 'bad_record_mac', message: 'x' }] }), before());
    expect(v).toEqual({
      outcome: 'error',
      reason: "no verdict: the attacker rewrote the text of alice's readable dm, but the message never reached bob and nothing on the server says why",
      summary: 'inconclusive',
      impact: [],
      evidence: before(),
      negotiated,
    });
  });

  it('an unknown upstream (null) reads no refusal at all', () => {
    const v = tamperVerdict(position(), { ...altered, upstream: null }, observations({ bobReceived: null, log: [{ event: 'channel_error', code: 'bad_record_mac', message: 'x' }] }), before());
    expect(v.outcome).toBe('error');
  });

  it('bob received the original message: inconclusive, saying so, with alice\'s error when she had one', () => {
    const v = tamperVerdict(position(), altered, observations({ bobReceived: CANARY_MSG, alice: { error: { code: 'E1', message: 'alice stopped' } }, bob: { error: { code: 'E2', message: 'bob stopped' } } }), before());
    expect(v.reason).toBe("no verdict: the attacker rewrote the text of alice's readable dm, but bob received the original message and nothing on the server says why (E1: alice stopped)");
  });

  it('bob received the original message and nobody complained: inconclusive, never succeeded', () => {
    const v = tamperVerdict(position(), altered, observations({ bobReceived: CANARY_MSG }), before());
    expect(v).toEqual({
      outcome: 'error',
      reason: "no verdict: the attacker rewrote the text of alice's readable dm, but bob received the original message and nothing on the server says why",
      summary: 'inconclusive',
      impact: [],
      evidence: before(),
      negotiated,
    });
  });

  it('a long refusal code is cut to 40 characters in the summary', () => {
    const v = tamperVerdict(position(), altered, observations({ bobReceived: null, log: [{ event: 'protocol_error', peer: UPSTREAM, code: 'frame_too_large_and_then_some_more_words', message: 'm' }] }), before());
    expect(v.summary).toBe('refused: frame_too_large_and_then_some_m');
  });
});
