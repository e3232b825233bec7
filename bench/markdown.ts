/**
 * Markdown renderer of a {@link BenchReport}: the tables of docs/performance.md, so the page can
 * be regenerated from any run's JSON (`secchat bench --markdown FILE`).
 */
import type { BenchReport, FanoutSummary } from './results.ts';

import { fmt as n, mib, orDash as cpu, rate } from './format.ts';
const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
const head = (cells: string[]) => [row(cells), row(cells.map(() => '---'))];
const lossText = (s: FanoutSummary) => (s.lost + s.reordered + s.duplicates + s.misattributed + s.incompleteRuns === 0 ? '0 lost, 0 reordered' : `**${s.lost} lost, ${s.reordered} reordered, ${s.duplicates} duplicated**`);

/** The report's tables as Markdown (no prose). */
export function renderBenchMarkdown(r: BenchReport): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(`Run: \`${r.command}\` (${r.mode}), ${r.startedAt}, ${(r.durationMs / 1000).toFixed(0)} s. Machine: ${m.nproc} CPUs (${m.cpuModel}), ${n(m.totalMemBytes / 2 ** 30, 0)} GiB, ${m.platform} ${m.kernel}, node ${m.node}, OpenSSL ${m.openssl}; load average ${m.loadAverageStart.join(' / ')} at start, ${m.loadAverageEnd.join(' / ')} at end.`, '');
  if (r.targets.length) {
    out.push(...head(['Target', 'Ratio', 'Wanted', 'Met']));
    for (const t of r.targets) out.push(row([t.description, t.ratio === null ? '—' : n(t.ratio, 2), `${t.target.replace('>=', '≥').replace('<=', '≤')}`, t.met === null ? 'not measured' : t.met ? 'yes' : '**no**']));
    out.push('');
  }
  if (r.handshakes) {
    out.push(...head(['Handshake', 'Negotiated', 'secchat /s', 'baseline /s', 'Ratio', 'Server CPU per handshake, µs (secchat / baseline)']));
    for (const h of r.handshakes) {
      out.push(row([h.label, `${h.negotiated.protocol} ${h.negotiated.cipher}`, n(h.ours.perSec), h.baseline ? n(h.baseline.perSec) : '—', h.ratio === null ? '—' : n(h.ratio, 2), `${cpu(h.ours.serverCpuUsPerHandshake)} / ${cpu(h.baseline?.serverCpuUsPerHandshake)}${h.cpuRatio === null ? '' : ` (×${h.cpuRatio.toFixed(2)})`}`]));
    }
    out.push('');
  }
  if (r.fanout) {
    out.push(...head(['Clients', 'Server', 'Deliveries/s', 'p50 ms', 'p99 ms', 'Peak RSS MiB (idle)', 'Server CPU µs/delivery', 'Setup s', 'Integrity']));
    for (const f of r.fanout) {
      for (const [name, s] of [['baseline', f.baseline], ['secchat', f.ours]] as const) {
        out.push(row([n(f.clients), name, n(s.deliveriesPerSec), n(s.latencyP50Ms, 2), n(s.latencyP99Ms, 2), `${mib(s.peakRssBytes)} (${mib(s.idleRssBytes)})`, n(s.serverCpuUsPerDelivery, 2), n(s.setupMs / 1000, 1), lossText(s)]));
      }
      out.push(row([n(f.clients), '*secchat ÷ baseline*', `*${n(f.throughputRatio, 2)}*`, '', `*${n(f.p99LatencyRatio, 2)}*`, '', `*${n(f.ours.serverCpuUsPerDelivery / f.baseline.serverCpuUsPerDelivery, 2)}*`, '', '']));
      const d = f.oursWithDms;
      const ok = d.lost + d.reordered + d.duplicates + d.misattributed === 0 && !d.incomplete;
      out.push(row([n(f.clients), `secchat, 1 in 3 a dm, ${Math.min(8, f.clients)} senders (1 run)`, n(d.deliveriesPerSec), n(d.latencyMs.p50, 2), n(d.latencyMs.p99, 2), '', '', '', ok ? `0 lost, 0 reordered (${n(d.dms)} dms)` : `**${d.lost} lost, ${d.reordered} reordered**`]));
    }
    out.push('');
  }
  if (r.mitm) {
    const x = r.mitm;
    out.push(...head([`${x.clients} clients`, 'Deliveries/s', 'p50 ms', 'p99 ms', 'Integrity']));
    out.push(row(['direct to secchat', n(x.direct.deliveriesPerSec), n(x.direct.latencyP50Ms, 2), n(x.direct.latencyP99Ms, 2), lossText(x.direct)]));
    out.push(row(['through the passive MITM', n(x.proxied.deliveriesPerSec), n(x.proxied.latencyP50Ms, 2), n(x.proxied.latencyP99Ms, 2), lossText(x.proxied)]));
    out.push(row(['*proxied ÷ direct*', `*${n(x.throughputRatio, 2)}*`, '', `*${n(x.p99LatencyRatio, 2)}*`, '']));
    out.push('');
  }
  if (r.startup) {
    const x = r.startup;
    out.push(...head([`Start-up (${x.compiled ? 'compiled dist/' : 'sources through tsx'}), median of ${x.runs}`, 'Wall ms', 'Peak RSS MiB']));
    out.push(row(['`node -e 0`', n(x.nodeBare.wallMs, 1), mib(x.nodeBare.peakRssBytes)]));
    out.push(row(['`secchat --help`', n(x.cliHelp.wallMs, 1), mib(x.cliHelp.peakRssBytes)]));
    out.push(row(['*ratio*', `*${n(x.wallRatio, 2)}*`, `*${n(x.rssRatio, 2)}*`]));
    out.push('');
  }
  if (r.crypto) {
    const c = r.crypto;
    out.push(...head(['Operation (node:crypto)', 'Operations/s', 'Throughput']));
    out.push(row([`RSA-2048 OAEP-SHA256 encrypt, ${c.rsaOaep2048.maxPlaintextBytes} B`, n(c.rsaOaep2048.encryptOpsPerSec), rate(c.rsaOaep2048.encryptBytesPerSec)]));
    out.push(row([`RSA-2048 OAEP-SHA256 decrypt, ${c.rsaOaep2048.maxPlaintextBytes} B`, n(c.rsaOaep2048.decryptOpsPerSec), rate(c.rsaOaep2048.decryptBytesPerSec)]));
    out.push(row([`AES-256-GCM, one call per ${c.aes256gcm.messageBytes} B message`, n(c.aes256gcm.messagesPerSec), rate(c.aes256gcm.bytesPerSec)]));
    out.push(row([`AES-256-GCM, ${c.aes256gcm.bulkChunkBytes / 1024} KiB chunks`, n(c.aes256gcm.bulkBytesPerSec / c.aes256gcm.bulkChunkBytes), rate(c.aes256gcm.bulkBytesPerSec)]));
    out.push('');
    out.push(`AES-256-GCM ÷ RSA-OAEP, bytes/s: ${n(c.ratios.bulkVsRsaEncrypt)}× encryption and ${n(c.ratios.bulkVsRsaDecrypt)}× decryption (bulk); ${n(c.ratios.perMessageVsRsaEncrypt, 1)}× and ${n(c.ratios.perMessageVsRsaDecrypt)}× with one call per 190-byte message.`, '');
  }
  return out.join('\n');
}
