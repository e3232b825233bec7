/**
 * retroVerdict and analyseRecording with crafted analyses: every rule of the verdict, in its
 * order (canary anywhere → succeeded; ephemeral TLS, then an ephemeral channel → blocked; a resumed
 * session, then any failure → error; else error naming what was or was not decrypted), with the
 * exact reason, summary, impact and evidence each produces. Fast enough to run against every
 * mutant of attacks/retro/recording-verdict.ts (docs/testing.md); the end-to-end recordings that
 * produce these analyses are in test/retro-connection-analysis.test.ts and
 * test/retro-decrypt-attack.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { analyseRecording, retroVerdict } from '../attacks/retro/recording-verdict.ts';
import { analysed, channelResult, tlsResult } from './helpers/retro-results.ts';
import type { ProxyConnectionRecord, ProxyEngine } from '../attacks/proxy.ts';

const KEY = '/lab/pki/server.key';
const CANARY = 'canary-7f3a';

const tls = tlsResult;
const channel = channelResult;
const conn = analysed;
const canaryAt = (from: 'clear' | 'tls' | 'channel', dir: 'c2s' | 's2c' = 'c2s') => ({ dir, from, excerpt: `msg ${CANARY} end` });

describe('retroVerdict: the canary recovered → succeeded, saying how', () => {
  it('in the clear: no key needed', () => {
    expect(retroVerdict([conn(3, { canary: canaryAt('clear', 's2c') })], KEY, CANARY)).toEqual({
      outcome: 'succeeded',
      reason: 'the recorded session was never encrypted: the canary is readable without the stolen key',
      summary: 'canary read: never encrypted',
      impact: ['confidentiality'],
      extra: [{ kind: 'canary-recovered', detail: `canary ${CANARY} recovered from the recording of connection 3 (s2c), the recorded bytes were never encrypted (no key needed): …msg ${CANARY} end…` }],
    });
  });

  it('out of TLS with RSA key transport: names version, suite and the extended master secret', () => {
    const v = retroVerdict([conn(1, {}), conn(2, { tls: tls('decrypted', 'ok'), canary: canaryAt('tls') })], KEY, CANARY);
    expect(v).toEqual({
      outcome: 'succeeded',
      reason: 'the server key, stolen after the session, decrypted the recording: RSA key transport (TLSv1.2 TLS_RSA_WITH_AES_128_GCM_SHA256, with extended master secret) is not forward secret — the canary was in the recovered plaintext',
      summary: 'recording decrypted with stolen key',
      impact: ['confidentiality'],
      extra: [{ kind: 'canary-recovered', detail: `canary ${CANARY} recovered from the recording of connection 2 (c2s), decrypted with keys derived from the stolen key (TLSv1.2 TLS_RSA_WITH_AES_128_GCM_SHA256, RSA key transport): …msg ${CANARY} end…` }],
    });
    const noEms = retroVerdict([conn(1, { tls: tls('decrypted', 'ok', { extendedMasterSecret: false, version: 'TLSv1', suite: 'TLS_RSA_WITH_AES_128_CBC_SHA' }), canary: canaryAt('tls') })], KEY, CANARY);
    expect(noEms.reason).toBe('the server key, stolen after the session, decrypted the recording: RSA key transport (TLSv1 TLS_RSA_WITH_AES_128_CBC_SHA, without extended master secret) is not forward secret — the canary was in the recovered plaintext');
  });

  it('out of a secure channel under no TLS: the channel\'s rsa key exchange, its cipher in the evidence', () => {
    const v = retroVerdict([conn(4, { channel: channel('decrypted', 'rsa', 'ok', 'chacha20-poly1305'), canary: canaryAt('channel') })], KEY, CANARY);
    expect(v).toEqual({
      outcome: 'succeeded',
      reason: "the server key, stolen after the session, decrypted the recording: the secure channel's rsa key exchange is not forward secret — the canary was in the recovered plaintext",
      summary: 'channel opened with stolen key',
      impact: ['confidentiality'],
      extra: [{ kind: 'canary-recovered', detail: `canary ${CANARY} recovered from the recording of connection 4 (c2s), opened with the channel secret the stolen key unwrapped (chacha20-poly1305): …msg ${CANARY} end…` }],
    });
    const noCipher = retroVerdict([conn(4, { channel: channel('decrypted', 'rsa', 'ok', null), canary: canaryAt('channel') })], KEY, CANARY);
    expect(noCipher.extra[0]!.detail).toContain('unwrapped (?)');
  });

  it('out of a channel inside decrypted TLS: both layers named as not forward secret', () => {
    const v = retroVerdict([conn(1, { tls: tls('decrypted', 'ok', { extendedMasterSecret: false }), channel: channel('decrypted', 'rsa', 'ok'), canary: canaryAt('channel') })], KEY, CANARY);
    expect(v.reason).toBe(
      "the server key, stolen after the session, decrypted the recording: RSA key transport (TLSv1.2 TLS_RSA_WITH_AES_128_GCM_SHA256, without extended master secret) and the secure channel's rsa key exchange inside it are not forward secret — the canary was in the recovered plaintext",
    );
    expect(v.summary).toBe('channel opened with stolen key');
  });

  it('a canary in any connection wins over an ephemeral sibling, and the first hit is the one named', () => {
    const v = retroVerdict(
      [conn(1, { tls: tls('ephemeral', 'ephemeral X25519', { group: 'X25519' }) }), conn(2, { canary: canaryAt('clear') }), conn(3, { canary: canaryAt('clear', 's2c') })],
      KEY,
      CANARY,
    );
    expect(v.outcome).toBe('succeeded');
    expect(v.extra).toHaveLength(1);
    expect(v.extra[0]!.detail).toContain('connection 2 (c2s)');
  });
});

describe('retroVerdict: no canary', () => {
  it('ephemeral TLS → blocked, naming the key file by its base name and the group', () => {
    expect(retroVerdict([conn(1, { tls: tls('ephemeral', 'ECDHE with X25519: the server key only signed the handshake', { group: 'X25519', keyExchange: 'ECDHE' }) })], KEY, CANARY)).toEqual({
      outcome: 'blocked',
      reason: 'ECDHE with X25519: the server key only signed the handshake; the key read from server.key cannot open the recording',
      summary: 'ephemeral X25519: forward secret',
      impact: [],
      extra: [],
    });
  });

  it('ephemeral TLS without a group names the key exchange; the summary is cut to 40 characters', () => {
    const v = retroVerdict([conn(1, { tls: tls('ephemeral', 'DHE', { keyExchange: 'DHE' }) })], KEY, CANARY);
    expect(v.summary).toBe('ephemeral DHE: forward secret');
    const long = retroVerdict([conn(1, { tls: tls('ephemeral', 'x', { group: 'a-very-long-group-name-here' }) })], KEY, CANARY);
    expect(long.summary).toBe('ephemeral a-very-long-group-name-here: f');
  });

  it('an ephemeral channel → blocked; "TLS decrypted … but" only when TLS did decrypt', () => {
    expect(retroVerdict([conn(1, { channel: channel('ephemeral', 'ecdhe-signed', 'channel key exchange ecdhe-signed: ephemeral X25519') })], KEY, CANARY)).toEqual({
      outcome: 'blocked',
      reason: 'channel key exchange ecdhe-signed: ephemeral X25519: the recorded messages stay sealed',
      summary: 'channel ecdhe-signed: forward secret',
      impact: [],
      extra: [],
    });
    const under = retroVerdict([conn(1, { tls: tls('decrypted', 'ok'), channel: channel('ephemeral', 'ecdhe-unsigned-with-long-name', 'eph') })], KEY, CANARY);
    expect(under.reason).toBe('TLS decrypted with the stolen key, but eph: the recorded messages stay sealed');
    expect(under.summary).toBe('channel ecdhe-unsigned-with-long-name: f');
  });

  it('ephemeral TLS is named before an ephemeral channel in another connection', () => {
    const v = retroVerdict([conn(1, { channel: channel('ephemeral', 'ecdhe-signed', 'ch') }), conn(2, { tls: tls('ephemeral', 'tls-eph', { group: 'P-256' }) })], KEY, CANARY);
    expect(v.reason).toBe('tls-eph; the key read from server.key cannot open the recording');
  });

  it('a resumed session → error, before any failure, never blocked', () => {
    const v = retroVerdict([conn(1, { tls: tls('failed', 'bad') }), conn(2, { tls: tls('resumed', 'resumed by session ticket') })], KEY, CANARY);
    expect(v).toEqual({ outcome: 'error', reason: 'the tap recorded a resumed session, not a full handshake: resumed by session ticket', summary: 'recording holds a resumed session', impact: [], extra: [] });
  });

  it('a TLS layer that failed or is unsupported → error naming the connection and the reason', () => {
    for (const outcome of ['failed', 'unsupported'] as const) {
      const v = retroVerdict([conn(1, { tls: tls('decrypted', 'ok') }), conn(7, { tls: tls(outcome, `why ${outcome}`) })], KEY, CANARY);
      expect(v).toEqual({ outcome: 'error', reason: `connection 7: secchat could not analyse the recording: why ${outcome}`, summary: 'recording not analysed', impact: [], extra: [] });
    }
  });

  it('a channel that failed → error with the channel\'s reason, also under decrypted TLS', () => {
    const v = retroVerdict([conn(1, {}), conn(5, { tls: tls('decrypted', 'ok'), channel: channel('failed', 'rsa', 'the ch_key did not unwrap') })], KEY, CANARY);
    expect(v).toEqual({ outcome: 'error', reason: 'connection 5: secchat could not analyse the recording: the ch_key did not unwrap', summary: 'recording not analysed', impact: [], extra: [] });
  });

  it('a failed TLS layer is named before a failed channel elsewhere', () => {
    const v = retroVerdict([conn(1, { channel: channel('failed', 'rsa', 'ch-fail') }), conn(2, { tls: tls('failed', 'tls-fail') })], KEY, CANARY);
    expect(v.reason).toBe('connection 2: secchat could not analyse the recording: tls-fail');
  });

  it('decrypted (TLS or channel) but no canary → error saying the conversation did not carry it', () => {
    const expected = { outcome: 'error', reason: 'the recording decrypted, but the canary was not in it: the conversation did not carry it', summary: 'no canary in the recording', impact: [], extra: [] };
    expect(retroVerdict([conn(1, { tls: tls('decrypted', 'ok') })], KEY, CANARY)).toEqual(expected);
    expect(retroVerdict([conn(1, {}), conn(2, { channel: channel('decrypted', 'rsa', 'ok') })], KEY, CANARY)).toEqual(expected);
  });

  it('nothing decrypted (a clear recording without the canary, or no connection) → error: nothing was recorded', () => {
    const expected = { outcome: 'error', reason: 'nothing was recorded to decrypt', summary: 'no canary in the recording', impact: [], extra: [] };
    expect(retroVerdict([conn(1, {})], KEY, CANARY)).toEqual(expected);
    expect(retroVerdict([], KEY, CANARY)).toEqual(expected);
    expect(retroVerdict([conn(1, { channel: channel('absent', 'rsa', 'no channel') })], KEY, CANARY)).toEqual(expected);
  });
});

describe('analyseRecording: each connection\'s client-wire bytes, per direction', () => {
  it('reads c2s and s2c of the client wire for each connection and keeps the proxy\'s order and ids', () => {
    const wire: Record<string, Buffer> = {
      '7:c2s:client-wire': Buffer.from(`{"type":"msg","text":"hello ${CANARY}"}\n`),
      '7:s2c:client-wire': Buffer.from('{"type":"ok"}\n'),
      '9:c2s:client-wire': Buffer.from('{"type":"msg","text":"nothing"}\n'),
      '9:s2c:client-wire': Buffer.from(`{"type":"msg","text":"back ${CANARY}"}\n`),
      // What the server side of the proxy saw must not be read: a tap records the victim's wire.
      '11:c2s:server-wire': Buffer.from(`{"type":"msg","text":"${CANARY}"}\n`),
    };
    const engine = { bytes: (f: { conn?: number; dir?: string; layer?: string }) => wire[`${f.conn}:${f.dir}:${f.layer}`] ?? Buffer.alloc(0) } as unknown as ProxyEngine;
    const connections = [
      { id: 9, clientPeer: '127.0.0.1:6001' },
      { id: 7, clientPeer: '127.0.0.1:6002' },
      { id: 11, clientPeer: '127.0.0.1:6003' },
    ] as unknown as ProxyConnectionRecord[];
    const all = analyseRecording({ connections, engine }, 'unused key', CANARY);
    expect(all.map((x) => [x.conn, x.clientPeer])).toEqual([
      [9, '127.0.0.1:6001'],
      [7, '127.0.0.1:6002'],
      [11, '127.0.0.1:6003'],
    ]);
    expect(all[0]!.a.canary).toMatchObject({ dir: 's2c', from: 'clear' });
    expect(all[1]!.a.canary).toMatchObject({ dir: 'c2s', from: 'clear' });
    expect(all[2]!.a.canary).toBeNull();
    expect(retroVerdict(all, KEY, CANARY).extra[0]!.detail).toContain('connection 9 (s2c)');
  });
});
