/**
 * The end of every run, for secchat's own profiles (attacks/scenario.ts) and for a student's app
 * (attacks/targets/run.ts) alike: keep the run's capture and key log beside the verdict, and turn
 * the verdict into the result cell of results.json (reports/results.ts, docs/results-schema.md).
 */
import { describeError } from '../../core/errors.ts';
import type { CellResult } from '../../reports/results.ts';
import type { ProxyEngine } from '../proxy.ts';
import type { Verdict } from '../types.ts';
import { keepRunArtifacts } from './capture.ts';

/**
 * Writes the run's capture (every proxy's connections, pcap) and the endpoints' key log into `dir`
 * and names them in the verdict's `artifacts` (files the attack kept itself win on a clash).
 * Never throws: a folder that cannot be written becomes an `artifact-error` evidence line, since a
 * lost capture must not cost the verdict.
 */
export function withRunArtifacts(verdict: Verdict, dir: string, engines: readonly ProxyEngine[], keylogLines: readonly Buffer[]): Verdict {
  try {
    return { ...verdict, artifacts: { ...keepRunArtifacts(dir, engines, keylogLines), ...verdict.artifacts } };
  } catch (err) {
    return { ...verdict, evidence: [...verdict.evidence, { kind: 'artifact-error', detail: `could not keep the capture in ${dir}: ${describeError(err).message}` }] };
  }
}

/**
 * The result cell of one run: `base` (schema version, profile or target name, attack id, canary)
 * with the verdict. Impact is kept only for `succeeded`; `durationMs` is wall time since
 * `startedMs` (a `performance.now()` reading), in whole ms.
 */
export function resultCell(base: Pick<CellResult, 'schemaVersion' | 'profile' | 'attack' | 'canary'>, verdict: Verdict, startedMs: number): CellResult {
  return {
    ...base,
    outcome: verdict.outcome,
    impact: verdict.outcome === 'succeeded' ? verdict.impact : [],
    reason: verdict.reason,
    summary: verdict.summary,
    evidence: verdict.evidence,
    negotiated: verdict.negotiated,
    ...(verdict.artifacts ? { artifacts: verdict.artifacts } : {}),
    ...(verdict.data ? { data: verdict.data } : {}),
    ...(typeof verdict.premiseUsed === 'boolean' ? { premiseUsed: verdict.premiseUsed } : {}),
    durationMs: Math.round(performance.now() - startedMs),
  };
}
