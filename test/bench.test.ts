/**
 * The benchmark's plumbing, at toy size (its figures are not asserted: performance lives in the
 * benchmark, not in tests): every suite runs end to end through child processes, the report has
 * its documented shape, targets are judged, and the CLI writes the JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../cli/main.ts';
import { BENCH_PLANS, BENCH_SUITES, judge, runBench, type BenchPlan } from '../bench/run.ts';
import { HANDSHAKE_ROWS, measureCpuSideBySide, type HandshakeEndpoint } from '../bench/handshake.ts';
import type { ServerProcess } from '../bench/child.ts';
import { counterbalancedRatio, median, pairedRatio, percentile } from '../bench/statistics.ts';
import { renderBench } from '../bench/render.ts';
import { renderBenchMarkdown } from '../bench/markdown.ts';
import { BENCH_SCHEMA_VERSION } from '../bench/results.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-bench-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench helpers', () => {
  it('median and nearest-rank percentile', () => {
    expect(median([])).toBe(0);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 99), percentile(sorted, 100), percentile([7], 99)]).toEqual([50, 99, 100, 7]);
  });

  it('pairs back-to-back runs, so a slow spell that hits both sides cancels out', () => {
    // The machine slows down halfway; each pair still says "a is 0.9 of b".
    expect(pairedRatio([90, 90, 45, 45, 45], [100, 100, 50, 50, 50])).toBe(0.9);
    expect(median([90, 90, 45, 45, 45]) / median([100, 100, 50, 50, 50])).toBe(0.9); // here too, but:
    expect(pairedRatio([90, 45, 45], [100, 100, 50])).toBe(0.9);
    // An order effect (+15 % on whichever side runs first) cancels within ABBA blocks…
    expect(counterbalancedRatio([115, 100, 115, 100], [100, 115, 100, 115])).toBe(1);
    // …where the median of per-pair ratios keeps half of it.
    expect(pairedRatio([115, 100, 115, 100, 115], [100, 115, 100, 115, 100])).toBe(1.15);
    expect(counterbalancedRatio([110, 110, 55], [100, 100, 50])).toBe(1.1);
    expect(counterbalancedRatio([], [])).toBe(0);
    expect(median([90, 45, 45]) / median([100, 100, 50])).toBe(0.45); // ratio of medians misleads
  });

  it('judges each target, and leaves unmeasured ones open', () => {
    const t = judge({ fanoutThroughput: 0.79, fanoutP99Latency: 1.5, handshakeRate: 0.95, mitmPassiveThroughput: null, idleRss: 2.3, handshakeCpu: 1.1, cliHelpSeconds: 0.21, cliHelpRssMiB: 59.9 });
    expect(t.map((x) => [x.name, x.met])).toEqual([
      ['fanoutThroughput', false],
      ['fanoutP99Latency', true],
      ['handshakeRate', true],
      ['idleRss', false],
      ['handshakeCpu', true],
      ['cliHelpSeconds', false],
      ['cliHelpRssMiB', true],
      ['mitmPassiveThroughput', null],
    ]);
  });

  it('side-by-side CPU slices drive both servers at the same time and divide each CPU by its own count', async () => {
    // Fake endpoints: each handshake takes 2 ms and costs its server a fixed CPU time.
    const fake = (cpuUsPerHandshake: number) => {
      let count = 0;
      const spans: Array<[number, number]> = [];
      const process = {
        resetPeak: async () => void (count = 0),
        stats: async () => ({ cpuUserUs: cpuUsPerHandshake * count * 0.75, cpuSystemUs: cpuUsPerHandshake * count * 0.25 }),
      } as unknown as ServerProcess;
      const ep: HandshakeEndpoint = {
        process,
        once: async () => {
          const t = performance.now();
          await new Promise((r) => setTimeout(r, 2));
          count++;
          spans.push([t, performance.now()]);
        },
        probe: async () => ({ protocol: null, cipher: null }),
      };
      return { ep, spans, count: () => count };
    };
    const a = fake(1200);
    const b = fake(1000);
    const m = await measureCpuSideBySide(a.ep, b.ep, { concurrency: 2, durationMs: 60, maxCount: 1000 });
    expect(m).toEqual({ aUs: 1200, bUs: 1000 });
    expect(a.count()).toBeGreaterThan(2);
    expect(b.count()).toBeGreaterThan(2);
    // Side by side: B's handshakes ran while A's did (not one slice after the other).
    const [aStart, aEnd] = [Math.min(...a.spans.map((x) => x[0])), Math.max(...a.spans.map((x) => x[1]))];
    expect(b.spans.some(([t0, t1]) => t0 < aEnd && t1 > aStart && t0 > aStart)).toBe(true);
    await expect(measureCpuSideBySide({ ...a.ep, process: undefined }, b.ep, { concurrency: 1, durationMs: 5, maxCount: 1 })).rejects.toThrow(/processes of their own/);
  });

  it('the handshake table has the four TLS rows and the two channel rows with unique ids; quick mode has no 1,000-client room', () => {
    expect(HANDSHAKE_ROWS.map((r) => r.id)).toEqual(['tls13-x25519-rsa2048', 'tls13-x25519-rsa4096', 'tls12-ecdhe-rsa2048', 'tls12-rsa-kx-rsa2048', 'channel-rsa', 'channel-ecdhe-signed']);
    expect(HANDSHAKE_ROWS.filter((r) => r.sameSuite === false).map((r) => r.id)).toEqual(['channel-rsa', 'channel-ecdhe-signed']);
    expect(BENCH_PLANS.quick.fanout.sizes).not.toContain(1000);
    expect(BENCH_PLANS.full.fanout.sizes).toContain(1000);
  });
});

describe('a whole run at toy size', () => {
  it('runs every suite through child processes and reports every ratio', async () => {
    const shape = { repeats: 1, deliveriesPerRun: 40, window: 4, textChars: 40, runTimeoutMs: 20_000 };
    const plan: BenchPlan = {
      handshake: { repeats: 1, durationMs: 30, concurrency: 2, maxCount: 20 },
      fanout: { sizes: [5], shape },
      mitm: { clients: 5, shape },
      crypto: { repeats: 1, durationMs: 10 },
      startup: { runs: 1 },
    };
    const lines: string[] = [];
    // The start-up suite spawns CLI processes: it has its own test below, so this one keeps its size.
    const r = await runBench({ mode: 'quick', plan, log: (l) => lines.push(l), suites: BENCH_SUITES.filter((x) => x !== 'startup') });
    expect(r.schemaVersion).toBe(BENCH_SCHEMA_VERSION);
    expect(r.machine.nproc).toBeGreaterThan(0);
    expect(r.handshakes!.map((h) => h.negotiated.protocol)).toEqual(['TLSv1.3', 'TLSv1.3', 'TLSv1.2', 'TLSv1.2', 'channel rsa', 'channel ecdhe-signed']);
    expect(r.handshakes![3]!.negotiated.cipher).toBe('TLS_RSA_WITH_AES_128_GCM_SHA256'); // RSA key exchange, really
    for (const s of [r.fanout![0]!.ours, r.fanout![0]!.baseline, r.mitm!.direct, r.mitm!.proxied]) {
      expect(s).toMatchObject({ lost: 0, reordered: 0, duplicates: 0, incompleteRuns: 0 });
      expect(s.peakRssBytes).toBeGreaterThan(0);
    }
    expect(r.crypto!.rsaOaep2048.maxPlaintextBytes).toBe(190);
    expect(r.ratios.handshakeRate).toBeGreaterThan(0);
    expect(r.ratios.mitmPassiveThroughput).toBeGreaterThan(0);
    expect(r.ratios.fanoutThroughput).toBeNull(); // measured at 100 clients only
    expect(r.ratios.idleRss).toBeNull(); // measured at 100 clients only
    expect(r.ratios.handshakeCpu).toBeGreaterThan(0);
    for (const h of r.handshakes!) {
      // The CPU ratio is the median of the side-by-side slices' ratios, one slice per pair.
      expect(h.ours.cpuRuns.length).toBeGreaterThan(0);
      expect(h.baseline!.cpuRuns).toHaveLength(h.ours.cpuRuns.length);
      expect(h.cpuRatio).toBe(pairedRatio(h.ours.cpuRuns, h.baseline!.cpuRuns));
    }
    expect(r.targets).toHaveLength(8);
    const text = renderBench(r);
    expect(text).toMatch(/TLS 1\.2, RSA key exchange/);
    expect(text).toMatch(/through passive MITM/);
    expect(lines.length).toBeGreaterThan(3);
  }, 150_000); // a bound, not a measurement: child processes start slowly on a loaded machine

  it('the start-up suite times `secchat --help` against `node -e 0` and judges both targets', async () => {
    const plan = { ...BENCH_PLANS.quick, startup: { runs: 1 } };
    const r = await runBench({ mode: 'quick', plan, suites: ['startup'] });
    expect(r.startup!.runs).toBe(1);
    expect(r.startup!.cliHelp.wallMs).toBeGreaterThan(0);
    expect(r.startup!.cliHelp.peakRssBytes).toBeGreaterThan(r.startup!.nodeBare.peakRssBytes); // --help loads commander at least
    expect(r.ratios.cliHelpRssMiB).toBeCloseTo(r.startup!.cliHelp.peakRssBytes / 2 ** 20, 0);
    expect(r.targets.filter((t) => t.met !== null).map((t) => t.name).sort()).toEqual(['cliHelpRssMiB', 'cliHelpSeconds']);
    expect(renderBench(r)).toMatch(/secchat --help/);
    expect(renderBenchMarkdown(r)).toMatch(/node -e 0/);
  }, 60_000);

  it('`secchat bench crypto --quick --json --out FILE` prints and writes the report', async () => {
    const file = path.join(dir, 'crypto.json');
    let out = '';
    const code = await main(['node', 'secchat', 'bench', 'crypto', '--quick', '--json', '--out', file], { out: (t) => (out += t), err: () => {}, interactive: false });
    expect(code).toBe(0);
    const printed = JSON.parse(out);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(printed);
    expect(printed.suites).toEqual(['crypto']);
    expect(printed.crypto.ratios.bulkVsRsaDecrypt).toBeGreaterThan(1);
  });
});
