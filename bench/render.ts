/**
 * Terminal renderer of a {@link BenchReport}: one cli-table3 table per suite, then the targets.
 * Words carry every verdict (colour, when on, only repeats them).
 */
import Table from 'cli-table3';
import type { BenchReport, FanoutSummary } from './results.ts';

import { fmt, mib, orDash, rate } from './format.ts';

function table(head: string[], colour: boolean): Table.Table {
  return new Table({ head, style: { head: colour ? ['cyan'] : [], border: colour ? ['grey'] : [] } });
}

function integrity(s: FanoutSummary): string {
  const bad = s.lost + s.reordered + s.duplicates + s.misattributed + s.incompleteRuns;
  return bad === 0 ? 'none lost' : `LOST ${s.lost}, reordered ${s.reordered}, dup ${s.duplicates}, wrong ${s.misattributed}, incomplete runs ${s.incompleteRuns}`;
}

/**
 * Renders the report as text tables.
 * @param opts.colour ANSI colours (only for a terminal)
 */
export function renderBench(r: BenchReport, opts: { colour?: boolean } = {}): string {
  const colour = !!opts.colour;
  const out: string[] = [];
  const m = r.machine;
  out.push(`secchat bench (${r.mode}) — ${m.nproc} CPUs (${m.cpuModel}), node ${m.node}, OpenSSL ${m.openssl}, load average ${m.loadAverageStart[0]} → ${m.loadAverageEnd[0] ?? '?'}; medians of repeated runs`);

  if (r.startup) {
    const x = r.startup;
    const t = table([`start-up (${x.compiled ? 'compiled dist/' : 'sources through tsx'}), median of ${x.runs}`, 'wall ms', 'peak RSS MiB'], colour);
    t.push(['node -e 0', fmt(x.nodeBare.wallMs, 1), mib(x.nodeBare.peakRssBytes)], ['secchat --help', fmt(x.cliHelp.wallMs, 1), mib(x.cliHelp.peakRssBytes)], ['ratio', fmt(x.wallRatio, 2), fmt(x.rssRatio, 2)]);
    out.push(t.toString());
  }

  if (r.crypto) {
    const c = r.crypto;
    const t = table(['crypto (node:crypto)', 'operations/s', 'throughput'], colour);
    t.push(
      [`RSA-2048 OAEP-SHA256 encrypt (${c.rsaOaep2048.maxPlaintextBytes} B)`, fmt(c.rsaOaep2048.encryptOpsPerSec), rate(c.rsaOaep2048.encryptBytesPerSec)],
      [`RSA-2048 OAEP-SHA256 decrypt (${c.rsaOaep2048.maxPlaintextBytes} B)`, fmt(c.rsaOaep2048.decryptOpsPerSec), rate(c.rsaOaep2048.decryptBytesPerSec)],
      [`AES-256-GCM, ${c.aes256gcm.messageBytes} B messages`, fmt(c.aes256gcm.messagesPerSec), rate(c.aes256gcm.bytesPerSec)],
      [`AES-256-GCM, ${c.aes256gcm.bulkChunkBytes / 1024} KiB chunks`, fmt(c.aes256gcm.bulkBytesPerSec / c.aes256gcm.bulkChunkBytes), rate(c.aes256gcm.bulkBytesPerSec)],
    );
    out.push(t.toString());
    out.push(
      `AES-256-GCM moves ${fmt(c.ratios.bulkVsRsaEncrypt)}× the bytes/s of RSA-2048-OAEP encryption and ${fmt(c.ratios.bulkVsRsaDecrypt)}× those of decryption ` +
        `(${fmt(c.ratios.perMessageVsRsaEncrypt, 1)}× and ${fmt(c.ratios.perMessageVsRsaDecrypt)}× with one node:crypto call per ${c.aes256gcm.messageBytes}-byte message, where call overhead dominates).`,
    );
  }

  if (r.handshakes) {
    const t = table(['handshake profile', 'negotiated', 'secchat /s', 'baseline /s', 'ratio', 'server CPU µs/hs (secchat / baseline)'], colour);
    for (const h of r.handshakes) {
      t.push([h.label, `${h.negotiated.protocol} ${h.negotiated.cipher}`, fmt(h.ours.perSec), h.baseline ? fmt(h.baseline.perSec) : '—', h.ratio === null ? '—' : fmt(h.ratio, 2), `${orDash(h.ours.serverCpuUsPerHandshake)} / ${orDash(h.baseline?.serverCpuUsPerHandshake)}${h.cpuRatio === null ? '' : ` (×${h.cpuRatio.toFixed(2)})`}`]);
    }
    out.push(t.toString());
    out.push('ratio = median over ABBA blocks of back-to-back slices (order and drift cancel on a shared machine), not the ratio of the two medians; secure-channel rows: the baseline column is a TLS 1.3 X25519 handshake with the same certificate (docs/performance.md).');
  }

  if (r.fanout) {
    const t = table(['clients', 'server', 'deliveries/s', 'p50 ms', 'p99 ms', 'peak RSS MiB', 'server CPU %', 'CPU µs/delivery', 'integrity'], colour);
    for (const f of r.fanout) {
      for (const [name, s] of [['baseline', f.baseline], ['secchat', f.ours]] as const) {
        t.push([fmt(f.clients), name, fmt(s.deliveriesPerSec), fmt(s.latencyP50Ms, 2), fmt(s.latencyP99Ms, 2), mib(s.peakRssBytes), fmt(s.serverCpuPercent), fmt(s.serverCpuUsPerDelivery, 2), integrity(s)]);
      }
      t.push(['', 'ratio', fmt(f.throughputRatio, 2), '', fmt(f.p99LatencyRatio, 2), '', '', fmt(f.ours.serverCpuUsPerDelivery / f.baseline.serverCpuUsPerDelivery, 2), '']);
      const d = f.oursWithDms;
      t.push(['', 'secchat + dms', fmt(d.deliveriesPerSec), fmt(d.latencyMs.p50, 2), fmt(d.latencyMs.p99, 2), '', '', '', d.lost + d.reordered + d.duplicates + d.misattributed === 0 && !d.incomplete ? `none lost (${fmt(d.dms)} dms)` : `LOST ${d.lost}, reordered ${d.reordered}`]);
    }
    out.push(t.toString());
  }

  if (r.mitm) {
    const x = r.mitm;
    const t = table([`${x.clients} clients`, 'deliveries/s', 'p50 ms', 'p99 ms', 'integrity'], colour);
    t.push(['direct to secchat', fmt(x.direct.deliveriesPerSec), fmt(x.direct.latencyP50Ms, 2), fmt(x.direct.latencyP99Ms, 2), integrity(x.direct)]);
    t.push(['through passive MITM', fmt(x.proxied.deliveriesPerSec), fmt(x.proxied.latencyP50Ms, 2), fmt(x.proxied.latencyP99Ms, 2), integrity(x.proxied)]);
    t.push(['ratio', fmt(x.throughputRatio, 2), '', fmt(x.p99LatencyRatio, 2), '']);
    out.push(t.toString());
  }

  const t = table(['target', 'ratio', 'wanted', 'met'], colour);
  for (const c of r.targets) {
    const met = c.met === null ? 'not measured' : c.met ? 'yes' : 'NO';
    const shown = colour && c.met !== null ? (c.met ? `\x1b[32m${met}\x1b[0m` : `\x1b[31;1m${met}\x1b[0m`) : met;
    t.push([c.description, c.ratio === null ? '—' : fmt(c.ratio, 2), c.target, shown]);
  }
  out.push(t.toString());
  out.push(`${(r.durationMs / 1000).toFixed(1)} s`);
  return out.join('\n');
}
