/**
 * Handshakes per second, one row per handshake profile, each against our chat server and against
 * the baseline with the same certificate and suite (both in child processes; the clients here).
 *
 * The rows are data: {@link HANDSHAKE_ROWS} lists them and {@link tlsRow} builds a TLS one. A row
 * that is not plain TLS (the secure channel's `rsa` and `ecdhe-signed` handshakes) implements
 * {@link HandshakeRow.setup} itself and returns endpoints whose `once()` performs one handshake;
 * `baseline` may be null when nothing comparable exists.
 *
 * One handshake = connect, complete the handshake, and read the server's first application byte
 * (our `welcome`, the baseline's `hello`): so the server has finished its side too — in TLS 1.3 the
 * client is done a flight before the server — and a rate cannot be inflated by resets the server
 * never finished processing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { validateProfile, type Profile } from '../core/profile.ts';
import { resolveTrust } from '../core/tls/certificate-verification.ts';
import { serverTlsOptions } from '../core/tls/node-options.ts';
import { ChatClient } from '../client/chat-client.ts';
import { ServerProcess } from './child.ts';
import type { ServerProcessConfig } from './server-process.ts';
import { BENCH_LIMITS, benchClientTls, benchProfile, type BenchKey, type BenchPki } from './fixtures.ts';
import { counterbalancedRatio, median, pairedRatio } from './statistics.ts';
import type { HandshakeRowResult, RateRuns } from './results.ts';

/** One thing that can be handshaken with. */
export interface HandshakeEndpoint {
  /** Performs one complete handshake and closes. Rejects on failure. */
  once(): Promise<void>;
  /** One handshake that reports what was negotiated (run once per row, before measuring). */
  probe(): Promise<{ protocol: string | null; cipher: string | null }>;
  /** The server's process, when it runs in one of its own: its CPU time per handshake is reported. */
  process?: ServerProcess;
}

/** A row's servers, running. */
export interface HandshakeRowSetup {
  ours: HandshakeEndpoint;
  baseline: HandshakeEndpoint | null;
  teardown(): Promise<void>;
}

/** One handshake profile of the table. */
export interface HandshakeRow {
  /** Stable id, kebab-case (JSON key). */
  id: string;
  /** Words for the table. */
  label: string;
  /**
   * False when the baseline runs a different handshake (the channel rows use TLS 1.3 as a
   * reference): such a row's ratio is shown but kept out of the handshakeRate target.
   */
  sameSuite?: boolean;
  setup(pki: BenchPki): Promise<HandshakeRowSetup>;
}

/** A TLS endpoint: connect, handshake, read the first byte, destroy. */
function tlsEndpoint(proc: ServerProcess, options: tls.ConnectionOptions): HandshakeEndpoint {
  const port = proc.port;
  const connect = () =>
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ ...options, host: '127.0.0.1', port });
      s.once('data', () => resolve(s));
      s.once('error', reject);
      s.once('close', () => reject(new Error('closed before the first byte')));
    });
  return {
    process: proc,
    async once() {
      (await connect()).destroy();
    },
    async probe() {
      const s = await connect();
      const c = s.getCipher();
      const info = { protocol: s.getProtocol(), cipher: c?.standardName ?? c?.name ?? null };
      s.destroy();
      return info;
    },
  };
}

/**
 * Starts a row's server processes through `build` and returns them with one teardown that stops
 * every process started (also when `build` fails half-way) and deletes the database folder.
 */
async function rowServers(
  build: (start: (config: ServerProcessConfig) => Promise<ServerProcess>, dbPath: string) => Promise<Omit<HandshakeRowSetup, 'teardown'>>,
): Promise<HandshakeRowSetup> {
  const dbDir = mkdtempSync(path.join(os.tmpdir(), 'secchat-bench-hs-'));
  const started: ServerProcess[] = [];
  const teardown = async () => {
    await Promise.all(started.map((p) => p.stop()));
    rmSync(dbDir, { recursive: true, force: true });
  };
  const start = async (config: ServerProcessConfig) => {
    const p = await ServerProcess.start(config);
    started.push(p);
    return p;
  };
  try {
    return { ...(await build(start, path.join(dbDir, 'users.db'))), teardown };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/**
 * Builds a TLS row: our server and the baseline, both with `key`'s certificate and `tlsSettings`
 * (a profile's `tls` section) on both ends.
 */
export function tlsRow(id: string, label: string, key: BenchKey, tlsSettings: Record<string, unknown>): HandshakeRow {
  return {
    id,
    label,
    setup: (pki) =>
      rowServers(async (start, dbPath) => {
        const profile: Profile = benchProfile(`bench-${id}`, tlsSettings);
        const identity = pki[key];
        const ours = await start({ kind: 'secchat', profile, identity, dbPath, limits: BENCH_LIMITS });
        const base = await start({ kind: 'baseline', tls: serverTlsOptions(profile, identity) });
        const client = benchClientTls(profile, pki);
        return { ours: tlsEndpoint(ours, client), baseline: tlsEndpoint(base, client) };
      }),
  };
}

/**
 * A secure-channel row: our server with `transport: plain` and the channel's `keyExchange` (one
 * handshake = TCP, welcome, and the channel handshake through the real client library). There is
 * no channel in the minimal baseline, so the reference is the baseline's TLS 1.3 X25519 handshake
 * with the same RSA-2048 certificate: the ratio says what the application-layer handshake costs
 * against TLS doing the same job.
 */
export function channelRow(id: string, label: string, keyExchange: 'rsa' | 'ecdhe-signed'): HandshakeRow {
  return {
    id,
    label,
    sameSuite: false,
    setup: (pki) =>
      rowServers(async (start, dbPath) => {
        const profile = validateProfile(
          { name: `bench-${id}`, transport: 'plain', client: { verify: 'ca', checkHostname: true }, channel: { keyExchange }, auth: { storage: 'sha256' } },
          `benchmark profile ${id}`,
        );
        const ours = await start({ kind: 'secchat', profile, identity: pki.rsa2048, dbPath, limits: BENCH_LIMITS });
        const tls13 = benchProfile(`bench-${id}-reference`, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', groups: 'X25519' });
        const base = await start({ kind: 'baseline', tls: serverTlsOptions(tls13, pki.rsa2048) });
        const trust = resolveTrust(profile, pki.ca.certPem, pki.rsa2048.certPem);
        const connect = () => ChatClient.connect({ profile, host: '127.0.0.1', servername: 'localhost', port: ours.port, trust });
        return {
          ours: {
            process: ours,
            async once() {
              (await connect()).close();
            },
            async probe() {
              const c = await connect();
              const n = c.channelNegotiated;
              c.close();
              return { protocol: `channel ${n?.keyExchange ?? '?'}`, cipher: n?.cipher ?? null };
            },
          },
          baseline: tlsEndpoint(base, benchClientTls(tls13, pki)),
        };
      }),
  };
}

/** The handshake table. Add a row here to measure it. */
export const HANDSHAKE_ROWS: HandshakeRow[] = [
  tlsRow('tls13-x25519-rsa2048', 'TLS 1.3, X25519, RSA-2048 cert', 'rsa2048', { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', groups: 'X25519' }),
  tlsRow('tls13-x25519-rsa4096', 'TLS 1.3, X25519, RSA-4096 cert', 'rsa4096', { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', groups: 'X25519' }),
  tlsRow('tls12-ecdhe-rsa2048', 'TLS 1.2, ECDHE (X25519), RSA-2048', 'rsa2048', { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', groups: 'X25519' }),
  tlsRow('tls12-rsa-kx-rsa2048', 'TLS 1.2, RSA key exchange, RSA-2048', 'rsa2048', { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' }),
  channelRow('channel-rsa', 'secure channel, rsa (RSA-OAEP key wrap)', 'rsa'),
  channelRow('channel-ecdhe-signed', 'secure channel, ecdhe-signed (X25519 + RSA sig)', 'ecdhe-signed'),
];

/** Options of {@link measureRate}. */
export interface RateOptions {
  /** Handshakes in flight at once. */
  concurrency: number;
  /** Stop starting new handshakes after this long, ms. */
  durationMs: number;
  /** Stop after this many handshakes. */
  maxCount: number;
}

/**
 * Drives `ep` with `concurrency` loops, each doing one handshake after another until `endAt`
 * (performance.now() ms) or `maxCount` handshakes in all.
 * @returns the handshakes completed
 * @throws the first handshake failure
 */
async function driveHandshakes(ep: HandshakeEndpoint, opts: RateOptions, endAt: number): Promise<number> {
  let count = 0;
  const loop = async () => {
    while (performance.now() < endAt && count < opts.maxCount) {
      await ep.once();
      count++;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, loop));
  return count;
}

/** Server CPU time (user + system) per handshake, µs. */
function cpuPerHandshakeUs(st: { cpuUserUs: number; cpuSystemUs: number }, count: number): number {
  return Math.round((st.cpuUserUs + st.cpuSystemUs) / Math.max(1, count));
}

/**
 * Handshakes per second of one endpoint: `concurrency` loops each doing one handshake after
 * another until the time or count runs out.
 * @returns the rate, and the server's CPU time per handshake in µs when its process is known
 * @throws the first handshake failure
 */
export async function measureRate(ep: HandshakeEndpoint, opts: RateOptions): Promise<{ perSec: number; serverCpuUs: number | null }> {
  await ep.process?.resetPeak();
  const t0 = performance.now();
  const count = await driveHandshakes(ep, opts, t0 + opts.durationMs);
  const perSec = Math.round((count / (performance.now() - t0)) * 1000 * 10) / 10;
  const st = await ep.process?.stats();
  return { perSec, serverCpuUs: st ? cpuPerHandshakeUs(st, count) : null };
}

/**
 * Server CPU per handshake of two endpoints measured side by side: both servers are driven at
 * once, `concurrency` loops each, for `durationMs`, so whatever else the machine does in that
 * slice (other processes, CPU frequency, cache pressure) falls on both alike. Measured back to
 * back instead, one server's slice could land in a quiet moment and the other's in a busy one:
 * on this shared two-core machine a baseline-against-itself control spread 0.73–1.34 per pair
 * that way, 0.85–1.07 side by side (docs/performance.md).
 * @returns each server's CPU time (user + system) per handshake in the slice, µs
 * @throws the first handshake failure; Error when an endpoint has no process to read CPU from
 */
export async function measureCpuSideBySide(a: HandshakeEndpoint, b: HandshakeEndpoint, opts: RateOptions): Promise<{ aUs: number; bUs: number }> {
  if (!a.process || !b.process) throw new Error('side-by-side CPU needs both servers in processes of their own');
  await Promise.all([a.process.resetPeak(), b.process.resetPeak()]);
  const endAt = performance.now() + opts.durationMs;
  const [countA, countB] = await Promise.all([driveHandshakes(a, opts, endAt), driveHandshakes(b, opts, endAt)]);
  const [sa, sb] = await Promise.all([a.process.stats(), b.process.stats()]);
  return { aUs: cpuPerHandshakeUs(sa, countA), bUs: cpuPerHandshakeUs(sb, countB) };
}

/** Options of {@link benchHandshakes}. */
export interface HandshakeBenchOptions extends RateOptions {
  repeats: number;
  /** Side-by-side slices for the server CPU comparison ({@link measureCpuSideBySide}); default `repeats`. */
  cpuSlices?: number;
  rows?: HandshakeRow[];
  log?: (line: string) => void;
}

/**
 * Runs every row: a warm-up, then `repeats` rate measurements of ours and the baseline in ABBA
 * order, then `cpuSlices` side-by-side slices for the server CPU per handshake.
 */
export async function benchHandshakes(pki: BenchPki, opts: HandshakeBenchOptions): Promise<HandshakeRowResult[]> {
  const out: HandshakeRowResult[] = [];
  for (const row of opts.rows ?? HANDSHAKE_ROWS) {
    opts.log?.(`handshakes: ${row.label}`);
    const s = await row.setup(pki);
    try {
      const negotiated = await s.ours.probe();
      const warm = { ...opts, durationMs: Math.min(200, opts.durationMs) };
      await measureRate(s.ours, warm);
      if (s.baseline) await measureRate(s.baseline, warm);
      const ours: number[] = [];
      const base: number[] = [];
      // Rates: short alternating slices, ours first then the baseline first (ABBA), so drift and
      // order effects hit both alike (statistics.ts counterbalancedRatio).
      for (let r = 0; r < opts.repeats; r++) {
        if (r % 2 === 0 || !s.baseline) ours.push((await measureRate(s.ours, opts)).perSec);
        if (s.baseline) base.push((await measureRate(s.baseline, opts)).perSec);
        if (r % 2 === 1 && s.baseline) ours.push((await measureRate(s.ours, opts)).perSec);
      }
      // Server CPU per handshake: side-by-side slices (both servers loaded at once), the ratio
      // the median of the per-slice ratios. Without a baseline, ours alone.
      const oursCpu: number[] = [];
      const baseCpu: number[] = [];
      for (let r = 0; r < (opts.cpuSlices ?? opts.repeats); r++) {
        if (s.baseline && s.ours.process && s.baseline.process) {
          const { aUs, bUs } = await measureCpuSideBySide(s.ours, s.baseline, opts);
          oursCpu.push(aUs);
          baseCpu.push(bUs);
        } else {
          const m = await measureRate(s.ours, opts);
          if (m.serverCpuUs !== null) oursCpu.push(m.serverCpuUs);
        }
      }
      const runs = (rates: number[], cpu: number[]): RateRuns => ({ perSec: median(rates), runs: rates, serverCpuUsPerHandshake: cpu.length ? median(cpu) : null, cpuRuns: cpu });
      const o = runs(ours, oursCpu);
      const b: RateRuns | null = s.baseline ? runs(base, baseCpu) : null;
      const cpuRatio = b && oursCpu.length && baseCpu.length === oursCpu.length ? pairedRatio(oursCpu, baseCpu) : null;
      out.push({ id: row.id, label: row.label, negotiated, ours: o, baseline: b, ratio: b ? counterbalancedRatio(o.runs, b.runs) : null, cpuRatio });
    } finally {
      await s.teardown();
    }
  }
  return out;
}

