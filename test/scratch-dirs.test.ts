/**
 * Scratch folders of the lab check and of a target run come from core/scratch-dir.ts (on /dev/shm
 * where it is writable and TMPDIR unset, so SQLite's close-time sync does not block), and are
 * removed afterwards — when the run failed too. makeScratchDir is wrapped to record what it made.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { useTestPki, profileOf } from './helpers/lab-env.ts';
import { describeWithPython } from './helpers/python.ts';

const made = vi.hoisted(() => [] as Array<{ prefix: string; dir: string }>);
vi.mock('../core/scratch-dir.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../core/scratch-dir.ts')>();
  return {
    ...real,
    makeScratchDir: (prefix: string) => {
      const dir = real.makeScratchDir(prefix);
      made.push({ prefix, dir });
      return dir;
    },
  };
});

const { scratchBase } = await import('../core/scratch-dir.ts');
const { checkLab } = await import('../labs/check.ts');
const { findLab, loadLabs } = await import('../labs/lab.ts');
const { runTargetAttack } = await import('../attacks/targets/run.ts');
const { loadTarget, parseTargetText } = await import('../core/target.ts');

const env = useTestPki('secchat-scratch-');
const FIXTURES = path.resolve('test/fixtures');

/** The folders made with `prefix` since `from`: each under scratchBase() and removed by now. */
function expectMadeAndRemoved(prefix: string, from: number): void {
  const mine = made.slice(from).filter((m) => m.prefix === prefix);
  expect(mine.length, `a ${prefix} folder made with makeScratchDir`).toBeGreaterThan(0);
  for (const m of mine) {
    expect(path.dirname(m.dir)).toBe(scratchBase());
    expect(existsSync(m.dir), m.dir).toBe(false);
  }
}

describe('labs/check.ts: the chat and probe folder', () => {
  // No attack registered: the check runs only the chat and the lab's probe (fast).
  const lab = findLab('4', loadLabs());
  const profile = profileOf({ name: 'scratch' });

  it('is a scratch folder, removed after the check', async () => {
    const from = made.length;
    const r = await checkLab(lab, profile, env.pki, { registry: [] });
    expect(r.chat.works, r.chat.detail).toBe(true);
    expectMadeAndRemoved('secchat-lab-', from);
  }, 60_000);

  it('is removed when the check fails midway', async () => {
    const from = made.length;
    const failing = checkLab(lab, profile, env.pki, {
      registry: [],
      onStep: (s) => {
        if (s.startsWith('chat:')) throw new Error('caller failed at the chat step');
      },
    });
    await expect(failing).rejects.toThrow('caller failed at the chat step');
    expectMadeAndRemoved('secchat-lab-', from);
  }, 60_000);
});

describeWithPython('attacks/targets/run.ts: the run folder', () => {
  const target = (serverCommand: string) =>
    parseTargetText(
      `name: scratch\nserver:\n  command: ${serverCommand}\n  ready: listening\n  transport: plain\nclient:\n  command: python3 targets/naive/client.py --host {host} --port {port}\n  send: "alice\\n{canary}\\n"\n`,
      'scratch.yaml',
      FIXTURES,
    );

  it('is a scratch folder, removed after the run, and so is the control run\'s', async () => {
    const from = made.length;
    const c = await runTargetAttack('mitm-passive', loadTarget(path.join(FIXTURES, 'naive.yaml')), env.pki);
    expect(c.outcome, c.reason).toBe('blocked'); // blocked: the control run without an attacker ran too
    expectMadeAndRemoved('secchat-target-', from);
    expectMadeAndRemoved('secchat-target-control-', from);
  }, 60_000);

  it('is removed when the student\'s server never starts', async () => {
    const from = made.length;
    const c = await runTargetAttack('mitm-passive', target('python3 -c "import sys; sys.exit(3)" {port}'), env.pki);
    expect(c.outcome).toBe('error');
    expectMadeAndRemoved('secchat-target-', from);
  }, 60_000);
});
