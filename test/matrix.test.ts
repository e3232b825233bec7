import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../cli/main.ts';
import { RESULT_SCHEMA_VERSION, type MatrixResults } from '../reports/results.ts';

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
    // By default a short summary: one verdict per profile, computed from its row, and the counts.
    expect(out).toMatch(/^ {2}plaintext {2,}fails: confidentiality \(mitm-passive\); confidentiality and integrity \(mitm-wrong-host\)$/m);
    expect(out).toMatch(/^ {2}tls-pinned {2,}holds against every attack$/m);
    expect(out).toMatch(/^ {2}my-profile {2,}fails: confidentiality and integrity \(mitm-wrong-host\)$/m);
    expect(out).toMatch(/6 runs: 3 succeeded, 3 blocked, 0 not applicable, 0 error/);
    expect(out).not.toContain('┌'); // no grid unless asked
    expect(out).toContain(`full grid: secchat report --in ${path.join(outDir, 'results.json')} --grid`);
    // The grid on request, from the same results.json.
    let grid = '';
    expect(await main(['node', 'secchat', 'report', '--in', path.join(outDir, 'results.json'), '--grid'], { out: (t) => (grid += t), err: () => {}, interactive: false })).toBe(0);
    expect(grid).toMatch(/profile.*mitm-passive.*mitm-wrong-host/s);
    expect(grid).toMatch(/│ tls-pinned\s+│ blocked\s+│ blocked\s+│/);
    expect(grid).toContain('holds against every attack');
    const results: MatrixResults = JSON.parse(readFileSync(path.join(outDir, 'results.json'), 'utf8'));
    expect(results.schemaVersion).toBe(RESULT_SCHEMA_VERSION);
    expect(results.profiles.find((p) => p.name === 'plaintext')!.effectiveSettings).toEqual({ name: 'plaintext', description: expect.any(String), transport: 'plain', auth: { storage: 'scrypt', method: 'password' } });
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
    expect(md).toContain('- `plaintext`: fails: confidentiality \\(mitm-passive\\); confidentiality and integrity \\(mitm-wrong-host\\)');
    expect(md).toContain('Verdict: holds against every attack');
  });
});
