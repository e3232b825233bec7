/**
 * Child-process entry of the benchmark: runs one server — secchat's (startChatServer), the
 * baseline (bench/baseline-server.ts) or the MITM proxy (attacks/proxy.ts, relay addon) — in a
 * process of its own, so its CPU time and memory are its own and not the load generator's.
 *
 * Protocol (JSON Lines): argv[2] is the path of a {@link ServerProcessConfig} JSON file. The child
 * prints `{"ready":true,"port":N}` once listening, then answers lines on stdin:
 *   `stats`      → `{"stats":{...ProcessStats}}`
 *   `reset-peak` → `{"ok":true}` (starts a new peak-RSS measurement)
 *   `exit`       → closes the server and exits 0
 * Parent side: bench/child.ts.
 */
import { readFileSync } from 'node:fs';
import readline from 'node:readline';
import type { Profile } from '../core/profile.ts';
import type { CertKeyPem } from '../core/tls/node-options.ts';
import { startChatServer, type ServerLimits } from '../server/chat-server.ts';
import { startBaselineServer } from './baseline-server.ts';
import { ProxyEngine } from '../attacks/proxy.ts';
import type tls from 'node:tls';

/** What the child runs. */
export type ServerProcessConfig =
  | { kind: 'secchat'; profile: Profile; identity: CertKeyPem; dbPath: string; limits?: Partial<ServerLimits> }
  | { kind: 'baseline'; tls: tls.TlsOptions | null }
  | { kind: 'proxy'; upstream: { host: string; port: number } };

/** Resource figures of the child, sampled by itself. */
export interface ProcessStats {
  /** Resident set size now, bytes. */
  rssBytes: number;
  /** Highest RSS sampled since start or the last `reset-peak`, bytes (sampled every {@link SAMPLE_MS} ms). */
  peakRssBytes: number;
  /**
   * The kernel's peak RSS of this process since it started (Linux /proc/self/status VmHWM), bytes;
   * 0 where unavailable. Not getrusage's ru_maxrss: Linux carries that across fork and exec, so a
   * child would report its parent's peak.
   */
  maxRssBytes: number;
  heapUsedBytes: number;
  /** CPU time since start or the last `reset-peak`, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Wall time since start or the last `reset-peak`, ms. */
  wallMs: number;
  /** Open client connections (the proxy reports live proxied connections). */
  connections: number;
}

/** RSS sampling period, ms: short enough to catch a fan-out burst's peak. */
export const SAMPLE_MS = 20;

/** VmHWM from /proc/self/status in bytes, or 0 off Linux. */
function highWaterMarkBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ServerProcessConfig;
  let port: number;
  let connections: () => number;
  let close: () => Promise<void>;
  if (config.kind === 'secchat') {
    const s = await startChatServer({ profile: config.profile, identity: config.identity, dbPath: config.dbPath, limits: config.limits });
    ({ port } = s);
    connections = () => s.connectionCount();
    close = () => s.close();
  } else if (config.kind === 'baseline') {
    const s = await startBaselineServer({ tls: config.tls });
    ({ port } = s);
    connections = () => s.connectionCount();
    close = () => s.close();
  } else {
    const p = await ProxyEngine.start({ upstream: config.upstream, addon: { name: 'relay' }, upstreamServername: 'localhost' });
    port = p.port;
    connections = () => p.connections.filter((c) => c.endedAtMs === null).length;
    close = () => p.close();
  }

  let peak = 0;
  let cpu0 = process.cpuUsage();
  let wall0 = performance.now();
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  };
  sample();
  setInterval(sample, SAMPLE_MS).unref();

  const reply = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');
  reply({ ready: true, port });
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const cmd = line.trim();
    if (cmd === 'stats') {
      sample();
      const cpu = process.cpuUsage(cpu0);
      const stats: ProcessStats = {
        rssBytes: process.memoryUsage.rss(),
        peakRssBytes: peak,
        maxRssBytes: highWaterMarkBytes(),
        heapUsedBytes: process.memoryUsage().heapUsed,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        wallMs: performance.now() - wall0,
        connections: connections(),
      };
      reply({ stats });
    } else if (cmd === 'reset-peak') {
      peak = 0;
      sample();
      cpu0 = process.cpuUsage();
      wall0 = performance.now();
      reply({ ok: true });
    } else if (cmd === 'exit') {
      break;
    }
  }
  await close();
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`server-process: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
