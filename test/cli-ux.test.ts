/**
 * Small CLI promises a fresh-clone tester found broken: `profiles list`, one entry per report
 * format, one line per attack id in `secchat attacks`, a --capture that names a folder refused
 * before the run with the user's own path, and target n/a reasons that read as sentences.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { runTargetAttack } from '../attacks/targets/run.ts';
import type { Target } from '../core/target.ts';

const cwd = mkdtempSync(path.join(os.tmpdir(), 'secchat-cli-ux-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('CLI details', () => {
  it('`profiles list` lists the presets like bare `profiles`', async () => {
    const [list, bare] = await Promise.all([runCli(['profiles', 'list'], { cwd }), runCli(['profiles'], { cwd })]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('tls-verified');
    expect(list.stdout).toBe(bare.stdout);
  });

  it('report --format lists each format once', async () => {
    const r = await runCli(['report', '--in', 'x.json', '--format', 'pdf'], { cwd });
    expect(r.code).toBe(2);
    const m = /Allowed choices are ([^.\n]+)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const choices = m![1]!.split(',').map((s) => s.trim());
    expect(choices).toEqual([...new Set(choices)]);
    expect(choices).toEqual(expect.arrayContaining(['table', 'md', 'html']));
  });

  it('`secchat attacks` lists each attack id once', async () => {
    const r = await runCli(['attacks'], { cwd });
    expect(r.code).toBe(0);
    const ids = r.stdout.split('\n').filter((l) => /^[a-z]/.test(l)).map((l) => l.split(/\s+/)[0]);
    expect(ids).toContain('server-scan');
    expect(ids.length).toBe(new Set(ids).size);
  });

  it('--capture naming an existing folder is refused before the run, naming that folder (exit 2)', async () => {
    const r = await runCli(['attack', 'mitm-passive', '--profile', 'plaintext', '--capture', cwd], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${cwd} is a folder`);
    expect(r.stderr).not.toMatch(/secchat-attack-/);
  });
});

describe('target n/a reasons', () => {
  it('an attack with no target variant says why in one sentence', async () => {
    const target = { name: 't', server: { command: 'true', transport: 'tls' }, client: { command: 'true' } } as unknown as Target;
    const cell = await runTargetAttack('downgrade-cipher', target, {} as never);
    expect(cell.outcome).toBe('not-applicable');
    expect(cell.reason).toBe("no target variant: rewrites secchat's secure-channel offer; a target has no secchat channel");
  });
});
