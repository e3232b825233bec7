/**
 * Captures and key logs from the command line, and Wireshark interop on them: `secchat attack
 * retro-decrypt --capture --keylog` writes files tshark opens and decrypts — the TLS 1.2 RSA session
 * with the stolen key, to the same plaintext secchat recovers; the TLS 1.3 session only with
 * secchat's key log — and `secchat matrix --capture` links each cell's files from the reports.
 * The CLI runs in-process (main() with injected output), against inline profile files.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptRecordedTls12 } from '../attacks/retro/tls12-decrypt.ts';
import { main } from '../cli/main.ts';
import type { PkiMaterial } from '../core/pki.ts';
import type { CellResult, MatrixResults } from '../reports/results.ts';
import { makeTestPki } from './helpers/lab-env.ts';
import { readPcap } from './helpers/read-pcap.ts';
import { followTcpRaw, followTlsRaw, hasTshark, tshark } from './helpers/tshark.ts';

let pki: PkiMaterial;
let pkiDir: string;
let cleanup: () => void;
let dir: string;

/** Runs the CLI in-process; returns exit code and output. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'secchat', ...args], { out: (t) => (out += t), err: (t) => (err += t), interactive: false });
  return { code, out, err };
}

function profileFile(name: string, yaml: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\n${yaml}`);
  return file;
}

/** The server port of a capture: the destination of the first SYN. */
function serverPort(pcap: string): number {
  return readPcap(readFileSync(pcap)).packets.find((p) => p.flags === 0x02)!.dstPort;
}

/** Number of TCP conversations (SYNs) in a capture. */
function streams(pcap: string): number {
  return readPcap(readFileSync(pcap)).packets.filter((p) => p.flags === 0x02).length;
}

interface Run {
  result: CellResult;
  capture: string;
  keylog: string;
}
let rsa: Run;
let tls13: Run;

beforeAll(async () => {
  ({ pki, dir: pkiDir, cleanup } = await makeTestPki());
  dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-retro-cli-'));
  const run = async (name: string, yaml: string): Promise<Run> => {
    const capture = path.join(dir, `${name}.pcap`);
    const keylog = path.join(dir, `${name}.keys`);
    const r = await cli(['attack', 'retro-decrypt', '--profile', profileFile(name, yaml), '--pki', pkiDir, '--capture', capture, '--keylog', keylog, '--json']);
    expect(r.code, r.err).toBe(0);
    return { result: JSON.parse(r.out), capture, keylog };
  };
  rsa = await run('cli-rsa', 'tls:\n  minVersion: TLSv1.2\n  maxVersion: TLSv1.2\n  ciphers: AES256-GCM-SHA384\n');
  tls13 = await run('cli-tls13', 'tls:\n  minVersion: TLSv1.3\n');
});
afterAll(() => {
  cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('secchat attack --capture --keylog', () => {
  it('writes the capture, the run\'s key logs beside it (0600), and the --keylog file (0600)', () => {
    expect(rsa.result.outcome, rsa.result.reason).toBe('succeeded');
    expect(tls13.result.outcome, tls13.result.reason).toBe('blocked');
    const stem = rsa.capture.replace(/\.pcap$/, '');
    expect(rsa.result.artifacts).toEqual({ capture: rsa.capture, 'sessions-keylog': `${stem}.sessions.keylog`, 'recovered-keylog': `${stem}.recovered.keylog` });
    expect(tls13.result.artifacts).not.toHaveProperty('recovered-keylog'); // nothing was derived
    for (const f of [rsa.keylog, tls13.keylog, `${stem}.recovered.keylog`, `${stem}.sessions.keylog`]) {
      expect(statSync(f).mode & 0o777, f).toBe(0o600);
    }
    expect(readFileSync(rsa.capture).readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(streams(rsa.capture)).toBe(2); // alice and bob
    // TLS 1.3 key log: node's labels, both directions' traffic secrets for each of the two sessions.
    const lines = readFileSync(tls13.keylog, 'utf8').trim().split('\n');
    expect(lines.filter((l) => l.startsWith('CLIENT_TRAFFIC_SECRET_0 ')).length).toBe(2);
    expect(lines.filter((l) => l.startsWith('SERVER_TRAFFIC_SECRET_0 ')).length).toBe(2);
  });

  it('the human-readable output names the kept files', async () => {
    const capture = path.join(dir, 'human.pcap');
    const r = await cli(['attack', 'retro-decrypt', '--profile', profileFile('cli-human', 'tls:\n  minVersion: TLSv1.3\n'), '--pki', pkiDir, '--capture', capture]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/retro-decrypt against cli-human: blocked/);
    expect(r.out).toContain(`kept capture: ${capture}`);
    expect(existsSync(capture)).toBe(true);
  });
});

const TSHARK_TITLE = hasTshark ? 'Wireshark (tshark) opens and decrypts secchat\'s captures' : 'Wireshark interop — SKIPPED: tshark is not installed (apt-get install tshark; .ci/run does)';
describe.skipIf(!hasTshark && !process.env.CI)(TSHARK_TITLE, () => {
  const tlsOn = (pcap: string) => ['-d', `tcp.port==${serverPort(pcap)},tls`];

  it('the capture is clean: two TCP conversations, no TCP analysis warnings', () => {
    const conv = tshark(['-r', rsa.capture, '-q', '-z', 'conv,tcp']);
    expect(conv.match(/127\.0\.0\.1:\d+\s+<->\s+127\.0\.0\.1:\d+/g)?.length).toBe(2);
    expect(tshark(['-r', rsa.capture, '-T', 'fields', '-e', 'tcp.analysis.flags']).trim()).toBe('');
  });

  it('TLS 1.2 RSA: with the server key (uat:rsa_keys), tshark recovers exactly what secchat recovers, canary included', () => {
    const withKey = [...tlsOn(rsa.capture), '-o', `uat:rsa_keys:"${pki.server.keyPath}",""`];
    let sawCanary = false;
    for (const i of [0, 1]) {
      // secchat, from the same capture file's TCP streams: the offline decrypter alone.
      const wire = followTcpRaw(rsa.capture, i);
      const ours = decryptRecordedTls12({ clientToServer: wire.fromNode0, serverToClient: wire.fromNode1, serverPrivateKeyPem: pki.server.keyPem });
      expect(ours.outcome, ours.reason).toBe('decrypted');
      const theirs = followTlsRaw(rsa.capture, i, withKey);
      expect(theirs.fromNode0).toEqual(ours.clientPlaintext);
      expect(theirs.fromNode1).toEqual(ours.serverPlaintext);
      sawCanary ||= theirs.fromNode0.includes(`${rsa.result.canary} is the secret`);
      // Without the key, nothing decrypts.
      expect(followTlsRaw(rsa.capture, i, tlsOn(rsa.capture)).fromNode0.length).toBe(0);
    }
    expect(sawCanary).toBe(true);
    expect(rsa.result.evidence.find((e) => e.kind === 'canary-recovered')?.detail).toContain(`${rsa.result.canary} is the secret`);
  });

  it('TLS 1.2 RSA: secchat\'s own recovered.keylog (CLIENT_RANDOM) decrypts it too', () => {
    const out = tshark(['-r', rsa.capture, ...tlsOn(rsa.capture), '-o', `tls.keylog_file:${rsa.result.artifacts!['recovered-keylog']}`, '-q', '-z', 'follow,tls,ascii,0', '-z', 'follow,tls,ascii,1']);
    expect(out).toContain(`${rsa.result.canary} is the secret`);
  });

  it('TLS 1.3: the stolen key opens nothing; the --keylog file opens both sessions', () => {
    const args = (extra: string[]) => ['-r', tls13.capture, ...tlsOn(tls13.capture), ...extra, '-q', '-z', 'follow,tls,ascii,0', '-z', 'follow,tls,ascii,1'];
    expect(tshark(args(['-o', `uat:rsa_keys:"${pki.server.keyPath}",""`]))).not.toContain(tls13.result.canary);
    const out = tshark(args(['-o', `tls.keylog_file:${tls13.keylog}`]));
    expect(out).toContain(`${tls13.result.canary} is the secret`);
    expect(out).toContain('got it, thanks');
    // Both ServerHellos select TLS 1.3 in supported_versions (RFC 8446 §4.2.1).
    const selected = tshark(['-r', tls13.capture, ...tlsOn(tls13.capture), '-T', 'fields', '-e', 'tls.handshake.extensions.supported_version', '-Y', 'tls.handshake.type==2']).trim().split('\n');
    expect(selected).toEqual(['0x0304', '0x0304']);
  });
});

describe('secchat matrix --capture', () => {
  it('keeps one capture per cell and links the files, relative to results.json, in results.json and report.md', async () => {
    const out = path.join(dir, 'matrix');
    const rsaFile = profileFile('matrix-rsa', 'tls:\n  minVersion: TLSv1.2\n  maxVersion: TLSv1.2\n  ciphers: AES128-GCM-SHA256\n');
    const plainFile = profileFile('matrix-plain', 'transport: plain\n');
    const r = await cli(['matrix', '--profiles', rsaFile, plainFile, '--attacks', 'retro-decrypt,mitm-passive', '--capture', '--out', out, '--pki', pkiDir]);
    expect(r.code, r.err).toBe(0);
    const results: MatrixResults = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(results.command).toContain('--capture');
    const cell = (p: string, a: string) => results.cells.find((c) => c.profile === p && c.attack === a)!;
    const retro = cell('matrix-rsa', 'retro-decrypt');
    expect(retro.outcome).toBe('succeeded');
    expect(retro.artifacts).toEqual({
      capture: 'artifacts/matrix-rsa--retro-decrypt/capture.pcap',
      'sessions-keylog': 'artifacts/matrix-rsa--retro-decrypt/sessions.keylog',
      'recovered-keylog': 'artifacts/matrix-rsa--retro-decrypt/recovered.keylog',
    });
    expect(cell('matrix-plain', 'mitm-passive').artifacts).toEqual({ capture: 'artifacts/matrix-plain--mitm-passive/capture.pcap' });
    expect(cell('matrix-plain', 'retro-decrypt').artifacts).toBeUndefined(); // not applicable: nothing ran
    for (const c of results.cells) for (const f of Object.values(c.artifacts ?? {})) expect(existsSync(path.join(out, f)), f).toBe(true);
    const md = readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('- capture: [artifacts/matrix-rsa--retro-decrypt/capture.pcap](artifacts/matrix-rsa--retro-decrypt/capture.pcap)');
    expect(md).toContain('- recovered-keylog: [artifacts/matrix-rsa--retro-decrypt/recovered.keylog](artifacts/matrix-rsa--retro-decrypt/recovered.keylog)');
  });

  it('without --capture keeps only the recordings retro-decrypt\'s evidence needs', async () => {
    const out = path.join(dir, 'matrix-none');
    const r = await cli(['matrix', '--profiles', profileFile('matrix-none', 'tls:\n  minVersion: TLSv1.3\n'), '--attacks', 'retro-decrypt,mitm-passive', '--out', out, '--pki', pkiDir]);
    expect(r.code, r.err).toBe(0);
    const results: MatrixResults = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    const retro = results.cells.find((c) => c.attack === 'retro-decrypt')!;
    const passive = results.cells.find((c) => c.attack === 'mitm-passive')!;
    expect(retro.artifacts?.capture).toBe('artifacts/matrix-none--retro-decrypt/capture.pcap');
    expect(existsSync(path.join(out, retro.artifacts!.capture!))).toBe(true);
    expect(passive.artifacts).toBeUndefined();
    expect(existsSync(path.join(out, 'artifacts', 'matrix-none--mitm-passive'))).toBe(false);
  });
});
