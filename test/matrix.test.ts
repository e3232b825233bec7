import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../cli/main.ts';
import type { MatrixResults } from '../reports/results.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-matrix-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secchat matrix', () => {
  it('runs profiles × attacks, prints the table, writes results.json and report.md', async () => {
    // A profile file that is not a preset, beside two presets.
    const custom = path.join(dir, 'my-profile.yaml');
    writeFileSync(custom, 'name: my-profile\ndescription: a student profile\ntransport: tls\nclient:\n  verify: ca\n  checkHostname: false\n');
    let out = '';
    let err = '';
    const outDir = path.join(dir, 'out');
    const code = await main(
      ['node', 'secchat', 'matrix', '--profiles', 'plaintext', 'tls-pinned', custom, '--attacks', 'mitm-passive,mitm-wrong-host', '--out', outDir, '--pki', path.join(dir, 'pki')],
      { out: (t) => (out += t), err: (t) => (err += t), interactive: false },
    );
    expect(code, err).toBe(0);
    expect(out).toMatch(/profile.*mitm-passive.*mitm-wrong-host/s);
    expect(out).toMatch(/6 runs: 3 succeeded, 3 blocked, 0 not applicable, 0 error/);
    const results: MatrixResults = JSON.parse(readFileSync(path.join(outDir, 'results.json'), 'utf8'));
    expect(results.schemaVersion).toBe(1);
    expect(results.environment.node).toBe(process.version);
    expect(results.environment.openssl).toBe(process.versions.openssl);
    expect(results.tool.version).toMatch(/^\d+\.\d+\.\d+/);
    const outcome = (p: string, a: string) => results.cells.find((c) => c.profile === p && c.attack === a)?.outcome;
    expect(outcome('plaintext', 'mitm-passive')).toBe('succeeded');
    expect(outcome('plaintext', 'mitm-wrong-host')).toBe('succeeded');
    expect(outcome('tls-pinned', 'mitm-passive')).toBe('blocked');
    expect(outcome('tls-pinned', 'mitm-wrong-host')).toBe('blocked');
    expect(outcome('my-profile', 'mitm-passive')).toBe('blocked');
    expect(outcome('my-profile', 'mitm-wrong-host')).toBe('succeeded');
    const md = readFileSync(path.join(outDir, 'report.md'), 'utf8');
    expect(md).toMatch(/\| my-profile \| blocked \| \*\*SUCCEEDED\*\* \|/);
    expect(md).toMatch(/### mitm-wrong-host: blocked\n\n.*pin mismatch/);
    expect(md).toContain('`client.checkHostname`: any certificate the CA issued');
  });
});
