/**
 * The benchmark's results: plain JSON with a versioned schema (`secchat bench --json`, and the
 * file `--out` writes). The terminal tables (bench/render.ts) and docs/performance.md are
 * renderings of it. Units are in the field names; every figure over repeated runs is a median.
 */
import type { FanoutResult } from './load.ts';

/** Bumped on any incompatible change to {@link BenchReport}. */
export const BENCH_SCHEMA_VERSION = 1;

/** Where the figures were measured. */
export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  totalMemBytes: number;
  platform: string;
  arch: string;
  kernel: string;
  node: string;
  openssl: string;
  /** 1/5/15-minute load averages when the run started and ended: other work on the machine shows here. */
  loadAverageStart: number[];
  loadAverageEnd: number[];
}

/** Handshakes per second against one server, over repeated runs. */
export interface RateRuns {
  /** Median of `runs`, handshakes per second. */
  perSec: number;
  runs: number[];
  /** Median server CPU time (user + system) per handshake, µs, or null when not measurable. */
  serverCpuUsPerHandshake: number | null;
  /**
   * Server CPU µs per handshake of each CPU slice (empty when not measurable). With a baseline
   * these are side-by-side slices (bench/handshake.ts measureCpuSideBySide), index i of ours
   * measured at the same time as index i of the baseline; they are not the rate slices of `runs`.
   */
  cpuRuns: number[];
}

/** One handshake profile: ours vs the baseline with the same certificate and suite. */
export interface HandshakeRowResult {
  id: string;
  label: string;
  /** What was actually negotiated (checked, so a row never measures something else by accident). */
  negotiated: { protocol: string | null; cipher: string | null };
  ours: RateRuns;
  /** Null for rows with no baseline (e.g. the secure channel's own handshakes). */
  baseline: RateRuns | null;
  /** ours ÷ baseline: median over ABBA blocks of back-to-back slices (statistics.ts counterbalancedRatio); null without a baseline. */
  ratio: number | null;
  /**
   * Server CPU per handshake, ours ÷ baseline: median of the per-slice ratios of side-by-side
   * slices (both servers loaded at once, so the machine's state is shared; statistics.ts
   * pairedRatio); null without a baseline or CPU.
   */
  cpuRatio: number | null;
}

/** Medians of one server's fan-out runs at one size. */
export interface FanoutSummary {
  deliveriesPerSec: number;
  messagesPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Sums over all runs: must be 0. */
  lost: number;
  reordered: number;
  duplicates: number;
  misattributed: number;
  disconnected: number;
  /** Runs that hit their time limit or stalled instead of completing: must be 0. */
  incompleteRuns: number;
  /** Server RSS with no client connected, and the process's peak RSS since it started (VmHWM), bytes. */
  idleRssBytes: number;
  peakRssBytes: number;
  /** Server CPU time ÷ wall time during the measured runs (100 = one core busy). */
  serverCpuPercent: number;
  /**
   * Server CPU time (user + system) per delivery during the measured runs, µs: what one delivery
   * costs the server, whether or not the load generator could saturate it.
   */
  serverCpuUsPerDelivery: number;
  /** Time to connect (and log in) every client, ms. */
  setupMs: number;
  runs: FanoutResult[];
}

/** One fan-out size: ours and the baseline. */
export interface FanoutSizeResult {
  clients: number;
  messagesPerRun: number;
  window: number;
  ours: FanoutSummary;
  baseline: FanoutSummary;
  /** One untimed run on our server mixing direct messages (every third) into broadcasts from at most 8 senders. */
  oursWithDms: FanoutResult;
  /** ours ÷ baseline: medians of the ratios of back-to-back runs. */
  throughputRatio: number;
  p99LatencyRatio: number;
}

/** Fan-out through the passive MITM proxy vs straight to the server (both: our server). */
export interface MitmResult {
  clients: number;
  messagesPerRun: number;
  direct: FanoutSummary;
  proxied: FanoutSummary;
  /** proxied ÷ direct: medians of the ratios of back-to-back runs. */
  throughputRatio: number;
  p99LatencyRatio: number;
}

/** `bench crypto`: why chat messages are not encrypted with RSA. */
export interface CryptoResult {
  /** RSA-OAEP (SHA-256, MGF1-SHA-256) with a 2048-bit key: 190 bytes of plaintext per operation at most. */
  rsaOaep2048: { maxPlaintextBytes: number; encryptOpsPerSec: number; decryptOpsPerSec: number; encryptBytesPerSec: number; decryptBytesPerSec: number };
  /** AES-256-GCM, a fresh key schedule and 12-byte IV per message, as a chat would use it. */
  aes256gcm: { messageBytes: number; messagesPerSec: number; bytesPerSec: number; bulkChunkBytes: number; bulkBytesPerSec: number };
  /**
   * AES-GCM bytes/s ÷ RSA-OAEP bytes/s. `bulk*`: AES on 16 KiB chunks (its real speed, as TLS
   * records use it). `perMessage*`: one node:crypto cipher object per 190-byte message, where the
   * JavaScript-to-OpenSSL call overhead, not AES, dominates — the floor of the comparison.
   */
  ratios: { bulkVsRsaEncrypt: number; bulkVsRsaDecrypt: number; perMessageVsRsaEncrypt: number; perMessageVsRsaDecrypt: number };
}

/** `secchat --help` against `node -e 0`, each in fresh processes, alternating (bench/startup.ts). */
export interface StartupResult {
  /** processes of each kind */
  runs: number;
  /** bin/secchat.mjs ran the compiled dist/ (false: the sources through tsx) */
  compiled: boolean;
  /** medians: wall time spawn → exit, ms; the process's own peak RSS, bytes */
  cliHelp: { wallMs: number; peakRssBytes: number; runsWallMs: number[] };
  nodeBare: { wallMs: number; peakRssBytes: number; runsWallMs: number[] };
  /** cliHelp ÷ nodeBare */
  wallRatio: number;
  rssRatio: number;
}

/** One target of the issue, judged. */
export interface TargetCheck {
  name: keyof BenchRatios;
  /** What is compared, in words. */
  description: string;
  /** the measured figure (a ratio, or seconds/MiB for the CLI start-up) */
  ratio: number | null;
  /** e.g. ">= 0.8" */
  target: string;
  /** null when the ratio was not measured in this run. */
  met: boolean | null;
}

/**
 * The headline figures: ratios (ours ÷ baseline at 100 clients; the MITM one is proxied ÷ direct),
 * and the CLI start-up in absolute units (its floor, `node -e 0`, is in {@link StartupResult}).
 */
export interface BenchRatios {
  fanoutThroughput: number | null;
  fanoutP99Latency: number | null;
  /** The lowest ours ÷ baseline over the TLS handshake rows (the conservative figure). */
  handshakeRate: number | null;
  mitmPassiveThroughput: number | null;
  /** Server RSS with 100 idle logged-in clients, secchat ÷ baseline (fan-out suite). */
  idleRss: number | null;
  /** The highest server CPU per handshake, secchat ÷ baseline, over the same-suite TLS rows. */
  handshakeCpu: number | null;
  /** `secchat --help`: median wall time in seconds and peak RSS in MiB (absolute, not ratios). */
  cliHelpSeconds: number | null;
  cliHelpRssMiB: number | null;
}

/** A whole `secchat bench` run. */
export interface BenchReport {
  schemaVersion: number;
  tool: { name: 'secchat'; version: string };
  mode: 'quick' | 'full';
  suites: string[];
  command: string;
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  /** How the load was shaped and what was changed from defaults for it. */
  settings: Record<string, unknown>;
  handshakes?: HandshakeRowResult[];
  fanout?: FanoutSizeResult[];
  mitm?: MitmResult;
  crypto?: CryptoResult;
  startup?: StartupResult;
  ratios: BenchRatios;
  targets: TargetCheck[];
}
