/**
 * `secchat bench [suite] [--quick] [--json] [--out FILE]`: the performance figures of
 * docs/performance.md, measured on this machine (bench/run.ts does the work).
 */
import { Argument, Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BENCH_SUITES, runBench, type BenchSuite } from '../../bench/run.ts';
import { renderBench } from '../../bench/render.ts';
import { renderBenchMarkdown } from '../../bench/markdown.ts';
import type { CliIo } from '../common.ts';

/** `reports/out/bench-<timestamp>.json`, the default JSON file. */
export function defaultBenchFile(now = new Date()): string {
  return path.join('reports', 'out', `bench-${now.toISOString().replace(/[:.]/g, '-')}.json`);
}

/** `secchat bench`. */
export function benchCommand(io: CliIo): Command {
  return new Command('bench')
    .description('measure handshakes/s, broadcast fan-out (throughput, p50/p99 latency, memory), the passive MITM\'s cost and RSA vs AES-GCM, each against a minimal baseline in the same run (loopback only)')
    .addArgument(new Argument('[suite]', 'run one suite only').choices(['all', ...BENCH_SUITES]).default('all'))
    .option('--quick', 'a smaller run that finishes in under a minute (no 1,000-client room)', false)
    .option('--json', 'print the JSON report to stdout instead of tables', false)
    .option('--out <file>', 'where to write the JSON report (default: reports/out/bench-<timestamp>.json)')
    .option('--markdown <file>', 'also write the tables as Markdown (as in docs/performance.md)')
    .addHelpText('after', '\nTargets (ours ÷ baseline at 100 clients): fan-out throughput >= 0.8, p99 latency <= 1.5, handshakes >= 0.9, passive MITM ÷ direct >= 0.5.')
    .action(async (suite: 'all' | BenchSuite, o: { quick: boolean; json: boolean; out?: string; markdown?: string }) => {
      const mode = o.quick ? 'quick' : 'full';
      const command = ['secchat bench', suite === 'all' ? '' : suite, o.quick ? '--quick' : ''].filter(Boolean).join(' ');
      const report = await runBench({
        mode,
        suites: suite === 'all' ? BENCH_SUITES : [suite],
        command,
        log: (line) => io.err(`· ${line}\n`),
      });
      const file = o.out ?? defaultBenchFile();
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
      if (o.markdown) writeFileSync(o.markdown, renderBenchMarkdown(report) + '\n');
      if (o.json) io.out(JSON.stringify(report, null, 2) + '\n');
      else io.out(renderBench(report, { colour: !!process.stdout.isTTY }) + '\n' + `wrote ${file}\n`);
    });
}
