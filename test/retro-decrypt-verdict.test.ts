/**
 * retro-decrypt's reporting and combining, from crafted analyses (attacks/kit/retro-decrypt-verdict.ts):
 * the key-exchange line per connection, the evidence of one recorded conversation, and how the
 * legacy-client run joins secchat's own (it decides only when it recovered the canary). The
 * recording verdict itself is test/retro-recording-verdict.test.ts; the real recordings are
 * test/retro-decrypt-attack.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { combine, LEGACY_CLIENT_CIPHERS, tlsLine, variantEvidence, type Variant } from '../attacks/kit/retro-decrypt-verdict.ts';
import { legacyClientProfile, retroDecrypt } from '../attacks/plugins/retro-decrypt.ts';
import { retroVerdict, type AnalysedConnection } from '../attacks/retro/recording-verdict.ts';
import type { ConnectionAnalysis } from '../attacks/retro/connection-analysis.ts';
import type { RetroDecryptResult } from '../attacks/retro/tls12-decrypt.ts';
import type { ChannelRetroResult } from '../attacks/retro/channel-decrypt.ts';
import { conversationEvidence } from '../attacks/kit/evidence.ts';
import type { ClientObservation, Observations } from '../attacks/types.ts';
import { loadProfile } from '../core/profile.ts';

function tls(o: Partial<RetroDecryptResult> = {}): RetroDecryptResult {
  return {
    outcome: 'decrypted',
    reason: 'ok',
    keyExchange: 'RSA',
    version: 'TLSv1.2',
    suite: 'TLS_RSA_WITH_AES_128_GCM_SHA256',
    extendedMasterSecret: true,
    clientPlaintext: Buffer.from('abc'),
    serverPlaintext: Buffer.from('de'),
    finishedVerified: { client: true, server: true },
    notes: [],
    ...o,
  };
}
const channel = (outcome: ChannelRetroResult['outcome'], reason: string): ChannelRetroResult => ({ outcome, reason, keyExchange: 'rsa', cipher: 'aes-256-gcm', clientFrames: [], serverFrames: [], notes: [] });
const conn = (id: number, a: Partial<ConnectionAnalysis>): AnalysedConnection => ({ conn: id, clientPeer: `127.0.0.1:${6000 + id}`, a: { tlsStartsAt: { c2s: 0, s2c: 0 }, tls: null, channel: null, canary: null, ...a } });

describe('tlsLine: one connection\'s TLS layer in a sentence', () => {
  it('RSA key transport with and without the extended master secret, Finished verified or not', () => {
    expect(tlsLine(conn(1, { tls: tls() }))).toBe(
      'connection 1 (127.0.0.1:6001): TLSv1.2 TLS_RSA_WITH_AES_128_GCM_SHA256, key exchange RSA key transport, extended master secret used (RFC 7627: master secret from the session hash), both Finished messages verified → decrypted',
    );
    expect(tlsLine(conn(2, { tls: tls({ extendedMasterSecret: false, finishedVerified: { client: true, server: null } }) }))).toBe(
      'connection 2 (127.0.0.1:6002): TLSv1.2 TLS_RSA_WITH_AES_128_GCM_SHA256, key exchange RSA key transport, extended master secret not used (classic PRF over the randoms) → decrypted',
    );
    expect(tlsLine(conn(2, { tls: tls({ finishedVerified: { client: false, server: true } }) }))).not.toContain('Finished');
  });

  it('an ephemeral group, TLS 1.3 with and without a group, and a STARTTLS greeting before TLS', () => {
    expect(tlsLine(conn(3, { tls: tls({ outcome: 'ephemeral', keyExchange: 'ECDHE', group: 'X25519', suite: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' }), tlsStartsAt: { c2s: 27, s2c: 40 } }))).toBe(
      'connection 3 (127.0.0.1:6003): TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, key exchange ECDHE X25519, extended master secret used (RFC 7627: master secret from the session hash), both Finished messages verified, TLS after a 27-byte plaintext STARTTLS greeting → ephemeral',
    );
    expect(tlsLine(conn(4, { tls: tls({ outcome: 'ephemeral', keyExchange: 'TLS13', group: 'X25519', version: 'TLSv1.3', suite: 'TLS_AES_128_GCM_SHA256', finishedVerified: { client: null, server: null } }) }))).toBe(
      'connection 4 (127.0.0.1:6004): TLSv1.3 TLS_AES_128_GCM_SHA256, key exchange TLS 1.3 key share X25519 → ephemeral',
    );
    expect(tlsLine(conn(4, { tls: tls({ keyExchange: 'TLS13', version: 'TLSv1.3', finishedVerified: { client: null, server: null } }) }))).toContain('key exchange TLS 1.3 key share ?');
  });

  it('no ServerHello (no version): the outcome and reason only, with the greeting offset', () => {
    expect(tlsLine(conn(5, { tls: tls({ outcome: 'failed', reason: 'no ServerHello in the recording', version: '' }), tlsStartsAt: { c2s: 12, s2c: 0 } }))).toBe(
      'connection 5 (127.0.0.1:6005): failed: no ServerHello in the recording, TLS after a 12-byte plaintext STARTTLS greeting',
    );
    expect(tlsLine(conn(5, { tls: tls({ outcome: 'failed', reason: 'r', version: '' }), tlsStartsAt: null }))).toBe('connection 5 (127.0.0.1:6005): failed: r');
  });
});

function client(o: Partial<ClientObservation> = {}): ClientObservation {
  return { connected: true, loggedIn: true, negotiated: null, channel: null, fallbackAttempts: [], localAddress: null, error: null, received: [], ...o };
}
function observations(alice: Partial<ClientObservation> = {}, bob: Partial<ClientObservation> = {}): Observations {
  return { canary: 'c-1', canaryMessage: 'hi c-1', proxy: null, clients: { alice: client(alice), bob: client(bob) }, server: { log: [], port: 1 }, bobReceived: 'hi c-1', bobCanaryCopies: 1, aliceReceived: 'r', durationMs: 1 };
}

describe('variantEvidence: one recorded conversation', () => {
  it('canary first, then the recording, the stolen key, each TLS and channel layer, the key log, the conversation', () => {
    const all = [
      conn(1, { tls: tls(), channel: channel('decrypted', 'opened'), canary: { dir: 'c2s', from: 'channel', excerpt: 'c-1' } }),
      conn(2, { tls: null, tlsStartsAt: null, channel: channel('absent', 'no channel') }),
    ];
    const v = retroVerdict(all, '/k/server.key', 'c-1');
    const obs = observations();
    const ev = variantEvidence(all, v, '/k/server.key', { c2s: 100, s2c: 200 }, ['CLIENT_RANDOM aa bb'], obs);
    expect(ev).toEqual([
      ...v.extra,
      { kind: 'recording', detail: 'the passive tap recorded 2 connection(s): 100 bytes client→server, 200 bytes server→client, as on the wire' },
      { kind: 'stolen-key', detail: 'after the session ended the attacker read the server private key from /k/server.key — no key log, no session state' },
      { kind: 'key-exchange', detail: tlsLine(all[0]!) },
      { kind: 'channel', detail: 'connection 1: decrypted: opened' },
      { kind: 'derived-keylog', detail: 'NSS key log line secchat derived from the stolen key (Wireshark: tls.keylog_file): CLIENT_RANDOM aa bb' },
      ...conversationEvidence(obs),
    ]);
    expect(v.extra).toHaveLength(1);
  });
});

describe('combine: secchat\'s own run and the legacy-client run', () => {
  const variant = (legacy: boolean, v: Variant['v'], o: Partial<Variant> = {}): Variant => ({
    legacy,
    obs: observations({ negotiated: { protocol: legacy ? 'TLSv1.2' : 'TLSv1.3', cipher: legacy ? 'AES256-SHA' : 'TLS_AES_128_GCM_SHA256', group: null } }),
    all: [],
    v,
    keyPath: '/k/server.key',
    evidence: [{ kind: 'recording', detail: legacy ? 'legacy rec' : 'own rec' }],
    keyLogLines: [],
    artifacts: {},
    ...o,
  });
  const blocked = { outcome: 'blocked' as const, reason: 'ephemeral X25519', summary: 'ephemeral X25519: forward secret', impact: [], extra: [] };
  const decrypted = { outcome: 'succeeded' as const, reason: 'RSA key transport is not forward secret', summary: 'recording decrypted with stolen key', impact: ['confidentiality' as const], extra: [] };

  it('no legacy run: secchat\'s own verdict, with its data and negotiated parameters', () => {
    const own = variant(false, decrypted, { artifacts: { 'recovered-keylog': '/out/recovered.keylog' } });
    expect(combine('tls12-rsa-kx', own, null)).toEqual({
      outcome: 'succeeded',
      reason: decrypted.reason,
      summary: decrypted.summary,
      impact: ['confidentiality'],
      evidence: own.evidence,
      negotiated: own.obs.clients.alice.negotiated,
      artifacts: { 'recovered-keylog': '/out/recovered.keylog' },
      data: { variant: 'secchat-client', stolenKeyFile: '/k/server.key', connections: [] },
    });
    expect(combine('p', variant(false, blocked), null)).not.toHaveProperty('artifacts');
  });

  it('the legacy run recovered the canary: succeeded on its reason, its evidence first and marked', () => {
    const own = variant(false, blocked);
    const legacy = variant(true, decrypted, { artifacts: { 'recovered-keylog-legacy-client': '/out/l.keylog' } });
    const r = combine('tls12-ecdhe', own, legacy);
    expect(r.outcome).toBe('succeeded');
    expect(r.reason).toBe("legacy-client variant: RSA key transport is not forward secret (secchat's own client was not exposed: ephemeral X25519); the server accepts static RSA from any client that asks for it");
    expect(r.summary).toBe('legacy client: decrypted with stolen key');
    expect(r.impact).toEqual(['confidentiality']);
    expect(r.negotiated).toEqual(legacy.obs.clients.alice.negotiated);
    expect(r.artifacts).toEqual({ 'recovered-keylog-legacy-client': '/out/l.keylog' });
    expect(r.evidence).toEqual([
      { kind: 'recording', detail: 'legacy-client variant: legacy rec' },
      { kind: 'variant', detail: `legacy-client variant: alice and bob connected with a legacy TLS client offering only static-RSA suites (${LEGACY_CLIENT_CIPHERS.replace(':@SECLEVEL=0', '')}, TLS 1.0–1.2); the server kept profile tls12-ecdhe` },
      { kind: 'recording', detail: 'own rec' },
    ]);
    expect(r.data).toMatchObject({ variant: 'legacy-client', legacyClient: { offered: LEGACY_CLIENT_CIPHERS, stolenKeyFile: '/k/server.key' } });
    expect(LEGACY_CLIENT_CIPHERS).toMatch(/:@SECLEVEL=0$/);
  });

  it('the server refused the legacy client: secchat\'s own verdict, naming the refusal; its evidence first', () => {
    const own = variant(false, blocked);
    const legacy = variant(true, { ...blocked, outcome: 'error', reason: 'nothing was recorded to decrypt' }, {
      obs: observations({ connected: false, error: { code: 'ERR_SSL', message: 'C0:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../ssl/record/rec_layer_s3.c:1605:' } }),
    });
    const r = combine('tls13-only', own, legacy);
    expect(r.outcome).toBe('blocked');
    expect(r.reason).toBe('ephemeral X25519; a legacy client offering only static-RSA suites was refused by the server (sslv3 alert handshake failure)');
    expect(r.summary).toBe(blocked.summary);
    expect(r.negotiated).toEqual(own.obs.clients.alice.negotiated);
    expect(r.evidence[0]).toEqual({ kind: 'recording', detail: 'own rec' });
    expect(r.evidence[2]).toEqual({ kind: 'recording', detail: 'legacy-client variant: legacy rec' });
    expect(r.data).toMatchObject({ variant: 'secchat-client', legacyClient: { offered: LEGACY_CLIENT_CIPHERS } });
  });

  it('a legacy client that connected but gave nothing: the legacy run\'s own reason is quoted', () => {
    const own = variant(false, blocked);
    const legacy = variant(true, { ...blocked, reason: 'ephemeral P-256' }, { obs: observations({}, { error: { code: 'E', message: 'bob' } }) });
    expect(combine('p', own, legacy).reason).toBe('ephemeral X25519; the legacy-client variant gave nothing either (ephemeral P-256)');
    // bob's error alone does not make a refusal while alice connected
    const aliceDown = variant(true, blocked, { obs: observations({ connected: false }, { error: { code: 'E', message: 'x:SSL routines:f:no shared cipher' } }) });
    expect(combine('p', own, aliceDown).reason).toBe('ephemeral X25519; a legacy client offering only static-RSA suites was refused by the server (no shared cipher)');
    const noError = variant(true, blocked, { obs: observations({ connected: false }) });
    expect(combine('p', own, noError).reason).toContain('gave nothing either');
  });

  it('the data lists every recorded connection: each layer\'s outcome and what came out, absent channels as null', () => {
    const all = [
      conn(1, { tls: tls({ group: undefined, notes: ['n1'] }), tlsStartsAt: { c2s: 27, s2c: 40 }, channel: channel('decrypted', 'opened'), canary: { dir: 'c2s', from: 'channel', excerpt: 'c-1' } }),
      conn(2, { tls: tls({ outcome: 'ephemeral', keyExchange: 'ECDHE', group: 'X25519', extendedMasterSecret: false, finishedVerified: { client: null, server: null } }), channel: channel('absent', 'no channel') }),
      conn(3, { tls: null, tlsStartsAt: null, channel: null }),
    ];
    const own = variant(false, blocked, { all });
    expect(combine('p', own, null).data).toEqual({
      variant: 'secchat-client',
      stolenKeyFile: '/k/server.key',
      connections: [
        {
          conn: 1,
          clientPeer: '127.0.0.1:6001',
          tls: { outcome: 'decrypted', reason: 'ok', version: 'TLSv1.2', suite: 'TLS_RSA_WITH_AES_128_GCM_SHA256', keyExchange: 'RSA', group: null, extendedMasterSecret: true, finishedVerified: { client: true, server: true }, startsAtByte: { c2s: 27, s2c: 40 }, recoveredBytes: { c2s: 3, s2c: 2 }, notes: ['n1'] },
          channel: { outcome: 'decrypted', keyExchange: 'rsa', cipher: 'aes-256-gcm', notes: [] },
          canaryRecovered: { dir: 'c2s', from: 'channel' },
        },
        {
          conn: 2,
          clientPeer: '127.0.0.1:6002',
          tls: { outcome: 'ephemeral', reason: 'ok', version: 'TLSv1.2', suite: 'TLS_RSA_WITH_AES_128_GCM_SHA256', keyExchange: 'ECDHE', group: 'X25519', extendedMasterSecret: false, finishedVerified: { client: null, server: null }, startsAtByte: { c2s: 0, s2c: 0 }, recoveredBytes: { c2s: 3, s2c: 2 }, notes: [] },
          channel: null,
          canaryRecovered: null,
        },
        { conn: 3, clientPeer: '127.0.0.1:6003', tls: null, channel: null, canaryRecovered: null },
      ],
    });
  });

  it('a legacy client the server accepted whose recording could not be judged: no verdict, never "blocked" on secchat\'s client alone', () => {
    const own = variant(false, blocked);
    const legacy = variant(true, { ...blocked, outcome: 'error', reason: 'connection 1: secchat could not analyse the recording: unsupported suite', summary: 'recording not analysed' });
    const r = combine('tls12-ecdhe', own, legacy);
    expect(r).toMatchObject({
      outcome: 'error',
      reason: "no verdict: a legacy client offering only static-RSA suites connected, but its recording could not be judged (connection 1: secchat could not analyse the recording: unsupported suite); secchat's own client: ephemeral X25519",
      summary: 'legacy-client run inconclusive',
      impact: [],
      negotiated: own.obs.clients.alice.negotiated,
    });
    expect(r.evidence[0]).toEqual({ kind: 'recording', detail: 'legacy-client variant: legacy rec' });
    expect(r.evidence[1]!.kind).toBe('variant');
    expect(r.evidence[2]).toEqual({ kind: 'recording', detail: 'own rec' });
    expect(r.data).toMatchObject({ variant: 'secchat-client', legacyClient: { offered: LEGACY_CLIENT_CIPHERS } });
  });

  it('negotiated falls back to bob\'s when alice has none', () => {
    const own = variant(false, blocked, { obs: observations({}, { negotiated: { protocol: 'TLSv1.3', cipher: 'X', group: 'X25519' } }) });
    expect(combine('p', own, null).negotiated).toEqual({ protocol: 'TLSv1.3', cipher: 'X', group: 'X25519' });
  });
});

describe('the legacy client and applicability', () => {
  it('the legacy client offers static RSA only, TLS 1.0–1.2, no fallback; the rest of the profile is kept', () => {
    const p = loadProfile('tls12-ecdhe');
    const l = legacyClientProfile(p);
    expect(l.tls).toEqual({ ...p.tls, minVersion: 'TLSv1', maxVersion: 'TLSv1.2', ciphers: LEGACY_CLIENT_CIPHERS, ciphersuites: undefined });
    expect(l.client).toEqual({ ...p.client, fallback: false });
    expect(l.channel).toEqual(p.channel);
  });

  it('not applicable only to plaintext with no channel', () => {
    expect(retroDecrypt.applicability!(loadProfile('plaintext'))).toMatch(/^no encryption to break: .*mitm-passive/);
    expect(retroDecrypt.applicability!(loadProfile('tls12-rsa-kx'))).toBeNull();
    expect(retroDecrypt.applicability!(loadProfile('channel-rsa'))).toBeNull();
  });
});
