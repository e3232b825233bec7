/**
 * The matrix: every attack against every profile, each cell an isolated scenario run (own
 * server, own database, own proxy, own canary), a few cells at a time.
 */
import os from 'node:os';
import path from 'node:path';
import type { Profile } from '../core/profile.ts';
import { TOOL_VERSION } from '../core/version.ts';
import type { PkiMaterial } from '../core/pki.ts';
import { warningsFor } from '../core/weaknesses.ts';
import { runAttack } from './scenario.ts';
import { checkMatrix } from './consistency.ts';
import type { Attack } from './types.ts';
import { RESULT_SCHEMA_VERSION, type CellResult, type MatrixResults } from '../reports/results.ts';

/** Default number of cells run at once: most of a cell is waiting (timers, the other end), so more cells than cores. */
export const DEFAULT_MATRIX_CONCURRENCY = 8;

/** Options of {@link runMatrix}. */
export interface MatrixOptions {
  profiles: Profile[];
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
  const jobs = opts.profiles.flatMap((p) => opts.attacks.map((a) => ({ p, a })));
  const cells: CellResult[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const { p, a } = jobs[i];
      const cell = await runAttack(a, p, opts.pki, { artifactDir: opts.artifactDirFor?.(p.name, a.id) ?? null, crackBudgetCoreSeconds: opts.crackBudgetCoreSeconds });
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
    profiles: opts.profiles.map((p) => ({ name: p.name, description: p.description, settings: p, warnings: warningsFor(p) })),
    attacks: opts.attacks.map((a) => ({ id: a.id, title: a.title, description: a.description })),
    cells,
    warnings: checkMatrix(cells),
  };
}
