/**
 * Broadcast fan-out at several room sizes — our server vs the baseline, then through the passive
 * MITM proxy vs direct — driven by the one load generator (bench/load.ts), each server in a child
 * process of its own (bench/child.ts) so its CPU and peak memory are measured alone.
 *
 * The two sides of each comparison run at the same time, each with its own connected fleet, and
 * their measured runs alternate (A B, B A, A B, ...): on a shared two-core machine background load
 * comes and goes, and alternating makes it fall on both sides alike instead of biasing a ratio.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serverTlsOptions } from '../core/tls/node-options.ts';
import { ServerProcess } from './child.ts';
import { BENCH_LIMITS, benchClientTls, benchProfile, type BenchPki } from './fixtures.ts';
import { LoadFleet, type FanoutResult, type LoadTarget } from './load.ts';
import { median, pairedRatio } from './statistics.ts';
import type { FanoutSizeResult, FanoutSummary, MitmResult } from './results.ts';
import type { ProcessStats } from './server-process.ts';

/** The fan-out load shape (the same for every server). */
export interface FanoutShape {
  /** Measured runs per server and size; the figures are their medians. */
  repeats: number;
  /** Deliveries per run (messages × (clients − 1)), so small and large rooms run comparably long. */
  deliveriesPerRun: number;
  /** Broadcasts in flight at once. */
  window: number;
  /** Characters of message text. */
  textChars: number;
  /** Per-run time limit, ms. */
  runTimeoutMs: number;
}

/** Unmeasured runs per side before the measured ones. */
export const WARMUP_RUNS = 2;

/** Messages per run for a room of `clients`: at least 10. */
export function messagesPerRun(shape: FanoutShape, clients: number): number {
  return Math.max(10, Math.ceil(shape.deliveriesPerRun / (clients - 1)));
}

/** The TLS settings of the fan-out benchmark: the default profile's (TLS 1.3 preferred), RSA-2048 cert. */
export const FANOUT_PROFILE = benchProfile('bench-fanout');

/** One side of a comparison: a server process and a fleet connected to it. */
class Side {
  readonly runs: FanoutResult[] = [];
  private constructor(
    readonly proc: ServerProcess,
    readonly fleet: LoadFleet,
    readonly idle: ProcessStats,
    readonly setupMs: number,
  ) {}

  /** Connects `clients` clients to `proc` (through `target`). */
  static async open(proc: ServerProcess, target: LoadTarget, clients: number, namePrefix: string): Promise<Side> {
    const idle = await proc.stats();
    const t0 = performance.now();
    const fleet = await LoadFleet.connect(target, { clients, namePrefix });
    return new Side(proc, fleet, idle, Math.round(performance.now() - t0));
  }

  run(shape: FanoutShape, measured: boolean): Promise<FanoutResult> {
    return this.fleet.fanout({ messages: messagesPerRun(shape, this.fleet.clients.length), window: shape.window, textChars: shape.textChars, timeoutMs: shape.runTimeoutMs }).then((r) => {
      if (measured) this.runs.push(r);
      return r;
    });
  }

  /** Medians of the measured runs and the process's figures since `resetPeak`. */
  async summary(): Promise<FanoutSummary> {
    const after = await this.proc.stats();
    const runs = this.runs;
    const sum = (k: 'lost' | 'reordered' | 'duplicates' | 'misattributed' | 'disconnected' | 'deliveries' | 'durationMs') => runs.reduce((a, x) => a + x[k], 0);
    const cpuUs = after.cpuUserUs + after.cpuSystemUs;
    return {
      deliveriesPerSec: median(runs.map((x) => x.deliveriesPerSec)),
      messagesPerSec: median(runs.map((x) => x.messagesPerSec)),
      latencyP50Ms: median(runs.map((x) => x.latencyMs.p50)),
      latencyP99Ms: median(runs.map((x) => x.latencyMs.p99)),
      lost: sum('lost'),
      reordered: sum('reordered'),
      duplicates: sum('duplicates'),
      misattributed: sum('misattributed'),
      disconnected: sum('disconnected'),
      incompleteRuns: runs.filter((x) => x.incomplete).length,
      idleRssBytes: this.idle.rssBytes,
      peakRssBytes: Math.max(after.peakRssBytes, after.maxRssBytes),
      // Busy share of its own runs' wall time (it idles while the other side runs).
      serverCpuPercent: Math.round((cpuUs / 1000 / Math.max(1, sum('durationMs'))) * 1000) / 10,
      serverCpuUsPerDelivery: Math.round((cpuUs / Math.max(1, sum('deliveries'))) * 100) / 100,
      setupMs: this.setupMs,
      runs,
    };
  }

  close(): void {
    this.fleet.close();
  }
}

/** Warm-up on both sides, then `repeats` measured runs alternating which side goes first. */
async function alternate(a: Side, b: Side, shape: FanoutShape): Promise<void> {
  for (let w = 0; w < WARMUP_RUNS; w++) {
    await a.run(shape, false);
    await b.run(shape, false);
  }
  // CPU and the sampled peak count from here; the kernel's lifetime peak covers set-up too.
  await Promise.all([a.proc.resetPeak(), b.proc.resetPeak()]);
  for (let r = 0; r < shape.repeats; r++) {
    const [first, second] = r % 2 === 0 ? [a, b] : [b, a];
    await first.run(shape, true);
    await second.run(shape, true);
  }
}

/** Starts our server for the benchmark (fresh database in a temp folder). */
async function startOurs(pki: BenchPki): Promise<{ proc: ServerProcess; stop: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-bench-fan-'));
  try {
    const proc = await ServerProcess.start({ kind: 'secchat', profile: FANOUT_PROFILE, identity: pki.rsa2048, dbPath: path.join(dir, 'users.db'), limits: BENCH_LIMITS });
    return {
      proc,
      stop: async () => {
        await proc.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Runs `body` with resources that `cleanups` undo afterwards (in reverse), whatever happens. */
async function withCleanup<T>(body: (defer: (f: () => unknown) => void) => Promise<T>): Promise<T> {
  const cleanups: Array<() => unknown> = [];
  try {
    return await body((f) => cleanups.push(f));
  } finally {
    for (const f of cleanups.reverse()) await f();
  }
}

const target = (kind: LoadTarget['kind'], port: number, tls: LoadTarget['tls']): LoadTarget => ({ kind, host: '127.0.0.1', port, tls });

/**
 * One room size: the baseline and ours, each in a fresh child process, runs alternating.
 * @throws Error when a server does not start or a fleet cannot connect
 */
export async function benchFanoutSize(pki: BenchPki, clients: number, shape: FanoutShape, log?: (l: string) => void): Promise<FanoutSizeResult> {
  const clientTls = benchClientTls(FANOUT_PROFILE, pki);
  return withCleanup(async (defer) => {
    log?.(`fan-out: ${clients} clients, baseline and secchat`);
    const baseProc = await ServerProcess.start({ kind: 'baseline', tls: serverTlsOptions(FANOUT_PROFILE, pki.rsa2048) });
    defer(() => baseProc.stop());
    const ours = await startOurs(pki);
    defer(ours.stop);
    const base = await Side.open(baseProc, target('baseline', baseProc.port, clientTls), clients, 'base');
    defer(() => base.close());
    const mine = await Side.open(ours.proc, target('secchat', ours.proc.port, clientTls), clients, 'user');
    defer(() => mine.close());
    await alternate(base, mine, shape);
    const [b, o] = [await base.summary(), await mine.summary()];
    // Not timed: one run mixing direct messages into the broadcasts, with few senders so each has
    // many messages in flight — the loss and per-sender order check for what the baseline cannot do.
    log?.(`fan-out: ${clients} clients, secchat, broadcasts and direct messages (integrity)`);
    const mixed = await mine.fleet.fanout({ messages: messagesPerRun(shape, clients), window: shape.window, textChars: shape.textChars, senders: Math.min(8, clients), dmEvery: 3, timeoutMs: shape.runTimeoutMs });
    return {
      clients,
      messagesPerRun: messagesPerRun(shape, clients),
      window: shape.window,
      ours: o,
      baseline: b,
      oursWithDms: mixed,
      ...ratios(o, b),
    };
  });
}

/**
 * The passive MITM's cost: the same fan-out straight to one of our servers and, at the same time,
 * through the proxy engine (attacks/proxy.ts with the `relay` addon, recording every byte as
 * mitm-passive does, in a child process of its own) to a second one; runs alternate.
 */
export async function benchMitm(pki: BenchPki, clients: number, shape: FanoutShape, log?: (l: string) => void): Promise<MitmResult> {
  const clientTls = benchClientTls(FANOUT_PROFILE, pki);
  return withCleanup(async (defer) => {
    log?.(`mitm: ${clients} clients, direct and through the passive proxy`);
    const a = await startOurs(pki);
    defer(a.stop);
    const b = await startOurs(pki);
    defer(b.stop);
    const proxy = await ServerProcess.start({ kind: 'proxy', upstream: { host: '127.0.0.1', port: b.proc.port } });
    defer(() => proxy.stop());
    const direct = await Side.open(a.proc, target('secchat', a.proc.port, clientTls), clients, 'direct');
    defer(() => direct.close());
    // The proxied side's figures are the proxy process's: it is what the comparison adds.
    const proxied = await Side.open(proxy, target('secchat', proxy.port, clientTls), clients, 'proxied');
    defer(() => proxied.close());
    await alternate(direct, proxied, shape);
    const [d, p] = [await direct.summary(), await proxied.summary()];
    return {
      clients,
      messagesPerRun: messagesPerRun(shape, clients),
      direct: d,
      proxied: p,
      ...ratios(p, d),
    };
  });
}

/** a ÷ b over runs measured back to back (see statistics.ts pairedRatio). */
function ratios(a: FanoutSummary, b: FanoutSummary): { throughputRatio: number; p99LatencyRatio: number } {
  return {
    throughputRatio: pairedRatio(a.runs.map((x) => x.deliveriesPerSec), b.runs.map((x) => x.deliveriesPerSec)),
    p99LatencyRatio: pairedRatio(a.runs.map((x) => x.latencyMs.p99), b.runs.map((x) => x.latencyMs.p99)),
  };
}
