/**
 * The run details of the HTML report: one section per profile (settings, weak settings and what
 * the secure defaults leave open, the time chart, every run) or target, and one article per run
 * (outcome, reason, negotiated parameters of each hop, evidence with the canary marked, links to
 * the artifacts it kept).
 * @module
 */
import path from 'node:path';
import { isLocalPath } from '../core/escape.ts';
import { timeChart } from './html-charts.ts';
import { badge, esc, fmtMs, markCanary, outcomeOf, premiseBadge, verdictChip } from './html-page.ts';
import { negotiatedWords, type CellResult, type MatrixResults, type Outcome } from './results.ts';
import { settingNotes } from './setting-notes.ts';
import { flattenSettings } from './settings-diff.ts';
import { cellPremise, premiseOf, profileVerdict } from './verdict.ts';

/** Where the page is rendered from and written to (artifact links are relative to it). */
export interface RenderContext {
  /** the results.json the page is rendered from (artifact paths are relative to it) */
  resultsFile: string;
  /** where the page will be written, when not beside the results */
  outFile?: string;
}

/**
 * The href of an artifact, relative to the page, or null when it is not a plain local path
 * (a scheme such as `javascript:` or `https:`, or a protocol-relative `//host`).
 * @param artifact path relative to the results file (absolute paths are accepted too)
 * @param resultsFile the results.json the path is relative to
 * @param outFile where the page will be written (default: beside the results file)
 */
export function artifactHref(artifact: string, resultsFile: string, outFile?: string): string | null {
  if (!isLocalPath(artifact)) return null;
  const abs = path.resolve(path.dirname(path.resolve(resultsFile)), artifact);
  const base = path.dirname(path.resolve(outFile ?? resultsFile));
  const rel = path.relative(base, abs).split(path.sep).map(encodeURIComponent).join('/');
  return rel || '.';
}

/** The attacker's two hops, read from `proxy-tls` evidence lines (victim⇄attacker, attacker⇄server). */
function proxyHops(c: CellResult): Array<{ conn: string; victim: string; server: string }> {
  const hops: Array<{ conn: string; victim: string; server: string }> = [];
  for (const e of c.evidence ?? []) {
    if (e?.kind !== 'proxy-tls') continue;
    const m = /^connection (\d+): attacker terminated TLS — victim hop (.+?), server hop (.+)$/.exec(String(e.detail));
    if (m) hops.push({ conn: m[1], victim: m[2], server: m[3] });
  }
  return hops;
}

const negotiatedText = (n: CellResult['negotiated']) => (n ? negotiatedWords(n).join(' · ') : 'no TLS on this hop (plaintext or secure channel only), or no connection completed');

function runArticle(r: MatrixResults, c: CellResult, pi: number, ai: number, title: string, ctx: RenderContext): string {
  const o = outcomeOf(c);
  const hops = proxyHops(c);
  const facts: string[] = [];
  if (o === 'succeeded' && c.impact?.length) facts.push(`<dt>Impact</dt><dd><strong>${esc(c.impact.join(', '))}</strong></dd>`);
  facts.push(`<dt>Victim's hop</dt><dd class="mono">${esc(negotiatedText(c.negotiated))}</dd>`);
  if (hops.length) {
    facts.push(
      `<dt>Attacker's hops</dt><dd><ul>${hops.map((h) => `<li>connection ${esc(h.conn)}: victim ⇄ attacker <span class="mono">${esc(h.victim)}</span>; attacker ⇄ server <span class="mono">${esc(h.server)}</span></li>`).join('')}</ul></dd>`,
    );
  }
  facts.push(`<dt>Canary</dt><dd><mark class="canary">${esc(c.canary)}</mark></dd>`);
  facts.push(`<dt>Run time</dt><dd>${esc(fmtMs(c.durationMs))}</dd>`);
  for (const [k, v] of Object.entries(c.data ?? {})) {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    facts.push(`<dt>${esc(k)}</dt><dd class="mono">${markCanary((text ?? '').length > 400 ? text.slice(0, 399) + '…' : text, c.canary)}</dd>`);
  }
  const artifacts = Object.entries(c.artifacts ?? {});
  if (artifacts.length) {
    facts.push(
      `<dt>Artifacts</dt><dd><ul>${artifacts
        .map(([name, file]) => {
          const href = artifactHref(String(file), ctx.resultsFile, ctx.outFile);
          return `<li>${esc(name)}: ${href ? `<a href="${esc(href)}">${esc(file)}</a>` : `<span class="mono">${esc(file)}</span> <span class="note">(not a local file, not linked)</span>`}</li>`;
        })
        .join('')}</ul></dd>`,
    );
  }
  const ev = c.evidence ?? [];
  const evidence = ev.length
    ? `<details${o === 'succeeded' || o === 'error' ? ' open' : ''}><summary>Evidence (${ev.length})</summary><ul class="evidence">${ev
        .map((e) => `<li><span class="kind">${esc(e?.kind)}</span> <span class="detail">${markCanary(e?.detail, c.canary)}</span></li>`)
        .join('')}</ul></details>`
    : '<p class="note">No evidence recorded.</p>';
  const premise = cellPremise(r, c);
  // A premise attack that got through without its premise failed the row like any other attack.
  const unneeded = o === 'succeeded' && !premise ? premiseOf(r, c.attack) : null;
  const premiseNote = premise
    ? `<p class="premise-note"><strong>Premise:</strong> this attack assumes ${esc(premise.assumes)}. It succeeded under that premise; it does not make a setting of this profile weak.</p>`
    : unneeded
      ? `<p class="note"><strong>Premise not needed:</strong> this attack assumes ${esc(unneeded.assumes)}, but it succeeded without that premise (see the evidence): a failure of this row's own settings.</p>`
      : '';
  return `<article class="run ${o ? `o-${o}` : 'o-none'}${premise ? ' premise' : ''}" id="c-${pi}-${ai}" aria-labelledby="c-${pi}-${ai}-h"><h4 id="c-${pi}-${ai}-h">${premise ? premiseBadge(premise) : badge(o)} <span class="aid">${esc(c.attack)}</span> <span class="atitle">${esc(title)}</span></h4>${premiseNote}<p class="reason">${markCanary(c.reason, c.canary)}</p><dl class="facts">${facts.join('')}</dl>${evidence}</article>`;
}

/** A profile's section: verdict, settings, weak settings and what the defaults leave open, time chart, runs. */
export function profileSection(r: MatrixResults, p: MatrixResults['profiles'][number], pi: number, ctx: RenderContext): string {
  const { weak, leftOpen } = settingNotes(p.settings);
  const weakSettings = new Set(weak.map((w) => w.setting));
  const openSettings = new Set(leftOpen.map((w) => w.setting));
  const cells = r.attacks.map((a) => ({ attack: a.id, title: a.title, cell: r.cells.find((c) => c.profile === p.name && c.attack === a.id) }));
  const n = (o: Outcome) => cells.filter((c) => c.cell?.outcome === o).length;
  const tagOf = (k: string) => (weakSettings.has(k) ? '<span class="tag">weak</span>' : openSettings.has(k) ? '<span class="tag tag-open">leaves open</span>' : '');
  const settingsRows = flattenSettings(p.settings)
    .map(([k, v]) => `<tr${weakSettings.has(k) ? ' class="is-weak"' : openSettings.has(k) ? ' class="is-open"' : ''}><th scope="row">${esc(k)}</th><td>${esc(v).replace(/:/g, ':<wbr>')}${tagOf(k)}</td></tr>`)
    .join('');
  const notesTable = (caption: string, fixHead: string, list: typeof weak, cls: string) =>
    `<table class="weak ${cls}"><caption class="note" style="text-align:left">${caption}</caption><thead><tr><th scope="col">Setting</th><th scope="col">${cls === 'open' ? 'Left open' : 'Weakness'}</th><th scope="col">${fixHead}</th><th scope="col">Learn it</th></tr></thead><tbody>${list
      .map((w) => `<tr><th scope="row"><code>${esc(w.setting)}</code></th><td>${esc(w.weakness)}</td><td><code>${esc(w.fix)}</code></td><td><code>secchat lab show ${esc(Number(w.lab.slice(0, 2)))}</code><br><span class="note">${esc(w.lab)}</span></td></tr>`)
      .join('')}</tbody></table>`;
  const weakTable = weak.length
    ? notesTable('Settings this profile chose that carry a known weakness (core/weaknesses.ts). They explain results; they never decide them.', 'Fix', weak, 'chosen')
    : '<p class="ok">No weak settings from the list of known weaknesses.</p>';
  const openTable = leftOpen.length ? notesTable('Left open by the secure defaults — not a weak setting: what these settings do not claim to stop, and the stronger setting that does.', 'To close it too', leftOpen, 'open') : '';
  const extraWarnings = (p.warnings ?? []).filter((w) => ![...weak, ...leftOpen].some((x) => String(w).includes(x.weakness)));
  const warnings = extraWarnings.length ? `<ul class="note">${extraWarnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '';
  const summary = `${n('succeeded')} of ${cells.length} attacks succeeded`;
  const v = profileVerdict(r, p.name);
  return `<section class="card profile" id="p-${pi}" aria-labelledby="p-${pi}-h">
<div class="profile-head"><h2 id="p-${pi}-h">Profile <code>${esc(p.name)}</code></h2><p class="lede">${esc(summary)} · ${n('blocked')} blocked${n('not-applicable') ? ` · ${n('not-applicable')} n/a` : ''}${n('error') ? ` · ${n('error')} error` : ''}</p></div>
<p class="verdict v-${v.status}"><strong>Verdict:</strong> ${verdictChip(v)} ${esc(v.line)}</p>
<p>${esc(p.description || '(no description)')}</p>
<div class="cols"><div><h3>Settings</h3><table class="kv"><caption class="note" style="text-align:left">Every field, defaults filled in.</caption><tbody>${settingsRows}</tbody></table></div>
<div><h3>Weaknesses and fixes</h3>${weakTable}${openTable}${warnings}</div></div>
${timeChart(pi, p.name, cells)}
<h3>Attack runs</h3>
<div class="runs">${cells.map((c, ai) => (c.cell ? runArticle(r, c.cell, pi, ai, c.title, ctx) : '')).join('')}</div>
</section>`;
}

/** A target's section: its description as loaded (commands, transport, files) and its runs. */
export function targetSection(r: MatrixResults, t: NonNullable<MatrixResults['targets']>[number], pi: number, ctx: RenderContext): string {
  const cells = r.attacks.map((a) => ({ attack: a.id, title: a.title, cell: r.cells.find((c) => c.profile === t.name && c.attack === a.id) }));
  const n = (o: Outcome) => cells.filter((c) => c.cell?.outcome === o).length;
  const rows = Object.entries(t.settings as Record<string, unknown>)
    .flatMap(([k, v]) => (v && typeof v === 'object' ? Object.entries(v as Record<string, unknown>).map(([k2, v2]) => [`${k}.${k2}`, v2] as const) : [[k, v] as const]))
    .map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td class="mono">${esc(String(v))}</td></tr>`)
    .join('');
  const v = profileVerdict(r, t.name);
  const warnings = t.warnings.length ? `<ul class="note">${t.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '';
  return `<section class="card profile" id="p-${pi}" aria-labelledby="p-${pi}-h">
<div class="profile-head"><h2 id="p-${pi}-h">Target <code>${esc(t.name)}</code> (your own app)</h2><p class="lede">${esc(`${n('succeeded')} of ${cells.length} attacks succeeded`)} · ${n('blocked')} blocked${n('not-applicable') ? ` · ${n('not-applicable')} n/a` : ''}${n('error') ? ` · ${n('error')} error` : ''}</p></div>
<p class="verdict v-${v.status}"><strong>Verdict:</strong> ${verdictChip(v)} ${esc(v.line)}</p>
<p>${esc(t.description || '(no description)')}</p>
<h3>Target description</h3><table class="kv"><tbody>${rows}</tbody></table>${warnings}
<h3>Attack runs</h3>
<div class="runs">${cells.map((c, ai) => (c.cell ? runArticle(r, c.cell, pi, ai, c.title, ctx) : '')).join('')}</div>
</section>`;
}
