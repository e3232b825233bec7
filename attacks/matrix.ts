/**
 * The matrix: every attack against every profile, each cell an isolated scenario run (own
 * server, own database, own proxy, own canary), a few cells at a time.
 */
import os from 'node:os';
import path from 'node:path';
import { effectiveSettings, type Profile } from '../core/profile.ts';
import { TOOL_VERSION } from '../core/version.ts';
import type { PkiMaterial } from '../core/pki.ts';
import { warningsFor } from '../core/weaknesses.ts';
import { runAttack } from './scenario.ts';
import { checkMatrix } from './consistency.ts';
import { targetSummary, targetWarnings, type Target } from '../core/target.ts';
import { runTargetAttack } from './targets/run.ts';
import { TARGET_ONLY_ATTACKS } from './targets/registry.ts';
import { OPT_IN_ATTACKS } from './registry.ts';
import type { Attack } from './types.ts';
import { RESULT_SCHEMA_VERSION, type CellResult, type MatrixResults } from '../reports/results.ts';

/** Default number of cells run at once: most of a cell is waiting (timers, the other end), so more cells than cores. */
export const DEFAULT_MATRIX_CONCURRENCY = 8;

/** Options of {@link runMatrix}. */
export interface MatrixOptions {
  profiles: Profile[];
  /** students' own apps (core/target.ts): rows beside the profiles, each cell the attack's target variant */
  targets?: Target[];
  /** ids of the target-only probes to run as extra columns when there are targets (default: all of them) */
  targetOnlyAttacks?: string[];
  attacks: readonly Attack[];
  pki: PkiMaterial;
  /** cells run at once (>= 1) */
  concurrency?: number;
  /** the command line to record as the way to reproduce the run */
  command?: string;
  /** per-cell folder for captures and key logs, or null to keep none */
  artifactDirFor?: (profile: string, attack: string) => string | null;
  /** folder of results.json: cells' artifact paths are made relative to it (default: kept as given) */
  resultsDir?: string;
  /** the password thief's budget in CPU-core seconds (default one core for one day) */
  crackBudgetCoreSeconds?: number;
  /** called after each cell, in completion order */
  onCell?: (cell: CellResult, done: number, total: number) => void;
}

/**
 * Artifact paths relative to `baseDir`, with forward slashes, so results.json and the reports
 * link them wherever the folder is moved or served.
 */
export function relativeArtifacts(artifacts: Record<string, string>, baseDir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(artifacts).map(([name, file]) => [name, path.relative(baseDir, file).split(path.sep).join('/')]));
}

/**
 * Runs every attack × profile cell.
 * @returns the results, cells in profile-then-attack order (not completion order)
 */
export async function runMatrix(opts: MatrixOptions): Promise<MatrixResults> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  // Measurements an attack wants made alone (before the cells compete for the CPU).
  for (const a of opts.attacks) await a.beforeMatrix?.(opts.profiles);
  const targets = opts.targets ?? [];
  // Columns: the attacks asked for, then (with targets) the probes that exist only for a target.
  const columns = [...opts.attacks.map((a) => ({ id: a.id, title: a.title, description: a.description, attack: a as Attack | null })), ...(targets.length ? TARGET_ONLY_ATTACKS.filter((t) => !opts.attacks.some((a) => a.id === t.id) && (!opts.targetOnlyAttacks || opts.targetOnlyAttacks.includes(t.id))).map((t) => ({ id: t.id, title: t.title!, description: t.description!, attack: null })) : [])];
  type Job = { row: string; col: (typeof columns)[number]; run: () => Promise<CellResult> };
  const jobs: Job[] = [
    ...opts.profiles.flatMap((p) =>
      columns.map((col): Job => ({
        row: p.name,
        col,
        run: async () =>
          (col.attack ?? OPT_IN_ATTACKS.find((a) => a.id === col.id))
            ? runAttack((col.attack ?? OPT_IN_ATTACKS.find((a) => a.id === col.id))!, p, opts.pki, { artifactDir: opts.artifactDirFor?.(p.name, col.id) ?? null, crackBudgetCoreSeconds: opts.crackBudgetCoreSeconds })
            : { schemaVersion: RESULT_SCHEMA_VERSION, profile: p.name, attack: col.id, canary: '', outcome: 'not-applicable', impact: [], reason: "a probe of a target's own app (secchat matrix --targets); it has no profile variant", summary: 'targets only', evidence: [], negotiated: null, durationMs: 0 },
      })),
    ),
    ...targets.flatMap((t) => columns.map((col): Job => ({ row: t.name, col, run: () => runTargetAttack(col.id, t, opts.pki, { artifactDir: opts.artifactDirFor?.(t.name, col.id) ?? null }) }))),
  ];
  const cells: CellResult[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const cell = await jobs[i]!.run();
      if (opts.resultsDir && cell.artifacts) cell.artifacts = relativeArtifacts(cell.artifacts, opts.resultsDir);
      cells[i] = cell;
      opts.onCell?.(cells[i], ++done, jobs.length);
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? DEFAULT_MATRIX_CONCURRENCY, jobs.length || 1));
  await Promise.all(Array.from({ length: n }, worker));
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'secchat', version: TOOL_VERSION },
    environment: { node: process.version, openssl: process.versions.openssl, platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length },
    startedAt,
    durationMs: Math.round(performance.now() - started),
    command: opts.command ?? 'secchat matrix',
    profiles: opts.profiles.map((p) => ({ name: p.name, description: p.description, settings: p, effectiveSettings: effectiveSettings(p), warnings: warningsFor(p) })),
    ...(targets.length ? { targets: targets.map((t) => ({ name: t.name, description: t.description, settings: targetSummary(t), warnings: targetWarnings(t) })) } : {}),
    attacks: columns.map((a) => ({ id: a.id, title: a.title, description: a.description, ...(a.attack?.premise ? { premise: { ...a.attack.premise } } : {}) })),
    cells,
    warnings: checkMatrix(cells),
  };
}
