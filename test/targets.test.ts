/**
 * Targets — a student's own app attacked with secchat's engine: the target schema, the process
 * runner, the matrix over the two Python fixtures (each cell and its reason asserted against the
 * mistakes each fixture was written with), the server probe against sslscan (interop), and the
 * certificate gallery against secchat's own client.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientTrustExtendable, fillCommand, loadTarget, splitCommand, targetWarnings, validateTarget } from '../core/target.ts';
import { ERROR_CODES, exitCodeFor } from '../core/errors.ts';
import { ensurePki, type PkiMaterial } from '../core/pki.ts';
import { GALLERY_DEFECTS, GALLERY_ENTRIES, loadGallery } from '../core/pki-gallery.ts';
import { loadProfile } from '../core/profile.ts';
import { main } from '../cli/main.ts';
import { TargetProcess } from '../attacks/targets/processes.ts';
import { startTargetServer } from '../attacks/targets/scenario.ts';
import { PROBE_VERSIONS, probeServer } from '../attacks/targets/server-probe.ts';
import { getAttack } from '../attacks/registry.ts';
import { runAttack } from '../attacks/scenario.ts';
import type { MatrixResults } from '../reports/results.ts';
import type { GalleryCertResult } from '../attacks/kit/gallery-verdict.ts';
import { HAVE_PYTHON, describeWithPython } from './helpers/python.ts';

const FIXTURES = path.resolve('test/fixtures');
const NAIVE = path.join(FIXTURES, 'naive.yaml');
const CAREFUL = path.join(FIXTURES, 'careful.yaml');
const HAVE_SSLSCAN = spawnSync('sslscan', ['--version']).status === 0;
// CI installs both (.ci/run); a laptop without them skips loudly rather than silently.
const needsPython = describeWithPython;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), interactive: false } };
}

describe('target description (core/target.ts)', () => {
  const dir = FIXTURES;
  const ok = { name: 't', server: { command: 'python3 s.py --port {port}' }, client: { command: 'python3 c.py --port {port}', send: '{canary}\n' } };

  it('says when a run can add roots to what the client trusts (the premise CA bundle), and warns when not', () => {
    expect(clientTrustExtendable(loadTarget(CAREFUL))).toBe(true);
    expect(clientTrustExtendable(loadTarget(NAIVE))).toBe(false); // no {ca} in its command
    const noCa = validateTarget(ok, 'inline', dir);
    expect(clientTrustExtendable(noCa)).toBe(false);
    expect(targetWarnings(noCa).join('\n')).toMatch(/client\.command does not load its CA file through \{ca\}/);
    expect(targetWarnings(loadTarget(CAREFUL)).join('\n')).not.toMatch(/\{ca\}/);
  });

  it('loads the fixtures with paths resolved against the file', () => {
    const t = loadTarget(CAREFUL);
    expect(t.name).toBe('careful');
    expect(t.client.ca).toBe(path.join(FIXTURES, 'targets/pki/ca.crt'));
    expect(t.server.transport).toBe('tls');
    expect(t.observer?.send).toBe('bob\n');
  });

  it('refuses unknown keys, naming the field and the allowed keys', () => {
    expect(() => validateTarget({ ...ok, server: { ...ok.server, bogus: 1 } }, 'x.yaml', dir)).toThrow(/server\.bogus: unknown key \(allowed: command, ready, certificate, privateKey, transport, starttls\)/);
    expect(() => validateTarget({ ...ok, extra: 1 }, 'x.yaml', dir)).toThrow(/extra: unknown key/);
  });

  it('names every bad field at once: missing {port}, unknown placeholder, missing {canary}, bad transport', () => {
    let msg = '';
    try {
      validateTarget({ name: 't', server: { command: 'python3 s.py', transport: 'quic' }, client: { command: 'c {port} {what}', send: 'hi' } }, 'x.yaml', dir);
    } catch (e) {
      msg = (e as Error).message;
      expect(exitCodeFor(e)).toBe(2);
      expect((e as { code: string }).code).toBe(ERROR_CODES.TARGET_INVALID);
    }
    expect(msg).toMatch(/server\.command: must contain \{port\}/);
    expect(msg).toMatch(/server\.transport: .*tls.*plain.*starttls/);
    expect(msg).toMatch(/client\.command: unknown placeholder \{what\}; allowed: \{port\}, \{host\}, \{ca\}, \{name\}/);
    expect(msg).toMatch(/client\.send: must contain \{canary\}/);
  });

  it('checks cross-field rules: starttls needs its line, {ca} needs client.ca, files must exist', () => {
    expect(() => validateTarget({ ...ok, server: { ...ok.server, transport: 'starttls' } }, 'x', dir)).toThrow(/server\.starttls: required with transport: starttls/);
    expect(() => validateTarget({ ...ok, server: { ...ok.server, starttls: 'STARTTLS\n' } }, 'x', dir)).toThrow(/server\.starttls: only with transport: starttls/);
    expect(() => validateTarget({ ...ok, client: { ...ok.client, command: 'c {port} --ca {ca}' } }, 'x', dir)).toThrow(/client\.ca: required when client\.command uses \{ca\}/);
    expect(() => validateTarget({ ...ok, server: { ...ok.server, certificate: 'nope.crt' } }, 'x', dir)).toThrow(/server\.certificate: no such file/);
  });

  it('splits commands without a shell and fills placeholders word by word', () => {
    expect(splitCommand(`python3 "my app.py" --name 'a b' x`)).toEqual(['python3', 'my app.py', '--name', 'a b', 'x']);
    expect(() => splitCommand('python3 "oops')).toThrow(/unclosed " quote/);
    expect(fillCommand('c --port {port} --host {host} ; rm -rf {x}', { port: 5, host: '127.0.0.1' })).toEqual(['c', '--port', '5', '--host', '127.0.0.1', ';', 'rm', '-rf', '{x}']);
  });

  it('`secchat target check` exits 2 naming the field; --help works', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-target-test-'));
    try {
      const bad = path.join(tmp, 'bad.yaml');
      writeFileSync(bad, 'name: x\nserver: {command: "s {port}", colour: red}\nclient: {command: "c {port}", send: "{canary}"}\n');
      const o = io();
      expect(await main(['node', 'secchat', 'target', 'check', '--no-run', bad], o.io)).toBe(2);
      expect(o.err.join('')).toMatch(/server\.colour: unknown key/);
      const h = io();
      expect(await main(['node', 'secchat', 'target', 'check', '--help'], h.io)).toBe(0);
      expect(h.out.join('')).toMatch(/--no-run/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('target processes', () => {
  it('stops the whole process group, children included, within the grace period', async () => {
    const p = TargetProcess.start('server', ['sh', '-c', 'sleep 30 & echo child $!; wait'], os.tmpdir());
    expect(await p.waitFor((o) => /child \d+/.test(o), 3000)).toBe(true);
    const child = Number(/child (\d+)/.exec(p.output)![1]);
    await p.stop(300);
    expect(p.exit).not.toBeNull();
    await new Promise((r) => setTimeout(r, 100));
    // Gone, or a zombie waiting for a reaper (a container's PID 1 may never reap it): not running.
    const stat = existsSync(`/proc/${child}/stat`) ? readFileSync(`/proc/${child}/stat`, 'utf8') : '';
    expect(stat === '' || / Z /.test(stat), stat).toBe(true);
  });
});

needsPython('secchat matrix --targets naive.yaml careful.yaml (the fixtures\' mistakes, cell by cell)', () => {
  let results: MatrixResults;
  let tmp: string;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-target-matrix-'));
    const o = io();
    const code = await main(['node', 'secchat', 'matrix', '--targets', NAIVE, CAREFUL, '--out', tmp, '--pki', path.join(tmp, 'pki'), '--concurrency', '3'], o.io);
    expect(code, o.err.join('')).toBe(0);
    results = JSON.parse(readFileSync(path.join(tmp, 'results.json'), 'utf8'));
  }, 240_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const cell = (row: string, attack: string) => {
    const c = results.cells.find((x) => x.profile === row && x.attack === attack);
    expect(c, `${row} × ${attack}`).toBeDefined();
    return c!;
  };
  const expectCell = (row: string, attack: string, outcome: string, reason: RegExp) => {
    const c = cell(row, attack);
    expect(`${c.outcome}: ${c.reason}`).toMatch(new RegExp(`^${outcome}: `));
    expect(c.reason).toMatch(reason);
    return c;
  };

  it('lists both targets as rows with their description, and the target-only columns', () => {
    expect(results.profiles).toEqual([]);
    expect(results.targets!.map((t) => t.name)).toEqual(['naive', 'careful']);
    expect(results.attacks.map((a) => a.id)).toEqual(expect.arrayContaining(['mitm-passive', 'mitm-gallery', 'server-scan', 'retro-decrypt', 'downgrade-starttls', 'robustness-long-line', 'robustness-stalled-reader', 'robustness-slowloris']));
    expect(readFileSync(path.join(tmp, 'report.md'), 'utf8')).toMatch(/## Target `naive` \(your own app\)/);
    expect(readFileSync(path.join(tmp, 'report.html'), 'utf8')).toMatch(/Target <code>careful<\/code>/);
  });

  it('naive: CERT_NONE lets every forged certificate through, and the attacker reads the canary', () => {
    expectCell('naive', 'mitm-passive', 'blocked', /only encrypted bytes/);
    for (const a of ['mitm-self-signed', 'mitm-wrong-host', 'mitm-rogue-ca']) {
      const c = expectCell('naive', a, 'succeeded', /read the canary inside the TLS session it terminated: the client accepted the attacker's certificate/);
      expect(c.evidence.some((e) => e.kind === 'canary-recovered' && e.detail.includes(c.canary))).toBe(true);
    }
    // CERT_NONE needs no rogue root: a plain failure of the app, not a success "only under a premise".
    expect(cell('naive', 'mitm-rogue-ca').premiseUsed).toBe(false);
    expect(cell('naive', 'mitm-rogue-ca').evidence.some((e) => e.kind === 'premise' && /^not needed: /.test(e.detail))).toBe(true);
    expectCell('naive', 'mitm-gallery', 'succeeded', /accepted 9 of 9 defective certificates/);
  });

  it('naive: inside the terminated TLS the attacker replays and alters, and the other client sees it', () => {
    expectCell('naive', 'replay', 'succeeded', /self-signed certificate the client accepted .* delivered the canary [2-9] times/);
    expectCell('naive', 'tamper', 'succeeded', /received the ALTERED canary/);
  });

  it('naive: RSA key transport and TLS 1.0 — the stolen key decrypts the recording, the scan names both', () => {
    expectCell('naive', 'retro-decrypt', 'succeeded', /RSA key transport .* is not forward secret/);
    const s = expectCell('naive', 'server-scan', 'succeeded', /deprecated TLSv1 and TLSv1\.1.*without forward secrecy \(static RSA key exchange\): AES256-SHA.*non-AEAD \(CBC\)/);
    expect(s.evidence.find((e) => e.kind === 'accepted-TLSv1.3')?.detail).toBe('refused');
  });

  it('careful: verification with the CA and the hostname refuses each forged certificate, naming why', () => {
    expectCell('careful', 'mitm-passive', 'blocked', /only encrypted bytes/);
    expectCell('careful', 'mitm-self-signed', 'blocked', /TLS alert unknown_ca.*self-signed certificate/);
    expectCell('careful', 'mitm-wrong-host', 'blocked', /^premise: .*TLS alert bad_certificate.*Hostname mismatch/);
    // No pin: with the rogue root trusted (the premise), even the careful client is read.
    expectCell('careful', 'mitm-rogue-ca', 'succeeded', /^premise: the victim was made to trust the attacker's rogue root/);
    expect(cell('careful', 'mitm-rogue-ca').premiseUsed).toBe(true);
    const g = expectCell('careful', 'mitm-gallery', 'blocked', /^premise: .*refused all 9 defective certificates/);
    const gallery = (g.data as { gallery: GalleryCertResult[] }).gallery;
    expect(gallery.map((x) => x.outcome)).toEqual(GALLERY_ENTRIES.map(() => 'blocked'));
    expect(gallery.find((x) => x.entry === 'expired')!.reason).toMatch(/certificate has expired/);
    expect(gallery.find((x) => x.entry === 'cn-only')!.reason).toMatch(/Hostname mismatch/);
  });

  it('careful: outside TLS, a replayed or altered record is refused by the server; ECDHE keeps the recording sealed', () => {
    expectCell('careful', 'replay', 'blocked', /refused a self-signed certificate .* the server refused the replayed record: .*BAD_RECORD_MAC/);
    expectCell('careful', 'tamper', 'blocked', /the server refused the altered record: .*BAD_RECORD_MAC/);
    expectCell('careful', 'retro-decrypt', 'blocked', /ephemeral X25519/);
    expectCell('careful', 'server-scan', 'blocked', /accepts only TLSv1\.2, TLSv1\.3 with forward-secret AEAD suites/);
  });

  it('robustness: recv(4096) as one message glues and cuts lines; line framing delivers every one', () => {
    const n = expectCell('naive', 'robustness', 'succeeded', /does not frame the stream into lines: three lines in one segment → [0-2]\/3 delivered as sent.*one line cut in two writes 150 ms apart → 0\/1/);
    expect((n.data as { probes: Array<{ sent: number; own: number }> }).probes.some((p) => p.own < p.sent)).toBe(true);
    expectCell('careful', 'robustness', 'blocked', /every line arrived as its own message \(three lines in one segment: 3\/3; one line cut in two writes 150 ms apart: 1\/1; 10 clients × 3 lines at once: 30\/30\)/);
  });

  it('robustness-long-line: naive relays every recv() of an unfinished 5 MiB line; careful cuts the sender off at its line limit', () => {
    const n = expectCell('naive', 'robustness-long-line', 'succeeded', /^a 5 MiB line without a newline: it relayed \d+ bytes \([\d.]+ MiB\) of a line that never ended to another client, as if they were messages/);
    // recv(4096) broadcast as one message: every byte that arrives goes out again (megabytes of it).
    expect((n.data as { relayedBytes: number }).relayedBytes).toBeGreaterThan(1024 * 1024);
    expect(n.impact).toContain('integrity');
    const c = expectCell('careful', 'robustness-long-line', 'blocked', /the server closed the sender's connection \(\w+\) after it had written [\d.]+ MiB of the 5\.0 MiB line; none of it reached another client, the server's peak memory grew by [\d.]+ MiB, and a normal line afterwards arrived in \d+ ms/);
    expect(c.data).toMatchObject({ relayedBytes: 0, senderClosed: true, deliveredAfter: true, serverExited: false });
    // MAX_LINE_BYTES (64 KiB) bounds the buffer: nowhere near the 4 MiB that counts as "buffered the line".
    expect((c.data as { peakMemoryGrowthBytes: number }).peakMemoryGrowthBytes).toBeLessThan(4 * 1024 * 1024);
    expect(c.evidence.find((e) => e.kind === 'server')?.detail).toMatch(/line too long/);
  });

  it('robustness-stalled-reader: naive freezes the sender whose broadcast hit the stalled client; careful cuts the staller off', () => {
    // naive's broadcast runs a blocking sendall in the sender's thread: once the stalled client's
    // buffers are full, that thread never reads its client again.
    const n = expectCell('naive', 'robustness-stalled-reader', 'succeeded', /^one client that stopped reading blocked the server: of 3 deliveries after the flood .* did not arrive within 10000 ms: .*the flooder → the client that joined before the stalled one, the flooder → the client that joined after it; the server stopped reading the flooder after [\d.]+ MiB \(for 3000 ms a write was not taken and no other client received anything\)/);
    expect(n.impact).toEqual(['availability']);
    expect(n.evidence.find((e) => e.kind === 'staller')?.detail).toMatch(/kept the stalled client connected/);
    // careful: per-client outbox and writer thread; a reader that takes nothing for 2 s with a full outbox is cut off.
    const c = expectCell('careful', 'robustness-stalled-reader', 'blocked', /^a client that stopped reading did not hold up the others: all 3 deliveries after the flood arrived .*; the flooder sent 12\.0 MiB in \d+ ms and the server read all of it; the server cut the stalled client off/);
    expect((c.data as { deliveries: Array<{ ok: boolean }> }).deliveries.map((d) => d.ok)).toEqual([true, true, true]);
    expect(c.evidence.find((e) => e.kind === 'staller')?.detail).toMatch(/the server had cut the stalled client off/);
  });

  it('robustness-slowloris: naive runs each handshake in its accept loop and locks newcomers out; careful serves them', () => {
    const n = expectCell('naive', 'robustness-slowloris', 'succeeded', /^8 connections that each sent the first 20 bytes of a TLS ClientHello and stalled: a new client was not served \(no TLS handshake within 5000 ms\)$/);
    // The clients already in the chat have their own threads: they go on.
    expect(n.evidence.find((e) => e.kind === 'member')?.detail).toMatch(/still got its line through/);
    expectCell('careful', 'robustness-slowloris', 'blocked', /^with 8 connections stalled after the first 20 bytes of a TLS ClientHello, a new client completed its TLS handshake in \d+ ms and its line reached another client in \d+ ms/);
  });

  it('downgrade-fallback: naive takes the self-signed certificate, so the attacker picks the version; careful does not fall back', () => {
    // naive (CERT_NONE) completes TLS with the attacker, whose hop is capped below TLS 1.3: a lower version without any fallback.
    const n = expectCell('naive', 'downgrade-fallback', 'succeeded', /accepted the attacker's self-signed certificate, and with the attacker's hop capped at TLSv1\.2 it ran TLSv1\.2 .* although it offered up to TLSv1\.3/);
    expect(n.evidence.find((e) => e.kind === 'downgraded-to')?.detail).toMatch(/negotiated TLSv1\.2/);
    expectCell('careful', 'downgrade-fallback', 'blocked', /the client does not fall back: after the attacker reset its TLSv1\.3 handshake/);
  });

  it('attacks that only exist for secchat\'s own protocol are n/a with the reason', () => {
    for (const row of ['naive', 'careful']) {
      expectCell(row, 'replay-login', 'not-applicable', /secchat's own login frame/);
      expectCell(row, 'password-crack', 'not-applicable', /account database/);
      expectCell(row, 'downgrade-starttls', 'not-applicable', /the target speaks tls from the first byte: there is no STARTTLS offer to strip/);
    }
  });
});

needsPython('downgrade-fallback against a fallback-dance client that also accepts any certificate', () => {
  it('succeeds by terminating its TLS with the version capped, before any reset is needed', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-fallback-'));
    try {
      const pki = await ensurePki(path.join(tmp, 'pki'));
      const { runTargetAttack } = await import('../attacks/targets/run.ts');
      const c = await runTargetAttack('downgrade-fallback', loadTarget(path.join(FIXTURES, 'fallback.yaml')), pki);
      expect(c.outcome, c.reason).toBe('succeeded');
      // This client also takes any certificate (CERT_NONE): the TLS rung is climbed first and the
      // attacker caps the version itself; the reset-and-retry path is never needed.
      expect(c.reason).toMatch(/accepted the attacker's self-signed certificate, and with the attacker's hop capped at TLSv1\.2 it ran TLSv1\.2/);
      expect(c.negotiated?.protocol).toBe('TLSv1.2');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});

(HAVE_PYTHON && (HAVE_SSLSCAN || process.env.CI) ? describe : describe.skip)('server probe interop with sslscan', () => {
  for (const file of [NAIVE, CAREFUL]) {
    it(`accepts exactly the versions and suites sslscan finds on ${path.basename(file)}`, async () => {
      const t = loadTarget(file);
      const { proc, port } = await startTargetServer(t);
      try {
        const probe = await probeServer(port, 'localhost');
        const scan = execFileSync('sslscan', ['--no-colour', '--no-cipher-details', '--no-heartbleed', '--no-renegotiation', '--no-compression', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 60_000 });
        const theirs = new Set([...scan.matchAll(/^(?:Preferred|Accepted)\s+(TLSv1\.[0-3])\s+\d+ bits\s+(\S+)/gm)].map((m) => `${m[1] === 'TLSv1.0' ? 'TLSv1' : m[1]} ${m[2]}`));
        const ours = new Set(PROBE_VERSIONS.flatMap((v) => probe.versions[v].map((s) => `${v} ${s.name}`)));
        expect(theirs.size).toBeGreaterThan(0);
        expect([...ours].sort()).toEqual([...theirs].sort());
        // Both agree on TLS_FALLBACK_SCSV too.
        expect(/Server supports TLS Fallback SCSV/.test(scan)).toBe(probe.fallbackScsv === 'refused');
      } finally {
        await proc.stop();
      }
    }, 90_000);
  }
});

describe('certificate gallery against secchat\'s own client', () => {
  let pki: PkiMaterial;
  let tmp: string;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-gallery-'));
    pki = await ensurePki(path.join(tmp, 'pki'));
  }, 60_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('caches the gallery with keys 0600 and reuses it', () => {
    const a = loadGallery(pki);
    const b = loadGallery(pki);
    expect(b.expired.certPem).toBe(a.expired.certPem);
    for (const e of GALLERY_ENTRIES) expect(statSync(path.join(pki.dir, 'gallery', `${e}.key`)).mode & 0o777).toBe(0o600);
    expect(existsSync(path.join(pki.dir, 'gallery', 'rsa-1024.crt'))).toBe(true);
  });

  it('tls-verified refuses every gallery certificate with a reason naming its defect', async () => {
    const c = await runAttack(getAttack('mitm-gallery'), loadProfile('tls-verified'), pki);
    expect(c.outcome, c.reason).toBe('blocked');
    const gallery = (c.data as { gallery: GalleryCertResult[] }).gallery;
    expect(gallery.map((g) => g.entry)).toEqual([...GALLERY_ENTRIES]);
    for (const g of gallery) {
      expect(g.outcome, `${g.entry}: ${g.reason}`).toBe('blocked');
      expect(g.reason, g.entry).toMatch(GALLERY_DEFECTS[g.entry].names);
    }
  }, 120_000);

  it('tls-no-verify accepts every gallery certificate, and the attacker reads the canary behind each', async () => {
    const c = await runAttack(getAttack('mitm-gallery'), loadProfile('tls-no-verify'), pki);
    expect(c.outcome, c.reason).toBe('succeeded');
    const gallery = (c.data as { gallery: GalleryCertResult[] }).gallery;
    for (const g of gallery) expect(g.outcome, `${g.entry}: ${g.reason}`).toBe('succeeded');
  }, 120_000);
});
