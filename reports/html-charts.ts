/**
 * The charts of the HTML report: horizontal bar charts as inline SVG (no script), with a title and
 * a description for screen readers, and the time chart of one profile's runs.
 * @module
 */
import { esc, fmtMs, outcomeOf } from './html-page.ts';
import { OUTCOME_LABELS, type CellResult, type Outcome } from './results.ts';

/**
 * A horizontal bar chart as inline SVG.
 * @param bars label, value (ms), outcome for the colour (the label carries the outcome word too)
 * @param title accessible title; `unit` printed after each value
 */
function barChart(id: string, title: string, bars: Array<{ label: string; value: number; outcome: Outcome | null }>): string {
  const W = 760;
  const labelW = 250;
  const valueW = 80;
  const barH = 22;
  const gap = 10;
  const top = 8;
  const axisH = 26;
  const plotW = W - labelW - valueW;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const step = niceStep(max);
  const scaleMax = Math.ceil(max / step) * step;
  const H = top + bars.length * (barH + gap) + axisH;
  const fill: Record<string, string> = { succeeded: '#c0392b', blocked: '#1e7b3a', 'not-applicable': '#6b7280', error: '#b7791f', none: '#9aa3af' };
  const x = (v: number) => labelW + (v / scaleMax) * plotW;
  const ticks: string[] = [];
  for (let v = 0; v <= scaleMax + 1e-9; v += step) {
    ticks.push(`<line class="gridline" x1="${x(v)}" y1="${top - 4}" x2="${x(v)}" y2="${H - axisH}"/><text x="${x(v)}" y="${H - 8}" text-anchor="middle">${esc(v.toLocaleString('en'))}</text>`);
  }
  const rows = bars.map((b, i) => {
    const y = top + i * (barH + gap);
    const w = Math.max(2, (b.value / scaleMax) * plotW);
    const word = b.outcome ? OUTCOME_LABELS[b.outcome] : 'not run';
    return `<g><text class="mono" x="${labelW - 10}" y="${y + barH / 2 + 4}" text-anchor="end">${esc(b.label)} (${esc(word)})</text><rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" rx="3" fill="${fill[b.outcome ?? 'none']}"/><text x="${(labelW + w + 6).toFixed(1)}" y="${y + barH / 2 + 4}">${esc(fmtMs(b.value))}</text></g>`;
  });
  const desc = bars.map((b) => `${b.label}: ${fmtMs(b.value)}`).join('; ');
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}-t ${id}-d" xmlns="http://www.w3.org/2000/svg"><title id="${id}-t">${esc(title)}</title><desc id="${id}-d">${esc(desc)}</desc>${ticks.join('')}<line class="axis" x1="${labelW}" y1="${top - 4}" x2="${labelW}" y2="${H - axisH}"/>${rows.join('')}</svg>`;
}

/** A round axis step (1, 2 or 5 × 10^n) giving about five ticks up to `max`. */
function niceStep(max: number): number {
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

/** The time chart of one profile: the attacks' own handshake measurement when every run has one, else each run's wall time — labelled as such. */
export function timeChart(pi: number, profileName: string, cells: Array<{ attack: string; cell: CellResult | undefined }>): string {
  const ran = cells.filter((c) => c.cell);
  if (!ran.length) return '';
  const hs = (c: CellResult) => (typeof c.data?.handshakeMs === 'number' && Number.isFinite(c.data.handshakeMs) ? (c.data.handshakeMs as number) : null);
  const allHandshake = ran.every((c) => hs(c.cell!) !== null);
  const bars = ran.map((c) => ({ label: c.attack, value: allHandshake ? hs(c.cell!)! : Math.max(0, Number(c.cell!.durationMs) || 0), outcome: outcomeOf(c.cell) }));
  const title = allHandshake ? `TLS handshake time per attack run, profile ${profileName} (ms)` : `Run time per attack, profile ${profileName} (ms)`;
  const caption = allHandshake
    ? 'Handshake time as measured by each attack (<code>data.handshakeMs</code>), in milliseconds.'
    : 'What is plotted: the wall time of each whole attack run — starting a fresh server, two clients connecting and logging in (scrypt included), the conversation, and the verdict — in milliseconds. It is not the TLS handshake alone: this run recorded no separate handshake time. A run refused at the handshake is short because nothing after it happened.';
  return `<h3 id="p${pi}-chart">${allHandshake ? 'Handshake time' : 'Run time'}</h3><figure>${barChart(`p${pi}-svg`, title, bars)}<figcaption>${caption}</figcaption></figure>`;
}
