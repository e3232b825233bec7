/**
 * Robustness probes against targets, beyond the naive/careful matrix cells asserted in
 * targets.test.ts: robustness-long-line's memory measurement against a server that frames lines
 * but buffers one without a limit (test/fixtures/targets/unbounded), and n/a for STARTTLS targets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadTarget } from '../core/target.ts';
import { ensurePki, type PkiMaterial } from '../core/pki.ts';
import { runTargetAttack } from '../attacks/targets/run.ts';
import { describeWithPython } from './helpers/python.ts';

const FIXTURES = path.resolve('test/fixtures');
const HAVE_PROC = process.platform === 'linux';
// CI installs python3 (.ci/run); a laptop without it skips loudly rather than silently.
const needsPython = describeWithPython;

needsPython('robustness probes: what the fixtures alone do not show', () => {
  let pki: PkiMaterial;
  let tmp: string;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'secchat-robustness-'));
    pki = await ensurePki(path.join(tmp, 'pki'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it.runIf(HAVE_PROC)('robustness-long-line: a server that frames lines but buffers one without a limit grows by the line (peak memory measured)', async () => {
    const c = await runTargetAttack('robustness-long-line', loadTarget(path.join(FIXTURES, 'unbounded.yaml')), pki);
    expect(`${c.outcome}: ${c.reason}`).toMatch(/^succeeded: a 5 MiB line without a newline: it buffered the unfinished line: its peak memory grew by [\d.]+ MiB/);
    const d = c.data as { relayedBytes: number; peakMemoryGrowthBytes: number; deliveredAfter: boolean; senderClosed: boolean };
    // It frames correctly (nothing relayed, the chat goes on): memory is the only harm, and it is measured.
    expect(d.relayedBytes).toBe(0);
    expect(d.deliveredAfter).toBe(true);
    expect(d.senderClosed).toBe(false);
    expect(d.peakMemoryGrowthBytes).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(c.impact).toEqual(['availability']);
  }, 60_000);

  it('the probes speak TLS or plaintext from the first byte: a STARTTLS target is n/a with the reason', async () => {
    const t = loadTarget(path.join(FIXTURES, 'starttls-opportunistic.yaml'));
    for (const id of ['robustness-long-line', 'robustness-stalled-reader', 'robustness-slowloris']) {
      const c = await runTargetAttack(id, t, pki);
      expect(c.outcome, id).toBe('not-applicable');
      expect(c.reason).toMatch(/not STARTTLS/);
    }
  });
});
