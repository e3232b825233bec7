/**
 * Runs one attack's target variant against one target in isolation and returns the result cell,
 * in the same shape as a profile's cell (the target's name in the `profile` field: targets are
 * rows of the same matrix). Failures of the run itself become outcome `error`; nothing is thrown.
 */
import { rmSync } from 'node:fs';
import { makeScratchDir } from '../../core/scratch-dir.ts';
import { describeError, ERROR_CODES, SecchatError } from '../../core/errors.ts';
import type { PkiMaterial } from '../../core/pki.ts';
import type { Target } from '../../core/target.ts';
import { RESULT_SCHEMA_VERSION, type CellResult } from '../../reports/results.ts';
import { resultCell, withRunArtifacts } from '../kit/result-cell.ts';
import type { ProxyEngine } from '../proxy.ts';
import { newCanary } from '../scenario.ts';
import type { Verdict } from '../types.ts';
import { NO_TARGET_VARIANT, targetAttack } from './registry.ts';
import { runTargetConversation, targetControlRun } from './scenario.ts';
import type { TargetContext } from './types.ts';

/** Options of {@link runTargetAttack}. */
export interface RunTargetAttackOptions {
  canary?: string;
  /** folder where the run keeps its capture and key log, or null */
  artifactDir?: string | null;
}

/**
 * Runs the target variant of attack `id` against `target`.
 * @returns the cell; `not-applicable` with the reason when the attack has no target variant
 */
export async function runTargetAttack(id: string, target: Target, pki: PkiMaterial, opts: RunTargetAttackOptions = {}): Promise<CellResult> {
  const started = performance.now();
  const canary = opts.canary ?? newCanary();
  const base = { schemaVersion: RESULT_SCHEMA_VERSION, profile: target.name, attack: id, canary } as const;
  const attack = targetAttack(id);
  const why = attack ? (attack.applicability?.(target) ?? null) : `no target variant: ${NO_TARGET_VARIANT[id]?.(target) ?? "this attack acts on secchat's own chat only"}`;
  if (!attack || why) {
    return { ...base, outcome: 'not-applicable', impact: [], reason: why!, summary: 'not applicable', evidence: [], negotiated: null, durationMs: Math.round(performance.now() - started) };
  }
  const tmpDir = makeScratchDir('secchat-target-');
  const proxies: ProxyEngine[] = [];
  const keylogLines: Buffer[] = [];
  const ctx: TargetContext = {
    target,
    pki,
    canary,
    tmpDir,
    artifactDir: opts.artifactDir ?? null,
    async run(o = {}) {
      const obs = await runTargetConversation(target, { ...o, canary, tmpDir, keylog: (l) => keylogLines.push(Buffer.from(l)) });
      if (obs.proxy) proxies.push(obs.proxy.engine);
      return obs;
    },
  };
  let verdict: Verdict;
  try {
    verdict = await attack.run(ctx).catch((err): Verdict => {
      // The student's server not starting in time is no verdict either: it gets the second run below.
      if (!(err instanceof SecchatError && err.code === ERROR_CODES.TARGET_PROCESS)) throw err;
      return { outcome: 'error', reason: err.message, summary: 'server did not start', impact: [], evidence: [], negotiated: null };
    });
    if (verdict.outcome === 'error') {
      // No verdict is not a result: a student's programs on a loaded machine can miss a time
      // limit. Run once more, and say so; a second "no verdict" stands.
      const first = verdict.reason;
      verdict = await attack.run(ctx);
      verdict.evidence.unshift({ kind: 'retry', detail: `the first run gave no verdict (${first}); this is the second run` });
    }
    if (verdict.outcome === 'blocked' && !attack.independentOfChat) {
      const control = await targetControlRun(target, newCanary());
      verdict.evidence.push({ kind: 'control', detail: control.detail });
      if (!control.works) {
        verdict = { ...verdict, outcome: 'error', reason: `no verdict: the app does not deliver a message even without an attacker (${control.detail}), so "blocked" would prove nothing`, summary: 'chat broken without attacker' };
      }
    }
  } catch (err) {
    const d = describeError(err);
    verdict = { outcome: 'error', reason: `the run itself failed: ${d.code}: ${d.message}`, summary: `run failed: ${d.code}`.slice(0, 40), impact: [], evidence: [{ kind: 'error', detail: String((err as Error)?.stack ?? err) }], negotiated: null };
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  if (ctx.artifactDir && proxies.length) {
    verdict = withRunArtifacts(verdict, ctx.artifactDir, proxies, keylogLines);
  }
  return resultCell(base, verdict, started);
}
