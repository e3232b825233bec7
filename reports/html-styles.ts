/**
 * The stylesheet of the HTML reports (the matrix page and the compare page): screen, projector
 * (compact grid, sticky header) and A4 print. Inline in each page, so the page stays
 * self-contained under its `default-src 'none'` Content-Security-Policy.
 * @module
 */

/** The stylesheet, shared by the matrix page and the compare page. */
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
