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
 */
import path from 'node:path';
import { htmlText, isLocalPath } from '../core/escape.ts';
import { OUTCOME_LABELS, resultRows, type AttackPremise, type CellResult, type MatrixResults, type Outcome, type ResultRow } from './results.ts';
import { settingNotes } from './setting-notes.ts';
import { flattenSettings } from './settings-diff.ts';
import { premiseOf, profileVerdict, verdicts, VERDICT_STATUS_LABELS, type ProfileVerdict } from './verdict.ts';

/** Escapes text for HTML element content and quoted attribute values: core/escape.ts's one HTML rule. */
export const esc: (value: unknown) => string = htmlText;

/** Escapes `text` and wraps every occurrence of the canary in `<mark>` (canaries shorter than 8 characters are not marked: they would match by chance). */
export function markCanary(text: unknown, canary: unknown): string {
  const t = String(text ?? '');
  const c = typeof canary === 'string' ? canary : '';
  if (c.length < 8 || !t.includes(c)) return esc(t);
  return t
    .split(c)
    .map(esc)
    .join(`<mark class="canary" title="the canary: the secret of this run">${esc(c)}</mark>`);
}

/** Display order, glyph (hidden from screen readers: the word is read) and meaning of each outcome. */
export const OUTCOME_STYLE: Record<Outcome, { glyph: string; meaning: string }> = {
  succeeded: { glyph: '⚠', meaning: 'the attacker read or altered the canary, or had a replay or downgrade accepted — the defence failed' },
  blocked: { glyph: '✓', meaning: 'something stopped the attack; the reason names it' },
  'not-applicable': { glyph: '–', meaning: 'the attack\'s precondition is missing from this profile' },
  error: { glyph: '!', meaning: 'the run itself failed, so it proves nothing either way' },
};
const OUTCOMES = Object.keys(OUTCOME_STYLE) as Outcome[];

/** Glyph and meaning of a success that rests on a premise (shown instead of the red style). */
export const PREMISE_STYLE = {
  glyph: '◇',
  meaning: 'succeeded under the premise named in the cell (e.g. a rogue root CA the victim was made to trust): not a weak setting — the secure defaults do not claim to survive it; a stronger setting (a pin) does',
};

/** Attack columns beyond which the grid switches to its compact projector mode. */
export const COMPACT_COLUMNS = 6;

const outcomeOf = (c: CellResult | undefined): Outcome | null => (c && OUTCOMES.includes(c.outcome) ? c.outcome : null);
const fmtMs = (ms: unknown) => (typeof ms === 'number' && Number.isFinite(ms) ? `${Math.round(ms).toLocaleString('en')} ms` : '—');

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

const negotiatedText = (n: CellResult['negotiated']) => (n ? [n.protocol ?? '?', n.cipher ?? '?', n.group ?? 'no (EC)DHE group'].join(' · ') : 'no TLS on this hop (plaintext or secure channel only), or no connection completed');

function badge(o: Outcome | null): string {
  if (!o) return '<span class="badge o-none">not run</span>';
  return `<span class="badge o-${o}"><span class="glyph" aria-hidden="true">${OUTCOME_STYLE[o].glyph}</span>${esc(OUTCOME_LABELS[o])}</span>`;
}

function premiseBadge(p: AttackPremise): string {
  return `<span class="badge o-premise" title="${esc(`premise: ${p.assumes}`)}"><span class="glyph" aria-hidden="true">${PREMISE_STYLE.glyph}</span>${esc(OUTCOME_LABELS.succeeded)}</span>`;
}

/** The stylesheet, shared with the compare page. */
export const REPORT_CSS = `
:root { --ink:#1b1f24; --muted:#4b5563; --line:#d0d5dc; --paper:#ffffff; --wash:#f5f7fa; --accent:#1d4ed8;
  --s-bg:#fde8e7; --s-fg:#8c1d18; --s-bd:#c0392b; --b-bg:#e2f4e7; --b-fg:#14532d; --b-bd:#1e7b3a;
  --n-bg:#eef0f3; --n-fg:#374151; --n-bd:#6b7280; --e-bg:#fff3cf; --e-fg:#713f12; --e-bd:#b7791f;
  --p-bg:#f3eefc; --p-fg:#4c1d95; --p-bd:#7c3aed; }
* { box-sizing: border-box; }
html { font-size: 16px; }
body { margin: 0; color: var(--ink); background: var(--wash); font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
.wrap { max-width: 1680px; margin: 0 auto; padding: 1.5rem 1.5rem 3rem; }
h1, h2, h3, h4 { line-height: 1.2; margin: 0; }
h1 { font-size: 2rem; }
h2 { font-size: 1.5rem; margin-bottom: .75rem; }
h3 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: .9em; }
a { color: var(--accent); }
.masthead { background: #0f172a; color: #f8fafc; }
.masthead .wrap { padding-top: 1.25rem; padding-bottom: 1.25rem; }
.masthead p { margin: .35rem 0 0; color: #cbd5e1; }
.masthead code { color: #f8fafc; }
.tally { display: flex; flex-wrap: wrap; gap: .5rem; margin-top: 1rem; padding: 0; list-style: none; }
.tally li { padding: .3rem .7rem; border-radius: 999px; font-weight: 600; border: 2px solid; }
.card { background: var(--paper); border: 1px solid var(--line); border-radius: 10px; padding: 1.25rem 1.5rem; margin-top: 1.25rem; }
main.wrap, main > .wrap { padding-top: 0; }
main > .wrap.wide { max-width: 1880px; padding-bottom: 0; }
.legend { display: grid; grid-template-columns: repeat(auto-fit, minmax(24rem, 1fr)); gap: .4rem 1.5rem; margin: .25rem 0 1rem; padding: 0; list-style: none; font-size: .92rem; }
.legend li { display: grid; grid-template-columns: 8.5rem 1fr; align-items: baseline; gap: .5rem; }
.legend li .badge { justify-self: start; }
.badge { display: inline-flex; align-items: center; gap: .35em; padding: .1em .55em; border-radius: 6px; border: 2px solid; font-weight: 700; white-space: nowrap; }
.glyph { font-weight: 700; }
.o-succeeded { background: var(--s-bg); color: var(--s-fg); border-color: var(--s-bd); }
.o-blocked { background: var(--b-bg); color: var(--b-fg); border-color: var(--b-bd); }
.o-not-applicable { background: var(--n-bg); color: var(--n-fg); border-color: var(--n-bd); }
.o-error { background: var(--e-bg); color: var(--e-fg); border-color: var(--e-bd); }
.o-none { background: var(--paper); color: var(--muted); border-color: var(--line); border-style: dashed; }
.o-premise { background: var(--p-bg); color: var(--p-fg); border-color: var(--p-bd); border-style: dashed; }
/* Wide screens scroll the page, not the table, so the sticky header row follows the page. */
@media (max-width: 1279px) { .scroll { overflow-x: auto; } }
table { border-collapse: separate; border-spacing: 0; }
table.grid { border-spacing: 6px; margin: 0 -6px; min-width: 100%; }
.grid caption { text-align: left; color: var(--muted); caption-side: top; padding: 0 6px .25rem; }
.grid thead th { vertical-align: bottom; text-align: left; padding: .25rem .5rem; font-size: .95rem; position: sticky; top: 0; z-index: 2; background: var(--paper); box-shadow: 0 0 0 6px var(--paper), 0 8px 0 -6px var(--line); }
.grid thead th:first-child { padding-left: 0; }
.grid thead th .aid { display: block; font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: 700; }
.grid thead th .atitle { display: block; color: var(--muted); font-weight: 400; font-size: .85rem; }
.grid tbody th { text-align: left; padding: .5rem .5rem .5rem 0; font-weight: 700; white-space: nowrap; vertical-align: middle; }
.grid tbody th a, .grid thead th a { color: var(--ink); font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: 700; }
.grid tbody th .aid { display: block; font-family: ui-monospace, Menlo, Consolas, monospace; }
.grid tbody th .atitle { display: block; color: var(--muted); font-weight: 400; font-size: .85rem; }
.grid tbody th small { display: block; font-weight: 400; color: var(--muted); font-family: inherit; }
.grid td { min-width: 7rem; border: 2px solid; border-radius: 8px; padding: 0; vertical-align: top; }
.grid td a { display: block; padding: .55rem .7rem; color: inherit; text-decoration: none; height: 100%; }
.grid td a:hover, .grid td a:focus { text-decoration: underline; }
.grid td .olabel { display: flex; align-items: baseline; gap: .35em; font-size: 1.1rem; font-weight: 800; letter-spacing: .01em; }
.grid td .osum { display: block; font-size: .85rem; line-height: 1.3; margin-top: .2rem; overflow-wrap: break-word; hyphens: auto; }
/* Compact mode (many columns): every column on a 1920-pixel projector, no horizontal scrolling. */
.grid.many { table-layout: fixed; width: 100%; min-width: 0; border-spacing: 4px; margin: 0 -4px; }
.grid.many thead th:first-child { width: 12.5rem; }
.grid.many thead th { padding: .2rem .3rem; font-size: .8rem; overflow-wrap: anywhere; box-shadow: 0 0 0 4px var(--paper), 0 6px 0 -4px var(--line); }
.grid.many thead th .aid { font-size: .85rem; }
.grid.many thead th .atitle { font-size: .72rem; line-height: 1.25; }
.grid.many tbody th { white-space: normal; overflow-wrap: anywhere; font-size: .9rem; padding: .3rem .3rem .3rem 0; }
.grid.many tbody th small { font-size: .75rem; }
.grid.many td { min-width: 0; overflow: hidden; border-radius: 6px; }
.grid.many td a { padding: .3rem .35rem; }
.grid.many td .olabel { font-size: .8rem; gap: .25em; overflow-wrap: anywhere; }
.grid.many td .osum { font-size: .72rem; line-height: 1.25; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.grid thead th a { color: var(--ink); }
.grid thead th small { display: block; font-weight: 400; color: var(--muted); }
.grid td.o-succeeded { background-image: repeating-linear-gradient(135deg, transparent 0 10px, rgba(192,57,43,.07) 10px 20px); }
/* A success under a premise: its own colour and a dashed border, never the red of a failed defence. */
.grid td.premise { background: var(--p-bg); background-image: none; color: var(--p-fg); border-color: var(--p-bd); border-style: dashed; }
.ptag { display: inline-block; margin-top: .2rem; padding: 0 .35em; border: 1px dashed var(--p-bd); border-radius: 4px; color: var(--p-fg); background: var(--p-bg); font: 600 .72rem/1.4 system-ui, sans-serif; }
.premise-note { color: var(--p-fg); background: var(--p-bg); border-left: 3px dashed var(--p-bd); padding: .3rem .6rem; margin: .4rem 0; font-size: .92rem; }
dd .premise-note { display: block; }
article.run.premise { border-left-color: var(--p-bd); border-left-style: dashed; }
.vchip { display: inline-block; padding: 0 .45em; border-radius: 5px; border: 2px solid; font: 800 .72rem/1.5 system-ui, sans-serif; letter-spacing: .02em; white-space: nowrap; vertical-align: baseline; }
.vchip.v-fails { background: var(--s-bg); color: var(--s-fg); border-color: var(--s-bd); }
.vchip.v-unproven { background: var(--e-bg); color: var(--e-fg); border-color: var(--e-bd); }
.vchip.v-holds-except-premise { background: var(--p-bg); color: var(--p-fg); border-color: var(--p-bd); border-style: dashed; }
.vchip.v-holds { background: var(--b-bg); color: var(--b-fg); border-color: var(--b-bd); }
.vchip.v-not-run { background: var(--n-bg); color: var(--n-fg); border-color: var(--n-bd); }
.grid th small .vchip { margin-right: .3em; }
ul.verdicts { list-style: none; margin: .5rem 0 0; padding: 0; }
ul.verdicts li { display: grid; grid-template-columns: minmax(12rem, 16rem) 11rem 1fr; align-items: baseline; gap: .75rem; padding: .35rem 0; border-bottom: 1px solid var(--line); }
ul.verdicts li a { color: var(--ink); font-weight: 700; }
ul.verdicts .vchip { justify-self: start; font-size: .8rem; }
p.verdict { font-size: 1.05rem; margin: .5rem 0; }
tr.is-open th, tr.is-open td { background: var(--p-bg); }
.tag.tag-open { background: var(--p-bd); }
dl.attacks { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; margin: 0; font-size: .95rem; }
dl.attacks dt { font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: 700; }
dl.attacks dd { margin: 0; color: var(--muted); }
nav.toc { margin-top: 1rem; font-size: .95rem; }
nav.toc ol { display: flex; flex-wrap: wrap; gap: .25rem 1.1rem; margin: 0; padding: 0; list-style: none; }
nav.toc a { color: #bfdbfe; }
nav.toc .toc-label { color: #94a3b8; margin-right: .5rem; }
.profile-head { display: flex; flex-wrap: wrap; justify-content: space-between; gap: .5rem 1rem; align-items: baseline; }
.profile-head h2 code { font-size: 1em; }
.lede { margin: .25rem 0 0; color: var(--muted); }
.cols { display: grid; grid-template-columns: minmax(16rem, 1fr) minmax(20rem, 1.6fr); gap: 0 2rem; }
table.kv, table.weak { width: 100%; font-size: .92rem; }
table.kv th, table.kv td, table.weak th, table.weak td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
table.kv th { font-weight: 400; font-family: ui-monospace, Menlo, Consolas, monospace; color: var(--muted); white-space: nowrap; }
table.kv td { font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-word; }
table.weak thead th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); border-bottom: 2px solid var(--line); }
tr.is-weak th, tr.is-weak td { background: var(--s-bg); }
.tag { display: inline-block; margin-left: .4em; padding: 0 .35em; border-radius: 4px; font: 700 .7rem/1.5 system-ui, sans-serif; text-transform: uppercase; letter-spacing: .04em; background: var(--s-bd); color: #fff; vertical-align: middle; }
.ok { color: var(--b-fg); font-weight: 600; }
.note { color: var(--muted); font-size: .9rem; }
figure { margin: .5rem 0 0; }
figcaption { color: var(--muted); font-size: .9rem; margin-top: .25rem; }
svg.chart { width: 100%; max-width: 760px; height: auto; display: block; }
svg.chart text { font: 13px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; fill: #1b1f24; }
svg.chart .axis { stroke: #9aa3af; stroke-width: 1; }
svg.chart .gridline { stroke: #e5e7eb; stroke-width: 1; }
svg.chart .mono { font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
.runs { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 34rem), 1fr)); gap: 1rem; align-items: start; }
article.run { border: 1px solid var(--line); border-left: 6px solid; border-radius: 8px; padding: .9rem 1rem; background: var(--paper); break-inside: avoid; }
article.run.o-succeeded { border-left-color: var(--s-bd); background: #fff; color: var(--ink); }
article.run.o-blocked { border-left-color: var(--b-bd); background: #fff; color: var(--ink); }
article.run.o-not-applicable { border-left-color: var(--n-bd); background: #fff; color: var(--ink); }
article.run.o-error { border-left-color: var(--e-bd); background: #fff; color: var(--ink); }
article.run h4 { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; font-size: 1.05rem; }
article.run h4 .aid { font-family: ui-monospace, Menlo, Consolas, monospace; }
article.run h4 .atitle { color: var(--muted); font-weight: 400; }
.reason { margin: .5rem 0; font-size: 1rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .9rem; margin: .5rem 0; font-size: .9rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-word; }
dl.facts ul { margin: 0; padding-left: 1.1rem; }
details { margin-top: .5rem; }
summary { cursor: pointer; font-weight: 600; }
ul.evidence { margin: .4rem 0 0; padding: 0; list-style: none; }
ul.evidence li { padding: .35rem 0; border-top: 1px solid var(--line); font-size: .88rem; }
ul.evidence .kind { display: inline-block; min-width: 9.5rem; font-weight: 700; color: var(--muted); }
ul.evidence .detail { white-space: pre-wrap; word-break: break-word; font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: .95em; }
mark.canary { background: #ffe066; color: #111; padding: 0 .15em; border-radius: 3px; outline: 1px solid #d4a400; font-weight: 700; }
pre.cmd { background: #0f172a; color: #f8fafc; padding: .75rem 1rem; border-radius: 8px; overflow-x: auto; font-size: 1rem; }
table.env th, table.env td { text-align: left; padding: .3rem 1rem .3rem 0; border-bottom: 1px solid var(--line); }
table.env th { font-weight: 400; color: var(--muted); }
footer { color: var(--muted); font-size: .85rem; margin-top: 2rem; }
.change { font-weight: 700; white-space: nowrap; }
.arrow { color: var(--muted); padding: 0 .2em; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
@media (max-width: 760px) { .cols { grid-template-columns: 1fr; } ul.verdicts li { grid-template-columns: 1fr; gap: .2rem; } }
@page { size: A4; margin: 12mm; }
@page matrix { size: A4 landscape; margin: 10mm; }
@media print {
  html { font-size: 10pt; }
  body { background: #fff; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .wrap { max-width: none; padding: 0; }
  .masthead { background: #fff; color: var(--ink); border-bottom: 2px solid var(--ink); }
  .masthead p, .masthead code { color: var(--ink); }
  nav.toc { display: none; }
  .card { border: none; padding: 0; margin-top: 1rem; }
  .masthead, #matrix { page: matrix; }
  .masthead .wrap { padding: 0 0 .5rem; }
  .tally li { padding: .1rem .5rem; }
  #matrix { margin-top: .5rem; }
  .grid td a { padding: .35rem .5rem; }
  .grid td .olabel { font-size: 1rem; }
  section.profile + section.profile { break-before: page; }
  #attacks + section.profile { margin-top: 1.5rem; }
  .scroll { overflow: visible; }
  .grid thead th { position: static; box-shadow: none; }
  main > .wrap.wide { max-width: none; }
  .grid td { min-width: 0; }
  .runs { display: block; }
  article.run { margin-bottom: .6rem; }
  details::details-content { content-visibility: visible; }
  summary { list-style: none; }
  a { text-decoration: none; color: inherit; }
  #environment { break-before: page; }
  h2, h3, h4 { break-after: avoid; }
  figure, table.kv tr, table.weak tr { break-inside: avoid; }
}
`;

/**
 * Wraps a body in a complete, self-contained page.
 * @param title text for <title> (escaped here)
 * @param bodyHtml trusted HTML built by this module's renderers
 */
export function htmlPage(title: string, bodyHtml: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="secchat">
<title>${esc(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${bodyHtml}
</body>
</html>
`;
}

/**
 * The legend: every outcome with its glyph, word and meaning, and the premise style when
 * `withPremise` (a run with a premise attack).
 */
export function legendHtml(withPremise = false): string {
  const premise = withPremise ? `<li><span class="badge o-premise"><span class="glyph" aria-hidden="true">${PREMISE_STYLE.glyph}</span>${esc(OUTCOME_LABELS.succeeded)}</span><span>if … : ${esc(PREMISE_STYLE.meaning)}</span></li>` : '';
  return `<ul class="legend" aria-label="Legend">${OUTCOMES.map((o) => `<li>${badge(o)}<span>${esc(OUTCOME_STYLE[o].meaning)}</span></li>`).join('')}${premise}</ul>`;
}

/** The verdict's status as a chip (word, never colour alone). */
function verdictChip(v: ProfileVerdict): string {
  return `<span class="vchip v-${v.status}">${esc(VERDICT_STATUS_LABELS[v.status])}</span>`;
}

/** The verdict list: one line per profile, linking to its section. */
function verdictsHtml(r: MatrixResults): string {
  const index = new Map(r.profiles.map((p, i) => [p.name, i]));
  const items = verdicts(r).map((v) => {
    const i = index.get(v.profile);
    const name = i === undefined ? `<code>${esc(v.profile)}</code>` : `<a href="#p-${i}"><code>${esc(v.profile)}</code></a>`;
    return `<li class="v-${v.status}" data-status="${v.status}">${name}${verdictChip(v)}<span class="vline">${esc(v.line)}</span></li>`;
  });
  return `<p class="note">Computed from each profile's row of the matrix — what the attacks measured — never from its settings. A profile "holds" only when every attack that applied was blocked; a run in error leaves it unproven.</p><ul class="verdicts">${items.join('')}</ul>`;
}

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
function timeChart(pi: number, profileName: string, cells: Array<{ attack: string; cell: CellResult | undefined }>): string {
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

function runArticle(r: MatrixResults, c: CellResult, pi: number, ai: number, title: string, ctx: { resultsFile: string; outFile?: string }): string {
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
  const premise = o === 'succeeded' ? premiseOf(r, c.attack) : null;
  const premiseNote = premise ? `<p class="premise-note"><strong>Premise:</strong> this attack assumes ${esc(premise.assumes)}. It succeeded under that premise; it does not make a setting of this profile weak.</p>` : '';
  return `<article class="run ${o ? `o-${o}` : 'o-none'}${premise ? ' premise' : ''}" id="c-${pi}-${ai}" aria-labelledby="c-${pi}-${ai}-h"><h4 id="c-${pi}-${ai}-h">${premise ? premiseBadge(premise) : badge(o)} <span class="aid">${esc(c.attack)}</span> <span class="atitle">${esc(title)}</span></h4>${premiseNote}<p class="reason">${markCanary(c.reason, c.canary)}</p><dl class="facts">${facts.join('')}</dl>${evidence}</article>`;
}

function profileSection(r: MatrixResults, p: MatrixResults['profiles'][number], pi: number, ctx: { resultsFile: string; outFile?: string }): string {
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
function targetSection(r: MatrixResults, t: NonNullable<MatrixResults['targets']>[number], pi: number, ctx: { resultsFile: string; outFile?: string }): string {
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

/** An id or name that may break after its hyphens (long attack ids in narrow compact columns). */
const breakable = (t: unknown) => esc(t).replace(/-/g, '-<wbr>');

/**
 * The matrix table; each cell links to its run below. Rows are profiles and columns attacks,
 * except when there are more than six attacks and more attacks than profiles: then the table is
 * transposed (rows are attacks), so that a wide matrix still fits a projector without scrolling.
 * `data-rows` on the table says which. More than {@link COMPACT_COLUMNS} columns: compact mode
 * (class `many`: fixed layout over the full width, smaller type, reasons cut to two lines).
 */
function gridHtml(r: MatrixResults): string {
  const rowsOf = resultRows(r);
  const transposed = r.attacks.length > 6 && r.attacks.length > rowsOf.length;
  const byProfile = new Map(verdicts(r).map((v) => [v.profile, v]));
  const succeededIn = (p: string) => r.cells.filter((x) => x.profile === p && x.outcome === 'succeeded').length;
  const profileHead = (p: ResultRow, pi: number) => {
    const v = byProfile.get(p.name) ?? profileVerdict(r, p.name);
    return `<a href="#p-${pi}">${breakable(p.name)}</a>${p.kind === 'target' ? ' <small>(target)</small>' : ''}<small title="${esc(v.line)}">${verdictChip(v)} ${succeededIn(p.name)} of ${r.attacks.length} succeeded</small>`;
  };
  const attackHead = (a: MatrixResults['attacks'][number]) => {
    const premise = premiseOf(r, a.id);
    return `<span class="aid">${breakable(a.id)}</span><span class="atitle">${esc(a.title)}</span>${premise ? `<span class="ptag" title="${esc(`premise: it assumes ${premise.assumes}`)}">premise: ${esc(premise.label)}</span>` : ''}`;
  };
  const cellHtml = (pi: number, ai: number) => {
    const p = rowsOf[pi];
    const a = r.attacks[ai];
    const c = r.cells.find((x) => x.profile === p.name && x.attack === a.id);
    const o = outcomeOf(c);
    if (!c || !o) return `<td class="o-none" data-outcome="none"><a href="#p-${pi}"><span class="olabel">not run</span></a></td>`;
    const premise = o === 'succeeded' ? premiseOf(r, a.id) : null;
    if (premise) {
      return `<td class="o-succeeded premise" data-outcome="${o}" data-premise="${esc(premise.label)}" title="${esc(`premise: it assumes ${premise.assumes}`)}"><a href="#c-${pi}-${ai}"><span class="olabel"><span class="glyph" aria-hidden="true">${PREMISE_STYLE.glyph}</span>${esc(OUTCOME_LABELS[o])}</span><span class="osum">if ${esc(premise.label)}</span></a></td>`;
    }
    return `<td class="o-${o}" data-outcome="${o}"><a href="#c-${pi}-${ai}"><span class="olabel"><span class="glyph" aria-hidden="true">${OUTCOME_STYLE[o].glyph}</span>${esc(OUTCOME_LABELS[o])}</span><span class="osum">${markCanary(c.summary || c.reason, c.canary)}</span></a></td>`;
  };
  let head: string;
  let rows: string;
  if (!transposed) {
    head = `<tr><th scope="col">${r.targets?.length ? 'Profile / target' : 'Profile'}</th>${r.attacks.map((a) => `<th scope="col">${attackHead(a)}</th>`).join('')}</tr>`;
    rows = rowsOf.map((p, pi) => `<tr><th scope="row">${profileHead(p, pi)}</th>${r.attacks.map((_, ai) => cellHtml(pi, ai)).join('')}</tr>`).join('');
  } else {
    head = `<tr><th scope="col">Attack</th>${rowsOf.map((p, pi) => `<th scope="col">${profileHead(p, pi)}</th>`).join('')}</tr>`;
    rows = r.attacks.map((a, ai) => `<tr><th scope="row">${attackHead(a)}</th>${rowsOf.map((_, pi) => cellHtml(pi, ai)).join('')}</tr>`).join('');
  }
  const what = transposed ? 'each profile (columns) against each attack (rows)' : 'each attack (columns) against each profile (rows)';
  const many = (transposed ? rowsOf.length : r.attacks.length) > COMPACT_COLUMNS;
  return `<div class="scroll"><table class="grid${many ? ' many' : ''}" data-rows="${transposed ? 'attacks' : 'profiles'}"><caption>Outcome of ${what}. Select a cell for its reason and evidence.</caption><thead>${head}</thead><tbody>${rows}</tbody></table></div>`;
}

/**
 * Renders results.json as one self-contained HTML page.
 * @param ctx.resultsFile the results.json it was read from (artifact paths are relative to it)
 * @param ctx.outFile where the page will be written, when not beside the results (for links)
 * @returns the whole document
 */
export function renderHtml(r: MatrixResults, ctx: { resultsFile: string; outFile?: string }): string {
  const count = (o: Outcome) => r.cells.filter((c) => c.outcome === o).length;
  const premised = r.cells.filter((c) => c.outcome === 'succeeded' && premiseOf(r, c.attack)).length;
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
