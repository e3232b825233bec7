/**
 * `npm run mutate`: mutation testing (StrykerJS, https://stryker-mutator.io) of the
 * verdict-critical files listed in test/mutation/targets.ts.
 *
 *   npm run mutate -- --file server/rate-limit.ts   one file, against its related tests only
 *   npm run mutate -- --all                         every listed file, one after the other
 *
 * Each run writes reports/mutation/<file>.html and .json (Stryker's mutation-testing-report
 * schema), records the score in reports/mutation/scores.json, prints the file's score against
 * its target, and exits 1 when a file is below target, 2 on bad arguments.
 *
 * Why concurrency 1 by default: the machine is shared, and one test-runner process keeps a
 * file to minutes. Why each `--all` file in its own process: a fresh Stryker (logging, plugin
 * loading, sandbox) per file, so one file's failure cannot leak into the next.
 * Not part of `npm test` or CI: a file takes minutes; the suite must stay fast.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { MUTATION_TARGETS, findTarget, type MutationTarget } from './targets.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where reports and Stryker's sandboxes go (gitignored; the sandboxes are removed after a run). */
export const MUTATION_REPORT_DIR = 'reports/mutation';

/** How many mutants ended in each of Stryker's states, and the score computed from them. */
export interface MutationScore {
  file: string;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  /** Mutants disabled in the source with a `// Stryker disable` comment (judged equivalent). */
  ignored: number;
  /** Mutants that did not compile or crashed the runner: not counted, as Stryker does. */
  errors: number;
  /** (killed + timeout) / (killed + timeout + survived + noCoverage) × 100; NaN when there were none. */
  percent: number;
  targetPercent: number;
  /** ISO 8601 time the run finished. */
  date: string;
  /** Commit the run measured (with "+dirty" when the tree had changes). */
  commit: string;
}

/** The subset of Stryker's MutantResult this script reads. */
interface MutantOutcome {
  status: string;
}

/**
 * Stryker's mutation score, from mutant outcomes (Stryker's "mutation score" metric: detected
 * over valid mutants; ignored, compile and runtime errors are not valid mutants).
 */
export function scoreOf(results: readonly MutantOutcome[]): Omit<MutationScore, 'file' | 'targetPercent' | 'date' | 'commit'> {
  const count = (s: string) => results.filter((r) => r.status === s).length;
  const killed = count('Killed');
  const timeout = count('Timeout');
  const survived = count('Survived');
  const noCoverage = count('NoCoverage');
  const valid = killed + timeout + survived + noCoverage;
  return {
    killed,
    timeout,
    survived,
    noCoverage,
    ignored: count('Ignored'),
    errors: count('CompileError') + count('RuntimeError'),
    percent: valid === 0 ? Number.NaN : ((killed + timeout) / valid) * 100,
  };
}

function gitCommit(): string {
  const rev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  if (rev.status !== 0) return 'unknown';
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' });
  return rev.stdout.trim() + (dirty.stdout.trim() ? '+dirty' : '');
}

/** reports/mutation/<slug>.html for `core/channel/sealed-frames.ts` is `core-channel-sealed-frames`. */
function slugOf(file: string): string {
  return file.replace(/\.[cm]?ts$/, '').replace(/[\\/]/g, '-');
}

async function mutateOne(target: MutationTarget, concurrency: number): Promise<MutationScore> {
  for (const f of [target.file, ...target.tests]) {
    if (!existsSync(path.join(ROOT, f))) throw new Error(`test/mutation/targets.ts names ${f}, which does not exist (moved? update the list)`);
  }
  // Stryker's core is loaded only when a run starts: `--help` and argument errors stay instant.
  const { Stryker } = await import('@stryker-mutator/core');
  const slug = slugOf(target.file);
  process.env.SECCHAT_MUTATE_TESTS = target.tests.join(',');
  const stryker = new Stryker({
    mutate: [target.file],
    testRunner: 'vitest',
    vitest: { configFile: 'test/mutation/vitest.config.ts', related: false },
    coverageAnalysis: 'perTest',
    concurrency,
    tempDirName: `${MUTATION_REPORT_DIR}/.stryker-tmp`,
    cleanTempDir: true,
    // dist/: rebuilt by `npm run build` at any time (a copy raced it once); the tests run the sources.
    ignorePatterns: ['reports/out', 'reports/mutation', '.secchat', 'coverage', 'dist'],
    reporters: ['clear-text', 'progress', 'html', 'json'],
    htmlReporter: { fileName: `${MUTATION_REPORT_DIR}/${slug}.html` },
    jsonReporter: { fileName: `${MUTATION_REPORT_DIR}/${slug}.json` },
    clearTextReporter: { allowColor: process.stdout.isTTY === true, logTests: false, reportScoreTable: true },
    // End-to-end tests over loopback TLS vary under load; a mutant that hangs a test is still caught.
    timeoutMS: 10_000,
  });
  const results = await stryker.runMutationTest();
  return { file: target.file, ...scoreOf(results), targetPercent: target.targetPercent, date: new Date().toISOString(), commit: gitCommit() };
}

function recordScore(score: MutationScore): void {
  const file = path.join(ROOT, MUTATION_REPORT_DIR, 'scores.json');
  mkdirSync(path.dirname(file), { recursive: true });
  const all: Record<string, MutationScore> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  all[score.file] = score;
  writeFileSync(file, JSON.stringify(all, null, 2) + '\n');
}

function describeScore(s: MutationScore): string {
  const pct = Number.isNaN(s.percent) ? 'n/a (no mutants)' : `${s.percent.toFixed(2)} %`;
  const ok = s.percent >= s.targetPercent ? 'meets' : 'BELOW';
  return [
    `mutation score ${s.file}: ${pct} — ${ok} its target of ${s.targetPercent} %`,
    `  killed ${s.killed}, timeout ${s.timeout}, survived ${s.survived}, no coverage ${s.noCoverage}; ignored (equivalent) ${s.ignored}, errors ${s.errors}`,
    `  docs/testing.md row: | \`${s.file}\` | ${pct.replace(' (no mutants)', '')} | ≥ ${s.targetPercent} % | ${s.killed + s.timeout}/${s.killed + s.timeout + s.survived + s.noCoverage} | ${s.ignored} | ${s.date.slice(0, 10)} | ${s.commit} |`,
    `  report: ${MUTATION_REPORT_DIR}/${slugOf(s.file)}.html`,
  ].join('\n');
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be an integer >= 1');
  return n;
}

/**
 * The `mutate` command line.
 * @returns the process exit code: 0 all at target, 1 a file below target or a run failed, 2 bad arguments
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('npm run mutate --')
    .description('Mutation testing (StrykerJS) of the verdict-critical files in test/mutation/targets.ts')
    .option('--file <path>', 'mutate one listed file, against its related tests only')
    .option('--all', 'mutate every listed file, one after the other (each in its own process)')
    .option('--list', 'print the listed files, their targets and related tests')
    .option('--concurrency <n>', 'Stryker test-runner processes (the machine is shared: keep it low)', positiveInt, 1)
    .addHelpText('after', `\nFiles:\n${MUTATION_TARGETS.map((t) => `  ${t.file.padEnd(36)} ≥ ${t.targetPercent} %  ${t.role}`).join('\n')}\n\nReports: ${MUTATION_REPORT_DIR}/<file>.html and .json; scores in ${MUTATION_REPORT_DIR}/scores.json.`)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv);
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const opts = program.opts<{ file?: string; all?: boolean; list?: boolean; concurrency: number }>();
  if (opts.list) {
    for (const t of MUTATION_TARGETS) console.log(`${t.file}\t≥ ${t.targetPercent} %\t${t.tests.join(' ')}`);
    return 0;
  }
  if (!!opts.file === !!opts.all) {
    process.stderr.write('npm run mutate: give exactly one of --file <path> or --all (see --help)\n');
    return 2;
  }
  if (opts.all) {
    const failed: string[] = [];
    for (const t of MUTATION_TARGETS) {
      const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--file', t.file, '--concurrency', String(opts.concurrency)], { cwd: ROOT, stdio: 'inherit' });
      if (child.status !== 0) failed.push(t.file);
    }
    const scores: Record<string, MutationScore> = JSON.parse(readFileSync(path.join(ROOT, MUTATION_REPORT_DIR, 'scores.json'), 'utf8'));
    console.log('\nSummary:');
    for (const t of MUTATION_TARGETS) {
      const s = scores[t.file];
      console.log(s ? describeScore(s).split('\n')[0] : `mutation score ${t.file}: no result`);
    }
    if (failed.length) console.log(`below target or failed: ${failed.join(', ')}`);
    return failed.length ? 1 : 0;
  }
  const target = findTarget(opts.file!);
  if (!target) {
    process.stderr.write(`npm run mutate: --file ${opts.file} is not a listed verdict-critical file; allowed: ${MUTATION_TARGETS.map((t) => t.file).join(', ')} (add it to test/mutation/targets.ts)\n`);
    return 2;
  }
  if (target.file !== opts.file!.replace(/\\/g, '/').replace(/^\.\//, '')) console.log(`npm run mutate: ${opts.file}'s verdict-critical code now lives in ${target.file}; mutating that`);
  process.chdir(ROOT);
  const score = await mutateOne(target, opts.concurrency);
  recordScore(score);
  console.log('\n' + describeScore(score));
  return score.percent >= score.targetPercent ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv);
}
