/**
 * `secchat bench`: runs the suites of a plan (quick or full) in one process, collects plain data
 * ({@link BenchReport}, bench/results.ts), and judges the targets.
 */
import os from 'node:os';
import { TOOL_VERSION } from '../core/version.ts';
import { benchCrypto, type CryptoBenchOptions } from './crypto.ts';
import { benchStartup } from './startup.ts';
import { benchFanoutSize, benchMitm, type FanoutShape } from './fanout.ts';
import { makeBenchPki, BENCH_LIMITS } from './fixtures.ts';
import { COMPILED } from './child.ts';
import { benchHandshakes, HANDSHAKE_ROWS, type RateOptions } from './handshake.ts';
import { BENCH_SCHEMA_VERSION, type BenchRatios, type BenchReport, type MachineInfo, type TargetCheck } from './results.ts';

/** The benchmark suites, in run order. */
export const BENCH_SUITES = ['startup', 'crypto', 'handshake', 'fanout', 'mitm'] as const;
export type BenchSuite = (typeof BENCH_SUITES)[number];

/** How much of everything a run does. */
export interface BenchPlan {
  handshake: RateOptions & { repeats: number; cpuSlices?: number };
  fanout: { sizes: number[]; shape: FanoutShape };
  mitm: { clients: number; shape: FanoutShape };
  crypto: CryptoBenchOptions;
  /** processes of `secchat --help` and of `node -e 0` each */
  startup: { runs: number };
}

/** The room size the headline ratios are quoted at (the "at 100 clients"). */
export const RATIO_CLIENTS = 100;

/**
 * The two plans. `quick` fits in a minute on two cores and still yields every ratio; `full`
 * adds the 1,000-client room and runs longer for steadier medians.
 */
export const BENCH_PLANS: Record<'quick' | 'full', BenchPlan> = {
  quick: {
    handshake: { repeats: 8, durationMs: 200, concurrency: 8, maxCount: 10_000 },
    fanout: { sizes: [10, 100], shape: { repeats: 3, deliveriesPerRun: 10_000, window: 16, textChars: 100, runTimeoutMs: 30_000 } },
    mitm: { clients: 100, shape: { repeats: 3, deliveriesPerRun: 10_000, window: 16, textChars: 100, runTimeoutMs: 30_000 } },
    crypto: { repeats: 3, durationMs: 150 },
    startup: { runs: 7 },
  },
  full: {
    handshake: { repeats: 12, cpuSlices: 16, durationMs: 800, concurrency: 8, maxCount: 100_000 },
    fanout: { sizes: [10, 100, 1000], shape: { repeats: 5, deliveriesPerRun: 100_000, window: 16, textChars: 100, runTimeoutMs: 120_000 } },
    mitm: { clients: 100, shape: { repeats: 5, deliveriesPerRun: 50_000, window: 16, textChars: 100, runTimeoutMs: 120_000 } },
    crypto: { repeats: 5, durationMs: 1000 },
    startup: { runs: 15 },
  },
};

/** The targets: name, comparison, threshold. */
export const BENCH_TARGETS: ReadonlyArray<{ name: keyof BenchRatios; description: string; op: '>=' | '<='; threshold: number }> = [
  { name: 'fanoutThroughput', description: `fan-out deliveries/s at ${RATIO_CLIENTS} clients, secchat ÷ baseline`, op: '>=', threshold: 0.8 },
  { name: 'fanoutP99Latency', description: `fan-out p99 latency at ${RATIO_CLIENTS} clients, secchat ÷ baseline`, op: '<=', threshold: 1.5 },
  { name: 'handshakeRate', description: 'handshakes/s, secchat ÷ baseline, same cert and suite (lowest row)', op: '>=', threshold: 0.9 },
  { name: 'idleRss', description: `server RSS with ${RATIO_CLIENTS} idle clients, secchat ÷ baseline`, op: '<=', threshold: 1.5 },
  { name: 'handshakeCpu', description: 'server CPU per handshake, secchat ÷ baseline, same cert and suite (highest row)', op: '<=', threshold: 1.1 },
  { name: 'cliHelpSeconds', description: '`secchat --help` wall time, s (median; node -e 0 in the startup table)', op: '<=', threshold: 0.2 },
  { name: 'cliHelpRssMiB', description: '`secchat --help` peak RSS, MiB (median)', op: '<=', threshold: 60 },
  { name: 'mitmPassiveThroughput', description: `fan-out deliveries/s at ${RATIO_CLIENTS} clients, through the passive MITM ÷ direct`, op: '>=', threshold: 0.5 },
];

/** The machine the figures come from. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    nproc: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    totalMemBytes: os.totalmem(),
    platform: os.platform(),
    arch: os.arch(),
    kernel: os.release(),
    node: process.version,
    openssl: process.versions.openssl ?? 'unknown',
    loadAverageStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    loadAverageEnd: [],
  };
}

/** Options of {@link runBench}. */
export interface RunBenchOptions {
  mode: 'quick' | 'full';
  suites?: readonly BenchSuite[];
  /** The command line, recorded in the report. */
  command?: string;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** Override the plan (tests use tiny ones). */
  plan?: BenchPlan;
}

/**
 * Runs the benchmark.
 * @returns the report; loss or unmet targets are data in it, not errors
 * @throws Error when a benchmark server cannot start or a load fleet cannot connect
 */
export async function runBench(opts: RunBenchOptions): Promise<BenchReport> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const plan = opts.plan ?? BENCH_PLANS[opts.mode];
  const suites = opts.suites ?? BENCH_SUITES;
  const log = opts.log ?? (() => {});
  const report: BenchReport = {
    schemaVersion: BENCH_SCHEMA_VERSION,
    tool: { name: 'secchat', version: TOOL_VERSION },
    mode: opts.mode,
    suites: [...suites],
    command: opts.command ?? `secchat bench${opts.mode === 'quick' ? ' --quick' : ''}`,
    startedAt,
    durationMs: 0,
    machine: machineInfo(),
    settings: {
      plan,
      handshakeRows: HANDSHAKE_ROWS.map((r) => r.id),
      loadModel: 'closed loop: `window` broadcasts in flight; a broadcast completes when every other client has read it',
      serverLimitsChanged: BENCH_LIMITS,
      passwordStorage: 'sha256 (logins are set-up, not measured)',
      processes: 'each server in its own child process; load generator in the bench process',
      // tsx compiles with esbuild's keepNames, which names every closure at run time: per-connection
      // JavaScript costs more from the sources, so only compiled runs compare with docs/performance.md.
      servers: COMPILED ? 'compiled dist/' : 'sources through tsx',
    },
    ratios: { fanoutThroughput: null, fanoutP99Latency: null, handshakeRate: null, mitmPassiveThroughput: null, idleRss: null, handshakeCpu: null, cliHelpSeconds: null, cliHelpRssMiB: null },
    targets: [],
  };

  if (!COMPILED) log('note: the servers run from the sources through tsx; run `npm run build` first for figures comparable with docs/performance.md');
  if (suites.includes('startup')) {
    log(`startup: secchat --help vs node -e 0, ${plan.startup.runs} runs each`);
    report.startup = benchStartup(plan.startup.runs);
    report.ratios.cliHelpSeconds = report.startup.cliHelp.wallMs / 1000;
    report.ratios.cliHelpRssMiB = Math.round((report.startup.cliHelp.peakRssBytes / 2 ** 20) * 10) / 10;
  }
  if (suites.includes('crypto')) {
    log('crypto: RSA-2048-OAEP vs AES-256-GCM');
    report.crypto = benchCrypto(plan.crypto);
  }
  const needPki = suites.some((s) => s !== 'crypto' && s !== 'startup');
  const pki = needPki ? await makeBenchPki() : null;
  try {
    if (pki && suites.includes('handshake')) {
      report.handshakes = await benchHandshakes(pki, { ...plan.handshake, log });
      const comparable = new Set(HANDSHAKE_ROWS.filter((r) => r.sameSuite !== false).map((r) => r.id));
      const ratios = report.handshakes.filter((h) => comparable.has(h.id)).map((h) => h.ratio).filter((r): r is number => r !== null);
      report.ratios.handshakeRate = ratios.length ? Math.min(...ratios) : null;
      const cpu = report.handshakes.filter((h) => comparable.has(h.id)).map((h) => h.cpuRatio).filter((r): r is number => r !== null);
      report.ratios.handshakeCpu = cpu.length ? Math.round(Math.max(...cpu) * 100) / 100 : null;
    }
    if (pki && suites.includes('fanout')) {
      report.fanout = [];
      for (const n of plan.fanout.sizes) report.fanout.push(await benchFanoutSize(pki, n, plan.fanout.shape, log));
      const at = report.fanout.find((f) => f.clients === RATIO_CLIENTS);
      if (at) {
        report.ratios.fanoutThroughput = at.throughputRatio;
        report.ratios.fanoutP99Latency = at.p99LatencyRatio;
        report.ratios.idleRss = Math.round((at.ours.idleRssBytes / at.baseline.idleRssBytes) * 100) / 100;
      }
    }
    if (pki && suites.includes('mitm')) {
      report.mitm = await benchMitm(pki, plan.mitm.clients, plan.mitm.shape, log);
      report.ratios.mitmPassiveThroughput = report.mitm.throughputRatio;
    }
  } finally {
    pki?.cleanup();
  }
  report.targets = judge(report.ratios);
  report.machine.loadAverageEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  report.durationMs = Math.round(performance.now() - started);
  return report;
}

/** Checks each ratio against its target; unmeasured ratios are `met: null`. */
export function judge(ratios: BenchRatios): TargetCheck[] {
  return BENCH_TARGETS.map((t) => {
    const ratio = ratios[t.name];
    return {
      name: t.name,
      description: t.description,
      ratio,
      target: `${t.op} ${t.threshold}`,
      met: ratio === null ? null : t.op === '>=' ? ratio >= t.threshold : ratio <= t.threshold,
    };
  });
}
