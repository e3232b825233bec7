/**
 * The lab properties (labs/properties.ts) measured from scripted inputs — each measure's verdict
 * flips with the one observation it reads — and the scanner-style probe (labs/server-probe.ts)
 * against a real chat server over loopback, cross-checked with `openssl s_client`, a program
 * nobody here wrote.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initPki, loadPki, type PkiMaterial } from '../core/pki.ts';
import { parseProfile } from '../core/profile.ts';
import type { NegotiatedTls } from '../core/tls/node-options.ts';
import { measure, probeQuestionsFor, suiteIsAead, suiteIsEphemeral, type MeasureInput } from '../labs/properties.ts';
import { COSTLY_GROUPS, probeServer, type ProbeAnswer, type ServerAcceptance } from '../labs/server-probe.ts';
import { startChatServer, type ChatServer } from '../server/chat-server.ts';

const tls = (protocol: string, cipher: string, group: string | null = 'X25519'): NegotiatedTls => ({ protocol, cipher, group });
const answer = (accepted: boolean, extra: Partial<ProbeAnswer> = {}): ProbeAnswer => ({ accepted, protocol: accepted ? 'TLSv1.2' : null, suite: accepted ? 'AES128-GCM-SHA256' : null, kxGroup: null, refusal: accepted ? null : 'handshake failure', ...extra });
const probe = (p: Partial<ServerAcceptance>): ServerAcceptance => ({ tls: true, versions: [], staticRsa: null, groups: [], ...p });
const ctl = (t: NegotiatedTls | null, channel: MeasureInput['control'] extends infer C ? (C extends { channel: infer X } ? X : never) : never = null): MeasureInput['control'] => ({ tls: t, channel });
const channel = (keyExchange: 'none' | 'rsa' | 'ecdhe' | 'ecdhe-signed', cipher: string, replayProtection: 'none' | 'sequence' | 'window' = 'sequence') =>
  ({ keyExchange, cipher, transcriptMac: true, replayProtection, warnings: [] }) as never;
const TLS13 = tls('TLSv1.3', 'TLS_AES_256_GCM_SHA384');
const versions = (old: boolean) => (['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const).map((version) => ({ version, ...answer(version === 'TLSv1.2' || version === 'TLSv1.3' || old) }));

describe('measures', () => {
  it('a chat that never connected measures nothing, and says so in one sentence (it read "negotiated the chat never connected: its messages crossed the network unencrypted")', () => {
    for (const m of ['encrypted', 'authenticated-records', 'replay-protected', 'forward-secrecy', 'tls-1.2-or-newer'] as const) {
      expect(measure(m, { control: null, probe: null })).toEqual({ measure: m, holds: false, evidence: 'the chat with no attacker never connected, so the property could not be measured' });
    }
  });

  it('encrypted: a NULL suite or a null channel cipher is not encryption', () => {
    expect(measure('encrypted', { control: ctl(TLS13), probe: null }).holds).toBe(true);
    expect(measure('encrypted', { control: ctl(tls('TLSv1.2', 'TLS_RSA_WITH_NULL_SHA256', null)), probe: null }).holds).toBe(false);
    expect(measure('encrypted', { control: ctl(null, channel('ecdhe-signed', 'null')), probe: null }).holds).toBe(false);
    expect(measure('encrypted', { control: ctl(null, channel('ecdhe-signed', 'aes-256-gcm')), probe: null }).holds).toBe(true);
    expect(measure('encrypted', { control: ctl(null, null), probe: null }).evidence).toMatch(/unencrypted/);
  });

  it('authenticated-records: unauthenticated CBC and unsigned key exchanges fail', () => {
    expect(measure('authenticated-records', { control: ctl(null, channel('ecdhe-signed', 'aes-128-cbc')), probe: null }).holds).toBe(false);
    expect(measure('authenticated-records', { control: ctl(null, channel('ecdhe', 'aes-256-gcm')), probe: null }).evidence).toMatch(/unsigned/);
    expect(measure('authenticated-records', { control: ctl(null, channel('ecdhe-signed', 'chacha20-poly1305')), probe: null }).holds).toBe(true);
    expect(measure('authenticated-records', { control: ctl(tls('TLSv1.2', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA')), probe: null }).holds).toBe(false);
  });

  it('replay-protected: a channel without numbers fails, TLS records are numbered', () => {
    expect(measure('replay-protected', { control: ctl(null, channel('ecdhe-signed', 'aes-256-gcm', 'none')), probe: null }).holds).toBe(false);
    expect(measure('replay-protected', { control: ctl(null, channel('ecdhe-signed', 'aes-256-gcm', 'sequence')), probe: null }).holds).toBe(true);
    expect(measure('replay-protected', { control: ctl(TLS13), probe: null }).holds).toBe(true);
    expect(measure('replay-protected', { control: ctl(null, null), probe: null }).holds).toBe(false);
  });

  it('forward-secrecy: the chat\'s own key exchange AND what the server accepts', () => {
    const ecdhe = ctl(tls('TLSv1.2', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'));
    expect(measure('forward-secrecy', { control: ctl(tls('TLSv1.2', 'TLS_RSA_WITH_AES_128_GCM_SHA256', null)), probe: probe({ staticRsa: answer(false) }) }).holds).toBe(false);
    expect(measure('forward-secrecy', { control: ecdhe, probe: probe({ staticRsa: answer(true) }) }).evidence).toMatch(/still accepts static RSA key exchange \(TLSv1.2 AES128-GCM-SHA256\)/);
    expect(measure('forward-secrecy', { control: ecdhe, probe: probe({ staticRsa: answer(false) }) }).holds).toBe(true);
    expect(measure('forward-secrecy', { control: ecdhe, probe: null }).holds).toBe(false); // never assumed
    expect(measure('forward-secrecy', { control: ctl(null, channel('rsa', 'aes-256-gcm')), probe: probe({ tls: false }) }).holds).toBe(false);
    expect(measure('forward-secrecy', { control: ctl(null, channel('ecdhe-signed', 'aes-256-gcm')), probe: probe({ tls: false }) }).holds).toBe(true);
  });

  it('tls-1.2-or-newer: the chat\'s version AND every older version the server still accepts', () => {
    expect(measure('tls-1.2-or-newer', { control: ctl(tls('TLSv1', 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA')), probe: probe({ versions: versions(false) }) }).holds).toBe(false);
    const r = measure('tls-1.2-or-newer', { control: ctl(TLS13), probe: probe({ versions: versions(true) }) });
    expect(r.holds).toBe(false);
    expect(r.evidence).toMatch(/still completes handshakes with TLSv1 .* and TLSv1\.1/);
    expect(measure('tls-1.2-or-newer', { control: ctl(TLS13), probe: probe({ versions: versions(false) }) }).holds).toBe(true);
    expect(measure('tls-1.2-or-newer', { control: ctl(TLS13), probe: probe({}) }).holds).toBe(false);
    expect(measure('tls-1.2-or-newer', { control: ctl(null, channel('ecdhe-signed', 'aes-256-gcm')), probe: probe({ versions: versions(false) }) }).holds).toBe(false);
  });

  it('affordable-groups: a costly group the server accepts, or the chat\'s own, fails', () => {
    const groups = (accepted: string[]) => COSTLY_GROUPS.map((offered) => ({ offered, ...answer(accepted.includes(offered)) }));
    expect(measure('affordable-groups', { control: ctl(TLS13), probe: probe({ groups: groups(['ffdhe8192']) }) }).evidence).toMatch(/still accepts ffdhe8192/);
    expect(measure('affordable-groups', { control: ctl(tls('TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'DH-8192')), probe: probe({ groups: groups([]) }) }).holds).toBe(false);
    expect(measure('affordable-groups', { control: ctl(TLS13), probe: probe({ groups: groups([]) }) }).holds).toBe(true);
    expect(measure('affordable-groups', { control: ctl(TLS13), probe: probe({}) }).holds).toBe(false);
  });

  it('suite classification follows the IANA names', () => {
    expect(suiteIsAead('TLS_AES_128_GCM_SHA256', 'TLSv1.3')).toBe(true);
    expect(suiteIsAead('TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'TLSv1')).toBe(false);
    expect(suiteIsEphemeral('TLS_RSA_WITH_AES_128_GCM_SHA256', 'TLSv1.2')).toBe(false);
    expect(suiteIsEphemeral('TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'TLSv1.2')).toBe(true);
    expect(probeQuestionsFor(['tls-1.2-or-newer', 'affordable-groups', 'encrypted'])).toEqual({ versions: true, groups: [...COSTLY_GROUPS] });
  });
});

describe('server probe against a real chat server, cross-checked with openssl s_client', () => {
  let tmp: string;
  let pki: PkiMaterial;
  const servers: ChatServer[] = [];
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-probe-'));
    await initPki({ dir: path.join(tmp, 'pki') });
    pki = loadPki(path.join(tmp, 'pki'));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(tmp, { recursive: true, force: true });
  });
  const start = async (yaml: string) => {
    const profile = parseProfile(yaml, 'probe test');
    const s = await startChatServer({ profile, identity: pki.server, dbPath: path.join(tmp, `${servers.length}.db`) });
    servers.push(s);
    return { s, profile };
  };
  /**
   * `openssl s_client` with the given flags: did the handshake complete, and with which cipher.
   * Asynchronous: the server under test runs on this process's event loop.
   */
  const sClient = (port: number, flags: string[]): Promise<{ accepted: boolean; cipher: string; out: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...flags], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const timer = setTimeout(() => child.kill(), 15_000);
      child.on('error', reject);
      child.on('close', () => {
        clearTimeout(timer);
        const cipher = /Cipher is (\S+)/.exec(out)?.[1] ?? '(NONE)';
        resolve({ accepted: cipher !== '(NONE)', cipher, out });
      });
      child.stdin.end(); // EOF: s_client closes once the handshake is done
    });

  it('finds TLS 1.0, static RSA and ffdhe8192 where the server accepts them, as s_client does', async () => {
    const { s, profile } = await start('name: weak\ntransport: tls\ntls: {minVersion: TLSv1, maxVersion: TLSv1.3, groups: "X25519:ffdhe8192", ciphers: "ECDHE-RSA-AES128-SHA:AES128-GCM-SHA256"}\n');
    const r = await probeServer({ host: '127.0.0.1', port: s.port, transport: profile.transport }, { versions: true, staticRsa: true, groups: ['ffdhe8192', 'ffdhe4096'] });
    expect(r.versions.find((v) => v.version === 'TLSv1')?.accepted).toBe(true);
    expect((await sClient(s.port, ['-tls1', '-cipher', 'ALL:@SECLEVEL=0'])).accepted).toBe(true);
    expect(r.staticRsa).toMatchObject({ accepted: true, suite: 'AES128-GCM-SHA256' });
    expect((await sClient(s.port, ['-tls1_2', '-cipher', 'kRSA:@SECLEVEL=0'])).cipher).toBe('AES128-GCM-SHA256');
    expect(r.groups.find((g) => g.offered === 'ffdhe8192')).toMatchObject({ accepted: true, kxGroup: 'DH-8192' });
    expect((await sClient(s.port, ['-tls1_3', '-groups', 'ffdhe8192'])).accepted).toBe(true);
    // A group outside the server's list: both see the refusal.
    expect(r.groups.find((g) => g.offered === 'ffdhe4096')?.accepted).toBe(false);
    expect((await sClient(s.port, ['-tls1_3', '-groups', 'ffdhe4096'])).accepted).toBe(false);
  }, 60_000);

  it('finds none of them where the server refuses them, as s_client does; STARTTLS is probed after the upgrade', async () => {
    for (const transport of ['tls', 'starttls-required'] as const) {
      const { s, profile } = await start(`name: strong\ntransport: ${transport}\ntls: {minVersion: TLSv1.2, maxVersion: TLSv1.3, groups: "X25519:P-256", ciphers: "ECDHE+AESGCM"}\n`);
      const r = await probeServer({ host: '127.0.0.1', port: s.port, transport: profile.transport }, { versions: true, staticRsa: true, groups: ['ffdhe8192'] });
      expect(r.versions.map((v) => [v.version, v.accepted])).toEqual([['TLSv1', false], ['TLSv1.1', false], ['TLSv1.2', true], ['TLSv1.3', true]]);
      expect(r.versions[0].refusal).toMatch(/protocol version/);
      expect(r.staticRsa?.accepted).toBe(false);
      expect(r.groups[0].accepted).toBe(false);
      if (transport === 'tls') {
        expect((await sClient(s.port, ['-tls1', '-cipher', 'ALL:@SECLEVEL=0'])).accepted).toBe(false);
        expect((await sClient(s.port, ['-tls1_2', '-cipher', 'kRSA:@SECLEVEL=0'])).accepted).toBe(false);
        expect((await sClient(s.port, ['-tls1_3', '-groups', 'ffdhe8192'])).accepted).toBe(false);
      }
    }
  }, 60_000);

  it('reports a plain server as having no TLS to probe', async () => {
    expect(await probeServer({ host: '127.0.0.1', port: 1, transport: 'plain' }, { versions: true })).toEqual({ tls: false, versions: [], staticRsa: null, groups: [] });
  });
});
