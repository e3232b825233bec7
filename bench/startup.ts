/**
 * `secchat bench startup`: what starting the command line costs. Times `secchat --help` and
 * `node -e 0` (the floor: node itself) alternately in the same run, each in a fresh process, and
 * takes the median wall time (spawn to exit, ms) and the median peak RSS (bytes, the child's own
 * `process.resourceUsage().maxRSS`, reported through fd 3 by a preloaded module that both get).
 * Issue 13 item 5: `--help` ≤ 0.2 s and ≤ 60 MiB.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distIsFresh } from '../bin/freshness.mjs';
import { median } from './statistics.ts';
import type { StartupResult } from './results.ts';

/** The package folder (this module runs from bench/ or from dist/bench/). */
const ROOT = [path.resolve(fileURLToPath(new URL('..', import.meta.url))), path.resolve(fileURLToPath(new URL('../..', import.meta.url)))].find((d) => !d.endsWith(`${path.sep}dist`))!;
const BIN = path.join(ROOT, 'bin', 'secchat.mjs');
// Preloaded into both processes so each reports its own peak RSS, the same way.
const REPORTER = 'data:text/javascript,' + encodeURIComponent("import{writeSync}from'node:fs';process.on('exit',()=>{try{writeSync(3,String(process.resourceUsage().maxRSS))}catch{}})");
/** A child that takes longer than this is killed and the run fails, ms. */
export const STARTUP_RUN_TIMEOUT_MS = 20_000;

/** One run of `args` under node: wall ms and peak RSS bytes. @throws Error when it fails or reports nothing */
function runOnce(args: string[]): { wallMs: number; peakRssBytes: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', REPORTER, ...args], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], timeout: STARTUP_RUN_TIMEOUT_MS, cwd: ROOT, env: { ...process.env, SECCHAT_TSX: '' } });
  const wallMs = performance.now() - t0;
  const kib = Number(String(r.output?.[3] ?? ''));
  if (r.status !== 0 || !Number.isFinite(kib) || kib <= 0) throw new Error(`startup bench: node ${args.join(' ')} failed (exit ${r.status}): ${String(r.stderr ?? '').slice(0, 500)}`);
  return { wallMs, peakRssBytes: kib * 1024 };
}

/**
 * Measures `secchat --help` against `node -e 0`.
 * @param runs processes of each kind (alternating); medians are reported
 */
export function benchStartup(runs: number): StartupResult {
  const cli: Array<{ wallMs: number; peakRssBytes: number }> = [];
  const node: Array<{ wallMs: number; peakRssBytes: number }> = [];
  runOnce([BIN, '--help']); // warm the file cache: the first run measures the disk, not secchat
  for (let i = 0; i < runs; i++) {
    node.push(runOnce(['-e', '0']));
    cli.push(runOnce([BIN, '--help']));
  }
  const sum = (xs: typeof cli) => ({ wallMs: Math.round(median(xs.map((x) => x.wallMs)) * 10) / 10, peakRssBytes: median(xs.map((x) => x.peakRssBytes)), runsWallMs: xs.map((x) => Math.round(x.wallMs * 10) / 10) });
  const c = sum(cli);
  const n = sum(node);
  return {
    runs,
    compiled: distIsFresh(ROOT),
    cliHelp: c,
    nodeBare: n,
    wallRatio: Math.round((c.wallMs / n.wallMs) * 100) / 100,
    rssRatio: Math.round((c.peakRssBytes / n.peakRssBytes) * 100) / 100,
  };
}
