/**
 * Broadcast fan-out at several room sizes — our server vs the baseline, then through the passive
 * MITM proxy vs direct — driven by the one load generator (bench/load.ts), each server in a child
 * process of its own (bench/child.ts) so its CPU and peak memory are measured alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serverTlsOptions } from '../core/tls-options.ts';
import { ServerProcess } from './child.ts';
import { BENCH_LIMITS, benchClientTls, benchProfile, type BenchPki } from './fixtures.ts';
import { LoadFleet, median, type FanoutResult, type LoadTarget } from './load.ts';
import type { FanoutSizeResult, FanoutSummary, MitmResult } from './results.ts';

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

/** Messages per run for a room of `clients`: at least 10. */
export function messagesPerRun(shape: FanoutShape, clients: number): number {
  return Math.max(10, Math.ceil(shape.deliveriesPerRun / (clients - 1)));
}

/** The TLS settings of the fan-out benchmark: the default profile's (TLS 1.3 preferred), RSA-2048 cert. */
export const FANOUT_PROFILE = benchProfile('bench-fanout');

/**
 * Connects a fleet to a running server process, warms up, measures `repeats` runs.
 * @throws Error when the fleet cannot connect
 */
export async function measureSeries(proc: ServerProcess, target: LoadTarget, clients: number, shape: FanoutShape, namePrefix: string): Promise<FanoutSummary> {
  const idle = await proc.stats();
  const t0 = performance.now();
  const fleet = await LoadFleet.connect(target, { clients, namePrefix });
  const setupMs = Math.round(performance.now() - t0);
  try {
    const messages = messagesPerRun(shape, clients);
    const run = (m: number) => fleet.fanout({ messages: m, window: shape.window, textChars: shape.textChars, timeoutMs: shape.runTimeoutMs });
    await run(Math.max(10, Math.ceil(messages / 4))); // warm-up: JIT and TLS buffers, not counted
    await proc.resetPeak(); // CPU counts the measured runs only; peak memory is the kernel's lifetime peak
    const runs: FanoutResult[] = [];
    for (let r = 0; r < shape.repeats; r++) runs.push(await run(messages));
    const after = await proc.stats();
    const sum = (k: 'lost' | 'reordered' | 'duplicates' | 'misattributed' | 'disconnected') => runs.reduce((a, x) => a + x[k], 0);
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
      idleRssBytes: idle.rssBytes,
      peakRssBytes: Math.max(after.peakRssBytes, after.maxRssBytes),
      serverCpuPercent: Math.round(((after.cpuUserUs + after.cpuSystemUs) / 1000 / after.wallMs) * 1000) / 10,
      setupMs,
      runs,
    };
  } finally {
    fleet.close();
  }
}

/** Starts our server for the fan-out benchmark (fresh database in a temp folder). */
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

/**
 * One room size: the baseline then ours, each in a fresh child process.
 * @throws Error when a server does not start or a fleet cannot connect
 */
export async function benchFanoutSize(pki: BenchPki, clients: number, shape: FanoutShape, log?: (l: string) => void): Promise<FanoutSizeResult> {
  const clientTls = benchClientTls(FANOUT_PROFILE, pki);
  log?.(`fan-out: ${clients} clients, baseline`);
  const base = await ServerProcess.start({ kind: 'baseline', tls: serverTlsOptions(FANOUT_PROFILE, pki.rsa2048) });
  let baseline: FanoutSummary;
  try {
    baseline = await measureSeries(base, { kind: 'baseline', host: '127.0.0.1', port: base.port, tls: clientTls }, clients, shape, 'base');
  } finally {
    await base.stop();
  }
  log?.(`fan-out: ${clients} clients, secchat`);
  const o = await startOurs(pki);
  let ours: FanoutSummary;
  try {
    ours = await measureSeries(o.proc, { kind: 'secchat', host: '127.0.0.1', port: o.proc.port, tls: clientTls }, clients, shape, 'user');
  } finally {
    await o.stop();
  }
  return {
    clients,
    messagesPerRun: messagesPerRun(shape, clients),
    window: shape.window,
    ours,
    baseline,
    throughputRatio: round3(ours.deliveriesPerSec / baseline.deliveriesPerSec),
    p99LatencyRatio: round3(ours.latencyP99Ms / baseline.latencyP99Ms),
  };
}

/**
 * The passive MITM's cost: the same fan-out straight to our server, then through the proxy
 * engine (attacks/proxy.ts with the `relay` addon, recording every byte as mitm-passive does),
 * the proxy in a child process of its own.
 */
export async function benchMitm(pki: BenchPki, clients: number, shape: FanoutShape, log?: (l: string) => void): Promise<MitmResult> {
  const clientTls = benchClientTls(FANOUT_PROFILE, pki);
  const o = await startOurs(pki);
  try {
    log?.(`mitm: ${clients} clients, direct`);
    const direct = await measureSeries(o.proc, { kind: 'secchat', host: '127.0.0.1', port: o.proc.port, tls: clientTls }, clients, shape, 'direct');
    log?.(`mitm: ${clients} clients, through the passive proxy`);
    const proxy = await ServerProcess.start({ kind: 'proxy', upstream: { host: '127.0.0.1', port: o.proc.port } });
    let proxied: FanoutSummary;
    try {
      proxied = await measureSeries(proxy, { kind: 'secchat', host: '127.0.0.1', port: proxy.port, tls: clientTls }, clients, shape, 'proxied');
    } finally {
      await proxy.stop();
    }
    return {
      clients,
      messagesPerRun: messagesPerRun(shape, clients),
      direct,
      proxied,
      throughputRatio: round3(proxied.deliveriesPerSec / direct.deliveriesPerSec),
      p99LatencyRatio: round3(proxied.latencyP99Ms / direct.latencyP99Ms),
    };
  } finally {
    await o.stop();
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
