/**
 * server-scan and its probe (attacks/tls-scan.ts): the elimination logic with scripted answers,
 * the attack end to end against the real chat server, and interop: for every preset served over
 * TLS, the versions and suites it finds equal what sslscan (a program nobody here wrote) finds.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { execFile, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listPresets, loadProfile, parseProfile, type Profile } from '../core/profile.ts';
import { ensurePki, type PkiMaterial } from '../core/pki.ts';
import { startChatServer } from '../server/chat-server.ts';
import { enumerateSuites, probeFallbackScsvRule, scanTlsServer, scanUniverse, type HelloProbe, type ProbeAnswer, type TlsScanReport } from '../attacks/tls-scan.ts';
import { scanVerdict, serverScan } from '../attacks/plugins/server-scan.ts';
import { runAttack } from '../attacks/scenario.ts';
import { parseOpensslCipherLine, type SuiteInfo } from '../core/tls-capabilities.ts';

const suite = (id: number, name: string): SuiteInfo => parseOpensslCipherLine(`0x${(id >> 8).toString(16).padStart(2, '0')},0x${(id & 0xff).toString(16).padStart(2, '0')} - TLS_X_${name} - ${name} TLSv1.2 Kx=ECDH Au=RSA Enc=AESGCM(128) Mac=AEAD`)!;

describe('enumerateSuites: elimination with scripted server answers', () => {
  const A = suite(0xc02f, 'A');
  const B = suite(0xc030, 'B');
  const C = suite(0x009c, 'C');
  const D = suite(0x002f, 'D');

  /** A scripted server: accepts `ok` (choosing the first offered), fails with internal_error after choosing any of `breaks`. */
  function server(ok: SuiteInfo[], breaks: SuiteInfo[] = []): { probe: HelloProbe; offers: number[][] } {
    const offers: number[][] = [];
    const probe: HelloProbe = async (_v, suites) => {
      offers.push(suites);
      const pick = suites.find((id) => ok.some((s) => s.id === id) || breaks.some((s) => s.id === id));
      if (pick === undefined) return { kind: 'alert', description: 40, name: 'handshake_failure' } satisfies ProbeAnswer;
      if (breaks.some((s) => s.id === pick)) return { kind: 'alert', description: 80, name: 'internal_error' };
      return { kind: 'hello', version: 0x0303, suite: pick, helloRetryRequest: false };
    };
    return { probe, offers };
  }

  it('records each chosen suite, offers the rest again, and stops at the refusal', async () => {
    const s = server([A, C]);
    const r = await enumerateSuites(s.probe, 'TLSv1.2', [A, B, C, D]);
    expect(r.accepted.map((x) => x.openssl)).toEqual(['A', 'C']);
    expect(r.refusal).toBe('alert handshake_failure (40)');
    expect(s.offers).toEqual([[A.id, B.id, C.id, D.id], [B.id, C.id, D.id], [B.id, D.id]]);
  });

  it('a server that fails after choosing a suite does not hide the suites after it: the offer is split', async () => {
    const s = server([C, D], [A]);
    const r = await enumerateSuites(s.probe, 'TLSv1.2', [A, B, C, D]);
    expect(r.accepted.map((x) => x.openssl).sort()).toEqual(['C', 'D']);
    // Plain elimination would have stopped at the first internal_error with nothing found.
    expect(r.probes).toBeGreaterThan(2);
  });

  it('an answer with another version is a refusal of this one', async () => {
    const r = await enumerateSuites(async () => ({ kind: 'hello', version: 0x0303, suite: A.id, helloRetryRequest: false }), 'TLSv1.1', [A, B]);
    expect(r.accepted).toEqual([]);
    expect(r.refusal).toBe('answered with TLSv1.2 instead');
  });

  it('no answer is retried once, then marked inconclusive rather than refused', async () => {
    let n = 0;
    const honest = server([A]).probe;
    const flaky: HelloProbe = async (v, s) => (n++ === 0 ? { kind: 'timeout' } : honest(v, s));
    const r1 = await enumerateSuites(flaky, 'TLSv1.2', [A, B]);
    expect(r1.accepted.map((x) => x.openssl)).toEqual(['A']);
    expect(r1.inconclusive).toBe(false);
    const r2 = await enumerateSuites(async () => ({ kind: 'timeout' }), 'TLSv1.2', [A, B]);
    expect(r2).toMatchObject({ accepted: [], inconclusive: true, probes: 2 });
  });

  it('is bounded in probes', async () => {
    const r = await enumerateSuites(async () => ({ kind: 'alert', description: 80, name: 'internal_error' }), 'TLSv1.2', [A, B, C, D], 3);
    expect(r.probes).toBe(3);
  });

  it('the fallback rule is tested from the second-highest accepted version, with the SCSV', async () => {
    let seen: { v: string; scsv?: boolean } | null = null;
    const probe: HelloProbe = async (v, _s, o) => {
      seen = { v, scsv: o?.fallbackScsv };
      return { kind: 'hello', version: 0x0302, suite: A.id, helloRetryRequest: false };
    };
    const r = await probeFallbackScsvRule(probe, [
      { version: 'TLSv1.1', accepted: [A], refusal: '', inconclusive: false, probes: 1 },
      { version: 'TLSv1.2', accepted: [A], refusal: '', inconclusive: false, probes: 1 },
    ]);
    expect(seen).toEqual({ v: 'TLSv1.1', scsv: true });
    expect(r).toMatchObject({ tested: true, enforced: false });
    expect((await probeFallbackScsvRule(probe, [{ version: 'TLSv1.2', accepted: [A], refusal: '', inconclusive: false, probes: 1 }])).tested).toBe(false);
  });
});

describe('scanVerdict: measured, never a false "blocked"', () => {
  const line = (s: string) => parseOpensslCipherLine(s)!;
  const GCM = line('0xC0,0x2F - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 - ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 Kx=ECDH Au=RSA Enc=AESGCM(128) Mac=AEAD');
  const T13 = line('0x13,0x01 - TLS_AES_128_GCM_SHA256 - TLS_AES_128_GCM_SHA256 TLSv1.3 Kx=any Au=any Enc=AESGCM(128) Mac=AEAD');
  const refused = (version: 'SSLv3' | 'TLSv1' | 'TLSv1.1') => ({ version, accepted: [], refusal: 'alert protocol_version (70)', inconclusive: false, probes: 1 });
  const report = (over: Partial<TlsScanReport> = {}): TlsScanReport => ({
    versions: [refused('SSLv3'), refused('TLSv1'), refused('TLSv1.1'), { version: 'TLSv1.2', accepted: [GCM], refusal: 'alert handshake_failure (40)', inconclusive: false, probes: 2 }, { version: 'TLSv1.3', accepted: [T13], refusal: 'alert handshake_failure (40)', inconclusive: false, probes: 2 }],
    fallbackScsv: { tested: true, enforced: true, detail: 'refused' },
    probes: 8,
    durationMs: 5,
    ...over,
  });

  it('blocked only when every answer was a refusal', () => {
    expect(scanVerdict(report()).outcome).toBe('blocked');
  });

  it('a version that went unanswered makes it an error, not blocked', () => {
    const r = report();
    r.versions[1] = { ...r.versions[1]!, refusal: 'no answer (timeout)', inconclusive: true };
    expect(scanVerdict(r)).toMatchObject({ outcome: 'error', summary: 'scan incomplete: no answer' });
  });

  it('an unclear fallback answer makes it an error; an accepted marked fallback makes it succeed', () => {
    expect(scanVerdict(report({ fallbackScsv: { tested: true, enforced: null, detail: 'no answer' } })).outcome).toBe('error');
    const v = scanVerdict(report({ fallbackScsv: { tested: true, enforced: false, detail: 'accepted' } }));
    expect(v).toMatchObject({ outcome: 'succeeded', impact: ['integrity'] });
    expect(v.reason).toMatch(/no fallback protection/);
  });

  it('nothing accepted at all is an error (nothing measured)', () => {
    expect(scanVerdict(report({ versions: [refused('TLSv1')] })).outcome).toBe('error');
  });
});

let pki: PkiMaterial;
beforeAll(async () => {
  pki = await ensurePki(mkdtempSync(path.join(os.tmpdir(), 'secchat-scan-pki-')));
});

describe('server-scan against the real chat server', () => {
  it('tls-verified: blocked, naming the refused versions and accepting only forward-secret AEAD suites', async () => {
    const r = await runAttack(serverScan, loadProfile('tls-verified'), pki);
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.reason).toMatch(/refused SSLv3 .*TLSv1 \(alert protocol_version \(70\)\), TLSv1\.1 \(alert protocol_version/);
    expect(r.reason).toMatch(/inappropriate_fallback/);
    expect(r.evidence.find((e) => e.kind === 'accepted-suites' && e.detail.startsWith('TLSv1.2'))?.detail).toMatch(/ECDHE-RSA-AES128-GCM-SHA256 \(forward secret, AEAD\)/);
  });

  it('tls12-rsa-kx: succeeded — the accepted static-RSA suites, each with the property it gives up', async () => {
    const r = await runAttack(serverScan, loadProfile('tls12-rsa-kx'), pki);
    expect(r.outcome, r.reason).toBe('succeeded');
    expect(r.reason).toMatch(/no forward secrecy: AES128-GCM-SHA256 on TLSv1\.2, AES256-GCM-SHA384 on TLSv1\.2/);
    expect(r.impact).toEqual(['confidentiality']);
  });

  it('legacy-tls10: succeeded — deprecated versions and CBC suites', async () => {
    const r = await runAttack(serverScan, loadProfile('legacy-tls10'), pki);
    expect(r.outcome).toBe('succeeded');
    expect(r.reason).toMatch(/deprecated version: .*on TLSv1/);
    expect(r.reason).toMatch(/not AEAD: /);
    expect(r.reason).toMatch(/no forward secrecy: AES128-SHA on TLSv1/);
  });

  it('starttls-required: scanned after the STARTTLS upgrade', async () => {
    const r = await runAttack(serverScan, loadProfile('starttls-required'), pki);
    expect(r.outcome, r.reason).toBe('blocked');
    expect(r.evidence.some((e) => e.kind === 'accepted-suites' && /TLSv1\.3: .*TLS_AES_256_GCM_SHA384/.test(e.detail))).toBe(true);
  });

  it('plaintext: not applicable, saying why', async () => {
    const r = await runAttack(serverScan, loadProfile('plaintext'), pki);
    expect(r.outcome).toBe('not-applicable');
    expect(r.reason).toMatch(/speaks no TLS/);
  });
});

const hasSslscan = spawnSync('sslscan', ['--version'], { stdio: 'ignore' }).status === 0;
const SSLSCAN_VERSION: Record<string, string> = { 'SSLv3': 'SSLv3', 'TLSv1.0': 'TLSv1', 'TLSv1.1': 'TLSv1.1', 'TLSv1.2': 'TLSv1.2', 'TLSv1.3': 'TLSv1.3' };

/** sslscan's accepted suites per version (wire ids), from its XML output. */
function sslscan(port: number): Promise<Map<string, Set<number>>> {
  return new Promise((resolve, reject) => {
    execFile('sslscan', ['--no-colour', '--no-heartbleed', '--no-renegotiation', '--no-compression', '--no-check-certificate', '--xml=-', `127.0.0.1:${port}`], { timeout: 60_000 }, (err, stdout) => {
      if (err) return reject(err);
      const out = new Map<string, Set<number>>();
      for (const m of stdout.matchAll(/<cipher status="[a-z]+" sslversion="([^"]+)"[^>]* id="0x([0-9A-Fa-f]+)"/g)) {
        const v = SSLSCAN_VERSION[m[1]!] ?? m[1]!;
        if (!out.has(v)) out.set(v, new Set());
        out.get(v)!.add(parseInt(m[2]!, 16));
      }
      resolve(out);
    });
  });
}

function ours(r: TlsScanReport): Map<string, Set<number>> {
  return new Map(r.versions.filter((v) => v.accepted.length).map((v) => [v.version, new Set(v.accepted.map((s) => s.id))]));
}

async function scanBoth(p: Profile): Promise<{ mine: Map<string, Set<number>>; theirs: Map<string, Set<number>> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-scan-'));
  const server = await startChatServer({ profile: p, identity: pki.server, dbPath: path.join(dir, 'users.db'), port: 0 });
  try {
    const mine = ours(await scanTlsServer({ host: '127.0.0.1', port: server.port }));
    const theirs = await sslscan(server.port);
    return { mine, theirs };
  } finally {
    await server.close();
  }
}

const sorted = (m: Map<string, Set<number>>) => Object.fromEntries([...m.entries()].sort().map(([v, s]) => [v, [...s].sort((a, b) => a - b).map((x) => '0x' + x.toString(16))]));

describe.skipIf(!hasSslscan && !process.env.CI)('interop: server-scan agrees with sslscan (Debian package sslscan)', () => {
  const tlsPresets = listPresets().filter((n) => loadProfile(n).transport === 'tls');
  it.each(tlsPresets)('%s: the same versions and suites', async (name) => {
    const { mine, theirs } = await scanBoth(loadProfile(name));
    expect(sorted(mine)).toEqual(sorted(theirs));
    expect(mine.size).toBeGreaterThan(0);
  }, 120_000);

  it('sslscan sees only forward-secret AEAD suites, TLS 1.2 and 1.3 only, on tls-verified and on a profile with no tls: section', async () => {
    const byId = new Map(scanUniverse().map((s) => [s.id, s]));
    for (const p of [loadProfile('tls-verified'), parseProfile('name: bare\n')]) {
      const { theirs } = await scanBoth(p);
      expect([...theirs.keys()].sort()).toEqual(['TLSv1.2', 'TLSv1.3']);
      for (const [v, ids] of theirs) for (const id of ids) expect({ v, suite: byId.get(id)?.openssl, fs: byId.get(id)?.forwardSecret, aead: byId.get(id)?.aead }).toEqual({ v, suite: byId.get(id)?.openssl, fs: true, aead: true });
    }
  }, 120_000);
});

/** A free loopback port (bind to 0, read it, release it). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('interop: scanning a server nobody here wrote (openssl s_server)', () => {
  it('finds exactly the suites and the version s_server was told to accept', async () => {
    const port = await freePort();
    const srv = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', pki.server.certPath, '-key', pki.server.keyPath, '-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA:AES256-GCM-SHA384', '-naccept', '100', '-quiet'], { stdio: 'ignore' });
    try {
      // Bounded wait for the listener: 50 tries, 100 ms apart.
      for (let i = 0; i < 50; i++) {
        const up = await new Promise<boolean>((r) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false)));
        if (up) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const r = await scanTlsServer({ host: '127.0.0.1', port });
      expect(sorted(ours(r))).toEqual({ 'TLSv1.2': ['0x9d', '0xc013'] });
      expect(r.fallbackScsv.tested).toBe(false);
    } finally {
      srv.kill();
    }
  }, 60_000);
});
