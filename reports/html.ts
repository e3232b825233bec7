/**
 * HTML renderer: one self-contained page (inline CSS and SVG, no script, no font, no request) for
 * a projector and for A4 paper, rendered only from results.json:
 *  - the profile × attack matrix as a coloured grid, each cell carrying its outcome word and a
 *    glyph (colour is never the only signal), with a legend; a premise attack's success in its own
 *    style with the premise in the cell. More than six attack columns switch the grid to a compact
 *    mode that fits a 1920×1080 projector without horizontal scrolling; its header row stays in
 *    view while the rows scroll (sticky);
 *  - one verdict per profile (reports/verdict.ts), computed from its row;
 *  - per profile: its verdict, its settings, its weak settings in plain words with the fix and the
 *    lab that teaches it, apart from what its secure defaults leave open (reports/setting-notes.ts), a chart of each run's time, and every run's outcome, reason,
 *    negotiated parameters (victim hop, and the attacker's two hops when it terminated TLS),
 *    evidence with the canary marked, and links to the captures and key logs it kept;
 *  - the environment and the one command that reproduces the run.
 *
 * Everything taken from results is escaped: evidence holds bytes an attacker chose, and reasons
 * quote certificate subjects and peer error messages. A Content-Security-Policy with
 * `default-src 'none'` backs that up: even a missed escape could neither run script nor load
 * anything.
 *
 * This module lays out the page (header, tally, sections, environment); its parts live beside it:
 * `html-page.ts` (the shell, escaping, badges, legend), `html-styles.ts` (the stylesheet),
 * `html-grid.ts` (the matrix grid and verdict list), `html-runs.ts` (profile, target and run
 * sections), `html-charts.ts` (the SVG time charts).
 */
import path from 'node:path';
import { gridHtml, verdictsHtml } from './html-grid.ts';
import { esc, fmtMs, htmlPage, legendHtml, OUTCOME_STYLE, OUTCOMES, PREMISE_STYLE } from './html-page.ts';
import { profileSection, targetSection, type RenderContext } from './html-runs.ts';
import { OUTCOME_LABELS, resultRows, type MatrixResults, type Outcome } from './results.ts';
import { cellPremise, premiseOf } from './verdict.ts';

export { COMPACT_COLUMNS } from './html-grid.ts';
export { esc, htmlPage, legendHtml, markCanary, OUTCOME_STYLE, PREMISE_STYLE } from './html-page.ts';
export { artifactHref, type RenderContext } from './html-runs.ts';
export { REPORT_CSS } from './html-styles.ts';

/**
 * Renders results.json as one self-contained HTML page.
 * @param ctx.resultsFile the results.json it was read from (artifact paths are relative to it)
 * @param ctx.outFile where the page will be written, when not beside the results (for links)
 * @returns the whole document
 */
export function renderHtml(r: MatrixResults, ctx: RenderContext): string {
  const count = (o: Outcome) => r.cells.filter((c) => c.outcome === o).length;
  const premised = r.cells.filter((c) => cellPremise(r, c)).length;
  const tally = OUTCOMES.map((o) => {
    const n = o === 'succeeded' ? count(o) - premised : count(o);
    const item = `<li class="o-${o}"><span aria-hidden="true">${OUTCOME_STYLE[o].glyph} </span>${n} ${esc(OUTCOME_LABELS[o])}</li>`;
    return o === 'succeeded' && premised ? `${item}<li class="o-premise"><span aria-hidden="true">${PREMISE_STYLE.glyph} </span>${premised} ${esc(OUTCOME_LABELS[o])} under a premise</li>` : item;
  }).join('');
  const started = String(r.startedAt ?? '').replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const toc = `<nav class="toc" aria-label="Contents"><ol><li class="toc-label">Contents:</li><li><a href="#matrix">Matrix</a></li><li><a href="#verdicts">Verdicts</a></li><li><a href="#attacks">Attacks</a></li>${resultRows(r).map((p, i) => `<li><a href="#p-${i}">${esc(p.name)}</a></li>`).join('')}<li><a href="#environment">Environment and reproduction</a></li></ol></nav>`;
  const body = `<header class="masthead"><div class="wrap">
<h1>secchat attack matrix</h1>
<p>${esc(r.profiles.length)} profiles × ${esc(r.attacks.length)} attacks = ${esc(r.cells.length)} isolated runs over real loopback TLS · ${esc(started)} · ${esc(((Number(r.durationMs) || 0) / 1000).toFixed(1))} s</p>
<p>Reproduce: <code>${esc(r.command)}</code></p>
<ul class="tally" aria-label="Outcome counts">${tally}</ul>
${toc}
</div></header>
<main>
<div class="wrap wide">
<section class="card" id="matrix" aria-labelledby="matrix-h">
<h2 id="matrix-h">Matrix</h2>
${legendHtml(r.attacks.some((a) => premiseOf(r, a.id)))}
${gridHtml(r)}
${(r.warnings ?? []).length ? `<h3>Contradictions in the matrix</h3><p class="note">Cells of one row that disagree with each other: one of them is wrong.</p><ul class="note">${(r.warnings ?? []).map((w) => `<li><code>${esc(w.profile)}</code> (${esc(w.attacks.join(', '))}): ${esc(w.message)}</li>`).join('')}</ul>` : ''}
</section>
</div>
<div class="wrap">
<section class="card" id="verdicts" aria-labelledby="verdicts-h">
<h2 id="verdicts-h">Which configurations are safe?</h2>
${verdictsHtml(r)}
</section>
<section class="card" id="attacks" aria-labelledby="attacks-h">
<h2 id="attacks-h">The attacks</h2>
<dl class="attacks">${r.attacks
    .map((a) => {
      const premise = premiseOf(r, a.id);
      return `<dt>${esc(a.id)}</dt><dd><strong>${esc(a.title)}.</strong> ${esc(a.description)}${premise ? ` <span class="premise-note"><strong>Premise:</strong> it assumes ${esc(premise.assumes)}.</span>` : ''}</dd>`;
    })
    .join('')}</dl>
</section>
${r.profiles.map((p, i) => profileSection(r, p, i, ctx)).join('\n')}
${(r.targets ?? []).map((t, i) => targetSection(r, t, r.profiles.length + i, ctx)).join('\n')}
<section class="card" id="environment" aria-labelledby="env-h">
<h2 id="env-h">Environment and reproduction</h2>
<table class="env"><tbody>
<tr><th scope="row">secchat</th><td>${esc(r.tool?.version)}</td></tr>
<tr><th scope="row">Node.js</th><td>${esc(r.environment?.node)}</td></tr>
<tr><th scope="row">OpenSSL</th><td>${esc(r.environment?.openssl)}</td></tr>
<tr><th scope="row">Platform</th><td>${esc(r.environment?.platform)}, ${esc(r.environment?.cpus)} CPUs</td></tr>
<tr><th scope="row">Started</th><td>${esc(r.startedAt)}</td></tr>
<tr><th scope="row">Duration</th><td>${esc(fmtMs(r.durationMs))}</td></tr>
<tr><th scope="row">Results schema</th><td>version ${esc(r.schemaVersion)}</td></tr>
</tbody></table>
<h3>Reproduce this run</h3>
<pre class="cmd"><code>${esc(r.command)}</code></pre>
<p class="note">Each run starts its own server, proxy and clients on loopback with a fresh random canary, so canaries and timings differ between runs; outcomes should not.</p>
</section>
<footer>Generated by secchat ${esc(r.tool?.version)} from ${esc(path.basename(ctx.resultsFile))}. Self-contained: no scripts, fonts or network requests.</footer>
</div>
</main>`;
  return htmlPage(`secchat attack matrix — ${r.profiles.length} profiles × ${r.attacks.length} attacks`, body);
}
