/**
 * The retro-decrypt attack end to end over real loopback TLS, through runAttack, with inline
 * profiles that are not presets: verdicts must come from the recording, never from settings.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getAttack } from '../attacks/registry.ts';
import { runAttack } from '../attacks/scenario.ts';
import type { CellResult } from '../reports/results.ts';
import { profileOf, useTestPki } from './helpers/lab-env.ts';
import { readPcap } from './helpers/read-pcap.ts';

const env = useTestPki('secchat-retro-attack-');

const attack = () => getAttack('retro-decrypt');

interface ConnData {
  tls: { outcome: string; suite: string; version: string; keyExchange: string; group: string | null; extendedMasterSecret: boolean; finishedVerified: { client: boolean; server: boolean }; startsAtByte: { c2s: number; s2c: number } } | null;
  channel: { outcome: string; keyExchange: string | null } | null;
  canaryRecovered: { dir: string; from: string } | null;
}
const connections = (r: CellResult) => (r.data?.connections ?? []) as ConnData[];

/** A blocked or not-applicable run shows no canary anywhere (the canary field itself aside). */
function expectNoCanaryLeak(r: CellResult) {
  expect(r.impact).toEqual([]);
  expect(r.evidence.some((e) => e.detail.includes(r.canary))).toBe(false);
}

describe('retro-decrypt succeeds against TLS 1.2 RSA key transport', () => {
  const cases = [
    { ciphers: 'AES128-GCM-SHA256', iana: 'TLS_RSA_WITH_AES_128_GCM_SHA256', ems: true },
    { ciphers: 'AES128-GCM-SHA256', iana: 'TLS_RSA_WITH_AES_128_GCM_SHA256', ems: false },
    { ciphers: 'AES256-SHA256', iana: 'TLS_RSA_WITH_AES_256_CBC_SHA256', ems: true },
    { ciphers: 'AES128-SHA', iana: 'TLS_RSA_WITH_AES_128_CBC_SHA', ems: false },
  ];
  it.each(cases)('$ciphers, extended master secret $ems', async ({ ciphers, iana, ems }) => {
    const profile = profileOf({ name: 'inline-rsa', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers, extendedMasterSecret: ems } });
    const r = await runAttack(attack(), profile, env.pki);
    expect(r.outcome, r.reason).toBe('succeeded');
    expect(r.impact).toEqual(['confidentiality']);
    expect(r.reason).toMatch(new RegExp(`RSA key transport \\(TLSv1\\.2 ${iana}, ${ems ? 'with' : 'without'} extended master secret\\) is not forward secret`));
    const recovered = r.evidence.find((e) => e.kind === 'canary-recovered');
    expect(recovered?.detail).toContain(r.canary);
    expect(recovered?.detail).toContain(`${r.canary} is the secret`); // the decrypted dm itself
    expect(r.evidence.find((e) => e.kind === 'stolen-key')?.detail).toContain(env.pki.server.keyPath);
    const kx = r.evidence.filter((e) => e.kind === 'key-exchange');
    expect(kx.length).toBeGreaterThanOrEqual(2); // alice's and bob's connections
    for (const e of kx) expect(e.detail).toMatch(new RegExp(`TLSv1\\.2 ${iana}, key exchange RSA key transport, extended master secret ${ems ? 'used' : 'not used'}`));
    const conns = connections(r);
    expect(conns.length).toBeGreaterThanOrEqual(2);
    for (const c of conns) {
      expect(c.tls).toMatchObject({ outcome: 'decrypted', version: 'TLSv1.2', suite: iana, keyExchange: 'RSA', extendedMasterSecret: ems, finishedVerified: { client: true, server: true } });
    }
    expect(conns.some((c) => c.canaryRecovered?.from === 'tls')).toBe(true);
    expect(r.negotiated).toMatchObject({ protocol: 'TLSv1.2', cipher: iana, group: null });
    for (const e of r.evidence.filter((x) => x.kind === 'derived-keylog')) expect(e.detail).toMatch(/CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/);
  });

  it('over STARTTLS: finds the first TLS record after the plaintext greeting', async () => {
    const profile = profileOf({ name: 'inline-starttls-rsa', transport: 'starttls-required', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'AES256-GCM-SHA384' } });
    const r = await runAttack(attack(), profile, env.pki);
    expect(r.outcome, r.reason).toBe('succeeded');
    expect(r.evidence.find((e) => e.kind === 'canary-recovered')?.detail).toContain(r.canary);
    for (const c of connections(r)) {
      expect(c.tls?.startsAtByte.c2s).toBeGreaterThan(0);
      expect(c.tls?.startsAtByte.s2c).toBeGreaterThan(0);
      expect(c.tls?.outcome).toBe('decrypted');
    }
    expect(r.evidence.find((e) => e.kind === 'key-exchange')?.detail).toMatch(/TLS after a \d+-byte plaintext STARTTLS greeting/);
  });

  it('with an artifact folder: keeps capture.pcap and recovered.keylog (0600), and links them', async () => {
    const dir = path.join(env.tmp, 'cell');
    const profile = profileOf({ name: 'inline-rsa-art', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' } });
    const r = await runAttack(attack(), profile, env.pki, { artifactDir: dir });
    expect(r.outcome, r.reason).toBe('succeeded');
    expect(r.artifacts).toEqual({
      capture: path.join(dir, 'capture.pcap'),
      'sessions-keylog': path.join(dir, 'sessions.keylog'),
      'recovered-keylog': path.join(dir, 'recovered.keylog'),
    });
    const recovered = readFileSync(path.join(dir, 'recovered.keylog'), 'utf8').trim().split('\n');
    expect(recovered.length).toBe(connections(r).length);
    for (const l of recovered) expect(l).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/);
    expect(statSync(path.join(dir, 'recovered.keylog')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, 'sessions.keylog')).mode & 0o777).toBe(0o600);
    // The master secrets secchat derived are the ones the endpoints really used.
    const sessions = readFileSync(path.join(dir, 'sessions.keylog'), 'utf8');
    for (const l of recovered) expect(sessions).toContain(l);
    const { packets } = readPcap(readFileSync(path.join(dir, 'capture.pcap')));
    const syns = packets.filter((p) => p.flags === 0x02);
    expect(syns.length).toBe(connections(r).length);
  });
});

describe('retro-decrypt is blocked by an ephemeral key exchange, naming the group from the recording', () => {
  const cases = [
    { name: 'ECDHE TLS 1.2', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE+AESGCM' }, group: 'X25519', version: 'TLSv1.2', reason: /^ephemeral X25519: the server key only signed the handshake/ },
    { name: 'ECDHE TLS 1.2 limited to P-256', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', groups: 'P-256' }, group: 'P-256', version: 'TLSv1.2', reason: /^ephemeral P-256: the server key only signed the handshake/ },
    { name: 'TLS 1.3', tls: { minVersion: 'TLSv1.3' }, group: 'X25519', version: 'TLSv1.3', reason: /^ephemeral X25519: TLS 1.3 always uses \(EC\)DHE, and the server key only signed the handshake/ },
    { name: 'TLS 1.3 with P-256', tls: { minVersion: 'TLSv1.3', groups: 'P-256' }, group: 'P-256', version: 'TLSv1.3', reason: /^ephemeral P-256: TLS 1.3 always/ },
  ];
  it.each(cases)('$name', async ({ tls, group, version, reason }) => {
    const r = await runAttack(attack(), profileOf({ name: 'inline-ephemeral', tls }), env.pki);
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.reason).toMatch(reason);
    expect(r.summary).toBe(`ephemeral ${group}: forward secret`);
    expectNoCanaryLeak(r);
    for (const c of connections(r)) expect(c.tls).toMatchObject({ outcome: 'ephemeral', group, version });
    // The victims did talk: the canary crossed, sealed.
    expect(r.evidence.find((e) => e.kind === 'delivery')?.detail).toBe("bob received alice's message unaltered");
  });
});

describe('retro-decrypt preconditions', () => {
  it('is not applicable to a plaintext profile without a channel, saying the passive MITM reads it', async () => {
    const r = await runAttack(attack(), profileOf({ name: 'inline-plain', transport: 'plain' }), env.pki, { artifactDir: path.join(env.tmp, 'plain') });
    expect(r.outcome).toBe('not-applicable');
    expect(r.reason).toMatch(/plaintext.*mitm-passive/);
    expectNoCanaryLeak(r);
  });
});

describe('retro-decrypt against the application-layer secure channel, end to end', () => {
  const rsa12 = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' };
  it('channel rsa over plain transport: succeeded — the stolen key unwraps ch_key and opens the sealed frames', async () => {
    const r = await runAttack(attack(), profileOf({ name: 'inline-ch-rsa', transport: 'plain', channel: { keyExchange: 'rsa' } }), env.pki);
    expect(r.outcome, r.reason).toBe('succeeded');
    expect(r.reason).toMatch(/the secure channel's rsa key exchange is not forward secret/);
    expect(r.evidence.find((e) => e.kind === 'canary-recovered')?.detail).toContain(r.canary);
    expect(r.evidence.find((e) => e.kind === 'canary-recovered')?.detail).toMatch(/opened with the channel secret the stolen key unwrapped/);
    for (const c of connections(r)) expect(c.tls).toBeNull();
    expect(connections(r).some((c) => c.canaryRecovered?.from === 'channel')).toBe(true);
  });

  it.each(['ecdhe-signed', 'ecdhe'] as const)('channel %s over plain transport: blocked — ephemeral X25519', async (kx) => {
    const r = await runAttack(attack(), profileOf({ name: 'inline-ch-eph', transport: 'plain', channel: { keyExchange: kx } }), env.pki);
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.reason).toMatch(new RegExp(`^channel key exchange ${kx}: ephemeral X25519`));
    expect(r.summary).toBe(`channel ${kx}: forward secret`);
    expectNoCanaryLeak(r);
  });

  it('TLS RSA key transport around a channel ecdhe-signed: TLS opens, the channel inside does not', async () => {
    const r = await runAttack(attack(), profileOf({ name: 'inline-tls-rsa-ch-eph', tls: rsa12, channel: { keyExchange: 'ecdhe-signed' } }), env.pki);
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.reason).toMatch(/^TLS decrypted with the stolen key, but channel key exchange ecdhe-signed: ephemeral X25519/);
    for (const c of connections(r)) expect(c.tls?.outcome).toBe('decrypted');
    expectNoCanaryLeak(r);
  });

  it('TLS RSA key transport around a channel rsa: both open', async () => {
    const r = await runAttack(attack(), profileOf({ name: 'inline-tls-rsa-ch-rsa', tls: rsa12, channel: { keyExchange: 'rsa' } }), env.pki);
    expect(r.outcome, r.reason).toBe('succeeded');
    expect(r.reason).toMatch(/RSA key transport \(TLSv1\.2 TLS_RSA_WITH_AES_128_GCM_SHA256, with extended master secret\) and the secure channel's rsa key exchange inside it are not forward secret/);
    expect(r.evidence.find((e) => e.kind === 'canary-recovered')?.detail).toContain(r.canary);
  });

  it('ECDHE TLS around a channel rsa: TLS keeps it sealed, the channel is never reached', async () => {
    const r = await runAttack(attack(), profileOf({ name: 'inline-tls-eph-ch-rsa', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE+AESGCM' }, channel: { keyExchange: 'rsa' } }), env.pki);
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.reason).toMatch(/^ephemeral X25519: the server key only signed the handshake/);
    for (const c of connections(r)) expect(c.channel).toBeNull();
  });
});

describe('retro-decrypt legacy-client variant: the server, not secchat\'s client, decides (issue 14)', () => {
  it('a server that prefers ECDHE but accepts static RSA: the legacy client\'s recording decrypts, and the verdict says so', async () => {
    const profile = profileOf({ name: 'inline-legacy', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: 'ECDHE+AESGCM:AES128-GCM-SHA256' } });
    const r = await runAttack(attack(), profile, env.pki);
    expect(r.outcome, r.reason).toBe('succeeded');
    expect(r.reason).toMatch(/^legacy-client variant: the server key, stolen after the session, decrypted the recording: RSA key transport \(TLSv1\.2 TLS_RSA_WITH_AES_128_GCM_SHA256/);
    expect(r.reason).toMatch(/secchat's own client was not exposed: ephemeral X25519/);
    expect(r.data?.variant).toBe('legacy-client');
    const legacy = (r.data?.legacyClient as { connections: ConnData[] }).connections;
    expect(legacy.some((c) => c.tls?.outcome === 'decrypted' && c.tls.keyExchange === 'RSA' && c.canaryRecovered !== null)).toBe(true);
    for (const c of connections(r)) expect(c.tls?.outcome).toBe('ephemeral'); // secchat's own client stayed forward secret
    expect(r.evidence.find((e) => e.kind === 'canary-recovered')?.detail).toMatch(/^legacy-client variant: canary .* recovered/);
    expect(r.evidence.some((e) => e.kind === 'variant')).toBe(true);
  });

  it('a forward-secret server refuses the legacy client: blocked, and the reason names that refusal', async () => {
    const r = await runAttack(attack(), profileOf({ name: 'inline-fs', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' } }), env.pki);
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.reason).toMatch(/^ephemeral X25519: .*; a legacy client offering only static-RSA suites was refused by the server \(.*handshake failure\)/);
    expectNoCanaryLeak(r);
  });

  it('secchat\'s client already exposed: no legacy run', async () => {
    const r = await runAttack(attack(), profileOf({ name: 'inline-rsa-only', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' } }), env.pki);
    expect(r.outcome).toBe('succeeded');
    expect(r.data?.variant).toBe('secchat-client');
    expect(r.data?.legacyClient).toBeUndefined();
  });
});
