/**
 * Comparing two matrix runs — "before and after hardening": which cells went from SUCCEEDED to
 * blocked (fixed), which went back (regressed), which changed otherwise, and which cells exist in
 * only one run; and beside each cell that moved, what changed in its profile's settings
 * (reports/settings-diff.ts, from each run's `effectiveSettings`). Pure data first
 * ({@link compareResults}); the table, Markdown and HTML renderers below only present it, and show
 * unchanged cells only when asked (`all`).
 */
import Table from 'cli-table3';
import { esc, htmlPage, OUTCOME_STYLE } from './html-page.ts';
import { markdownCellCode, markdownCode, markdownParagraph, markdownText as md, terminalText as tt } from '../core/escape.ts';
import { OUTCOME_LABELS, type CellResult, type MatrixResults, type Outcome } from './results.ts';
import { diffSettings, settingChangeText, type SettingChange } from './settings-diff.ts';
import { cellPremise } from './verdict.ts';

/** How one cell changed between the two runs. */
export type ChangeKind = 'fixed' | 'regressed' | 'changed' | 'unchanged' | 'added' | 'removed';

/** Change kinds in display order, with the word every renderer shows and what it means. */
export const CHANGE_KINDS: Record<ChangeKind, { label: string; meaning: string }> = {
  fixed: { label: 'FIXED', meaning: 'the attack succeeded before and is blocked (or no longer applicable) after, or succeeds after only under its premise' },
  regressed: { label: 'REGRESSED', meaning: 'the attack was blocked (or not applicable) before and succeeds after, or needed its premise before and no longer does' },
  changed: { label: 'changed', meaning: 'another change of outcome (a run error, or blocked ⇄ not applicable)' },
  unchanged: { label: 'same', meaning: 'the same outcome in both runs' },
  added: { label: 'new', meaning: 'the cell exists only in the after run' },
  removed: { label: 'removed', meaning: 'the cell exists only in the before run' },
};

/** One side of a cell. */
export interface CellSide {
  outcome: Outcome;
  /** a success that counts only under the attack's premise (reports/verdict.ts cellPremise) */
  premise: boolean;
  summary: string;
  reason: string;
}

/** One profile × attack cell across the two runs. */
export interface CellChange {
  /** the profile's name in the after run (or in the before run for removed cells) */
  profile: string;
  attack: string;
  before: CellSide | null;
  after: CellSide | null;
  kind: ChangeKind;
}

/** Identity of one compared run. */
export interface RunInfo {
  startedAt: string;
  command: string;
  version: string;
  profiles: string[];
}

/** How one profile's settings changed between the runs. */
export interface ProfileSettingsChange {
  /** the profile's name in the after run (in the before run when only it has the profile) */
  profile: string;
  /** its name in the before run (differs only for paired profiles) */
  beforeProfile: string;
  /** the settings that differ; null when the profile is in only one run (nothing to diff against) */
  changes: SettingChange[] | null;
}

/** The comparison of two runs. */
export interface Comparison {
  before: RunInfo;
  after: RunInfo;
  /**
   * Set when each run holds exactly one profile and their names differ: the two were compared
   * with each other (a student who renamed the profile while hardening it).
   */
  pairedProfiles: { before: string; after: string } | null;
  /** every cell of either run: the after run's order first, then cells only the before run had */
  changes: CellChange[];
  counts: Record<ChangeKind, number>;
  /** per profile of either run, what changed in its effective settings */
  settings: ProfileSettingsChange[];
}

const defended = (o: Outcome) => o === 'blocked' || o === 'not-applicable';

/**
 * Classifies a cell's change from its two outcomes (null: absent from that run). A success in
 * both runs that needed its premise in only one of them moved: a hardened client that now falls
 * only to the premise (a rogue root it was made to trust) is a fix of what the row is judged on.
 * @param premise whether each side's success counted only under the attack's premise
 */
export function changeKind(before: Outcome | null, after: Outcome | null, premise: { before: boolean; after: boolean } = { before: false, after: false }): ChangeKind {
  if (before === null && after === null) throw new RangeError('changeKind: a cell must exist in at least one run');
  if (before === null) return 'added';
  if (after === null) return 'removed';
  if (before === 'succeeded' && after === 'succeeded' && premise.before !== premise.after) return premise.after ? 'fixed' : 'regressed';
  if (before === after) return 'unchanged';
  if (before === 'succeeded' && defended(after)) return 'fixed';
  if (defended(before) && after === 'succeeded') return 'regressed';
  return 'changed';
}

const side = (r: MatrixResults, c: CellResult | undefined): CellSide | null => (c ? { outcome: c.outcome, premise: cellPremise(r, c) !== null, summary: String(c.summary ?? ''), reason: String(c.reason ?? '') } : null);
const info = (r: MatrixResults): RunInfo => ({ startedAt: String(r.startedAt ?? ''), command: String(r.command ?? ''), version: String(r.tool?.version ?? ''), profiles: r.profiles.map((p) => p.name) });

/**
 * Compares two runs cell by cell, matching cells by profile name and attack id.
 * When each run has exactly one profile and the names differ, those two profiles are matched.
 * @returns every cell with its change; never throws on well-formed results
 */
export function compareResults(before: MatrixResults, after: MatrixResults): Comparison {
  const paired = before.profiles.length === 1 && after.profiles.length === 1 && before.profiles[0].name !== after.profiles[0].name ? { before: before.profiles[0].name, after: after.profiles[0].name } : null;
  const beforeName = (afterName: string) => (paired && afterName === paired.after ? paired.before : afterName);
  const profiles = [...after.profiles.map((p) => p.name)];
  const attacks = [...after.attacks.map((a) => a.id)];
  for (const a of before.attacks) if (!attacks.includes(a.id)) attacks.push(a.id);
  const changes: CellChange[] = [];
  for (const p of profiles) {
    for (const a of attacks) {
      const b = before.cells.find((c) => c.profile === beforeName(p) && c.attack === a);
      const n = after.cells.find((c) => c.profile === p && c.attack === a);
      if (!b && !n) continue;
      const bs = side(before, b);
      const ns = side(after, n);
      changes.push({ profile: p, attack: a, before: bs, after: ns, kind: changeKind(bs?.outcome ?? null, ns?.outcome ?? null, { before: bs?.premise ?? false, after: ns?.premise ?? false }) });
    }
  }
  const seen = new Set(changes.map((c) => `${beforeName(c.profile)}\u0000${c.attack}`));
  for (const b of before.cells) {
    if (seen.has(`${b.profile}\u0000${b.attack}`)) continue;
    changes.push({ profile: b.profile, attack: b.attack, before: side(before, b), after: null, kind: 'removed' });
  }
  const counts = Object.fromEntries(Object.keys(CHANGE_KINDS).map((k) => [k, changes.filter((c) => c.kind === k).length])) as Record<ChangeKind, number>;
  const settingsOf = (r: MatrixResults, name: string) => {
    const p = r.profiles.find((x) => x.name === name);
    return p ? (p.effectiveSettings ?? p.settings) : undefined;
  };
  const settings: ProfileSettingsChange[] = [];
  for (const p of [...new Set(changes.map((c) => c.profile))]) {
    const bName = changes.some((c) => c.profile === p && c.kind === 'removed') && !after.profiles.some((x) => x.name === p) ? p : beforeName(p);
    const b = settingsOf(before, bName);
    const a = settingsOf(after, p);
    settings.push({ profile: p, beforeProfile: bName, changes: b === undefined || a === undefined ? null : diffSettings(b, a) });
  }
  return { before: info(before), after: info(after), pairedProfiles: paired, changes, counts, settings };
}

/** What changed in the settings of `profile` (a name as the comparison's cells carry it), or null when only one run has it. */
export function settingsChangeOf(c: Comparison, profile: string): SettingChange[] | null {
  return c.settings.find((s) => s.profile === profile)?.changes ?? null;
}

/** The settings change of a profile as lines of text: each changed setting, or why there is none. */
export function settingsLines(c: Comparison, profile: string): string[] {
  const ch = settingsChangeOf(c, profile);
  if (ch === null) return ['(profile in one run only)'];
  if (!ch.length) return ['(no setting changed)'];
  return ch.map(settingChangeText);
}

/** Options of the compare renderers. */
export interface CompareRenderOptions {
  /** show unchanged cells too (default: only cells that moved, appeared or disappeared) */
  all?: boolean;
}

/** One line: "3 fixed, 0 regressed, 1 changed, 8 unchanged, 0 new, 0 removed". */
export function compareSummary(c: Comparison): string {
  const k = c.counts;
  return `${k.fixed} fixed, ${k.regressed} regressed, ${k.changed} changed, ${k.unchanged} unchanged, ${k.added} new, ${k.removed} removed`;
}

const word = (s: CellSide | null) => (s ? `${OUTCOME_LABELS[s.outcome] ?? String(s.outcome)}${s.premise ? ' (premise only)' : ''}` : '—');

/**
 * Terminal renderer: the cells that moved, grouped by profile, with what changed in that
 * profile's settings beside them (unchanged cells are only counted unless `opts.all`).
 */
export function renderCompareTable(c: Comparison, opts: { colour?: boolean } & CompareRenderOptions = {}): string {
  const paint = (k: ChangeKind, t: string) => {
    if (!opts.colour) return t;
    const code = k === 'fixed' ? '32;1' : k === 'regressed' ? '31;1' : k === 'changed' ? '33' : '90';
    return `\x1b[${code}m${t}\x1b[0m`;
  };
  const rows = c.changes.filter((x) => opts.all || x.kind !== 'unchanged');
  const lines: string[] = [];
  if (c.pairedProfiles) lines.push(`comparing profile ${tt(c.pairedProfiles.before)} (before) with ${tt(c.pairedProfiles.after)} (after)`);
  if (!rows.length) lines.push('no cell changed');
  else {
    const t = new Table({ head: ['profile', 'attack', 'before', 'after', 'change', 'settings changed'], style: { head: opts.colour ? ['cyan'] : [], border: opts.colour ? ['grey'] : [] } });
    for (const p of [...new Set(rows.map((x) => x.profile))]) {
      const mine = rows.filter((x) => x.profile === p);
      mine.forEach((x, i) => {
        const cells: Table.Cell[] = [tt(x.profile), tt(x.attack), tt(word(x.before)), tt(word(x.after)), paint(x.kind, CHANGE_KINDS[x.kind].label)];
        // One settings cell spans the profile's rows: the same diff explains each of them.
        if (i === 0) cells.push({ content: settingsLines(c, p).map(tt).join('\n'), rowSpan: mine.length });
        t.push(cells);
      });
    }
    lines.push(t.toString());
  }
  lines.push(compareSummary(c));
  return lines.join('\n') + '\n';
}

/**
 * Markdown renderer: summary, the cells that moved with what changed in their profile's settings,
 * each with both reasons; unchanged cells in brief only when `opts.all`.
 */
export function renderCompareMarkdown(c: Comparison, opts: CompareRenderOptions = {}): string {
  const out: string[] = ['# secchat: before and after', ''];
  out.push(`- before: ${markdownCode(c.before.command)} — ${md(c.before.startedAt)} (secchat ${md(c.before.version)})`);
  out.push(`- after: ${markdownCode(c.after.command)} — ${md(c.after.startedAt)} (secchat ${md(c.after.version)})`);
  if (c.pairedProfiles) out.push(`- profile ${markdownCode(c.pairedProfiles.before)} (before) is compared with ${markdownCode(c.pairedProfiles.after)} (after)`);
  out.push('', `**${compareSummary(c)}**`, '');
  const settingsCell = (p: string) => settingsLines(c, p).map((l) => (l.startsWith('(') ? md(l) : markdownCellCode(l))).join('; ');
  const changed = c.changes.filter((x) => x.kind !== 'unchanged');
  if (changed.length) {
    out.push('| profile | attack | before | after | change | settings changed |', '|---|---|---|---|---|---|');
    for (const x of changed) out.push(`| ${md(x.profile)} | ${md(x.attack)} | ${md(word(x.before))} | ${md(word(x.after))} | **${CHANGE_KINDS[x.kind].label}** | ${settingsCell(x.profile)} |`);
    out.push('');
    for (const x of changed) {
      out.push(`### ${md(x.profile)} × ${md(x.attack)}: ${CHANGE_KINDS[x.kind].label}`, '');
      out.push(`- settings changed: ${settingsLines(c, x.profile).map((l) => (l.startsWith('(') ? md(l) : markdownCode(l))).join(', ')}`);
      if (x.before) out.push(`- before (${md(word(x.before))}): ${md(x.before.reason)}`);
      if (x.after) out.push(`- after (${md(word(x.after))}): ${md(x.after.reason)}`);
      out.push('');
    }
  } else out.push('No cell changed.', '');
  const same = c.changes.filter((x) => x.kind === 'unchanged');
  if (same.length && opts.all) {
    out.push('Unchanged:', '');
    for (const x of same) out.push(`- ${markdownParagraph(x.profile)} × ${md(x.attack)}: ${md(word(x.after))}`);
    out.push('');
  } else if (same.length) out.push(`${same.length} unchanged cell${same.length > 1 ? 's are' : ' is'} not shown (\`--all\` shows them).`, '');
  return out.join('\n');
}

const COMPARE_CSS = `
.kind { display: inline-block; padding: .05em .5em; border-radius: 5px; font-weight: 800; font-size: .85rem; letter-spacing: .03em; border: 2px solid; white-space: nowrap; }
.k-fixed { background: var(--b-bg); color: var(--b-fg); border-color: var(--b-bd); }
.k-regressed { background: var(--s-bg); color: var(--s-fg); border-color: var(--s-bd); }
.k-changed { background: var(--e-bg); color: var(--e-fg); border-color: var(--e-bd); }
.k-unchanged, .k-added, .k-removed { background: var(--n-bg); color: var(--n-fg); border-color: var(--n-bd); }
dl.kinds { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: .4rem .75rem; align-items: baseline; margin: .25rem 0 1rem; font-size: .95rem; }
dl.kinds dd { margin: 0 1rem 0 0; }
.grid td.cmp { padding: .6rem .75rem; min-width: 0; }
.grid tbody th { white-space: normal; max-width: 13rem; }
.grid td.cmp.k-unchanged, .grid td.cmp.k-added, .grid td.cmp.k-removed { background: var(--paper); border-color: var(--line); color: var(--ink); }
.grid td.cmp .kind { font-size: 1.05rem; }
.grid td.cmp .pair { display: grid; grid-template-columns: max-content max-content; align-items: center; gap: .25rem .5rem; margin-top: .5rem; font-size: .85rem; }
.grid td.cmp .when { color: var(--muted); }
.grid td.cmp .badge { font-size: .8rem; padding: 0 .4em; }
.grid tbody th .pname { display: block; font-family: ui-monospace, Menlo, Consolas, monospace; }
ul.sdiff { margin: .35rem 0 0; padding: 0; list-style: none; font-weight: 400; font-size: .85rem; }
ul.sdiff li { margin: .15rem 0; overflow-wrap: anywhere; }
ul.sdiff code.skey { font-weight: 700; }
.sdiff-none { display: block; font-weight: 400; font-size: .85rem; color: var(--muted); }
ul.changes { padding-left: 1.2rem; }
ul.changes li { margin: .6rem 0; }
@media (max-width: 760px) { dl.kinds { grid-template-columns: max-content 1fr; } }
`;

function sideBadge(s: CellSide | null): string {
  if (!s) return '<span class="badge o-none">absent</span>';
  const o = s.outcome;
  const st = OUTCOME_STYLE[o];
  return st ? `<span class="badge o-${o}"><span class="glyph" aria-hidden="true">${st.glyph}</span>${esc(OUTCOME_LABELS[o])}${s.premise ? ' <span class="note">(premise only)</span>' : ''}</span>` : `<span class="badge o-none">${esc(o)}</span>`;
}

/** A profile's settings change as an HTML list (or the note why there is none). */
function settingsHtml(c: Comparison, profile: string): string {
  const ch = settingsChangeOf(c, profile);
  if (ch === null || !ch.length) return `<span class="sdiff-none">${esc(settingsLines(c, profile)[0])}</span>`;
  const side = (v: string | null) => (v === null ? '<span class="note">not in effect</span>' : `<code>${esc(v)}</code>`);
  return `<ul class="sdiff" aria-label="Settings changed">${ch.map((x) => `<li><code class="skey">${esc(x.setting)}</code> ${side(x.before)} <span class="arrow" aria-label="became">→</span> ${side(x.after)}</li>`).join('')}</ul>`;
}

/**
 * HTML renderer: a before → after grid for a slide, each row headed by what changed in that
 * profile's settings, with the legend and each change's reasons. Without `opts.all` the grid holds
 * only the profiles and attacks with a cell that moved, and unchanged cells in it stay blank.
 */
export function renderCompareHtml(c: Comparison, opts: CompareRenderOptions = {}): string {
  const shown = opts.all ? c.changes : c.changes.filter((x) => x.kind !== 'unchanged');
  const profiles = [...new Set(shown.map((x) => x.profile))];
  const attacks = [...new Set(shown.map((x) => x.attack))];
  const tally = (Object.keys(CHANGE_KINDS) as ChangeKind[]).map((k) => `<li class="k-${k}">${c.counts[k]} ${esc(CHANGE_KINDS[k].label)}</li>`).join('');
  const head = `<tr><th scope="col">Profile, and what changed in its settings</th>${attacks.map((a) => `<th scope="col"><span class="aid">${esc(a)}</span></th>`).join('')}</tr>`;
  const rowLabel = (p: string) => (c.pairedProfiles && p === c.pairedProfiles.after ? `${esc(c.pairedProfiles.before)} <span class="arrow" aria-label="became">→</span> ${esc(p)}` : esc(p));
  const rows = profiles
    .map((p) => {
      const cells = attacks.map((a) => {
        const x = c.changes.find((y) => y.profile === p && y.attack === a);
        if (!x) return '<td class="cmp k-unchanged"><span class="note">not run</span></td>';
        if (x.kind === 'unchanged' && !opts.all) return '<td class="cmp k-unchanged" data-change="unchanged"><span class="note">same</span></td>';
        return `<td class="cmp k-${x.kind}" data-change="${x.kind}"><span class="kind k-${x.kind}">${esc(CHANGE_KINDS[x.kind].label)}</span><span class="pair"><span class="when">before</span>${sideBadge(x.before)}<span class="when">after</span>${sideBadge(x.after)}</span></td>`;
      });
      return `<tr><th scope="row"><span class="pname">${rowLabel(p)}</span>${settingsHtml(c, p)}</th>${cells.join('')}</tr>`;
    })
    .join('');
  const changed = c.changes.filter((x) => x.kind !== 'unchanged');
  const list = changed.length
    ? `<ul class="changes">${changed
        .map((x) => `<li><strong>${esc(x.profile)} × ${esc(x.attack)}</strong> <span class="kind k-${x.kind}">${esc(CHANGE_KINDS[x.kind].label)}</span><br>settings changed: ${esc(settingsLines(c, x.profile).join('; '))}<br>${x.before ? `before, ${esc(word(x.before))}: ${esc(x.before.reason)}<br>` : ''}${x.after ? `after, ${esc(word(x.after))}: ${esc(x.after.reason)}` : ''}</li>`)
        .join('')}</ul>`
    : '<p>No cell changed.</p>';
  const hidden = opts.all ? 0 : c.counts.unchanged;
  const kindsLegend = `<dl class="kinds" aria-label="Kinds of change">${(Object.keys(CHANGE_KINDS) as ChangeKind[]).map((k) => `<dt><span class="kind k-${k}">${esc(CHANGE_KINDS[k].label)}</span></dt><dd>${esc(CHANGE_KINDS[k].meaning)}</dd>`).join('')}</dl>`;
  const grid = profiles.length
    ? `<div class="scroll"><table class="grid"><caption>Outcome before and after, for each attack (columns) against each profile (rows), beside what changed in the profile's settings.${hidden ? ` ${esc(hidden)} unchanged cell${hidden > 1 ? 's are' : ' is'} hidden (<code>--all</code> shows them).` : ''}</caption><thead>${head}</thead><tbody>${rows}</tbody></table></div>`
    : `<p>No cell changed.${hidden ? ` ${esc(hidden)} unchanged cell${hidden > 1 ? 's are' : ' is'} hidden (<code>--all</code> shows them).` : ''}</p>`;
  const body = `<header class="masthead"><div class="wrap">
<h1>Before and after</h1>
<p>Before: <code>${esc(c.before.command)}</code> · ${esc(c.before.startedAt)}</p>
<p>After: <code>${esc(c.after.command)}</code> · ${esc(c.after.startedAt)}</p>
${c.pairedProfiles ? `<p>Profile <code>${esc(c.pairedProfiles.before)}</code> (before) compared with <code>${esc(c.pairedProfiles.after)}</code> (after).</p>` : ''}
<ul class="tally" aria-label="Change counts">${tally}</ul>
</div></header>
<main class="wrap">
<section class="card" id="matrix" aria-labelledby="cmp-h"><h2 id="cmp-h">What changed</h2>
${kindsLegend}
${grid}
</section>
<section class="card" aria-labelledby="why-h"><h2 id="why-h">Why, cell by cell</h2>${list}</section>
<footer>Generated by secchat from two results.json files. Self-contained: no scripts, fonts or network requests.</footer>
</main>`;
  return htmlPage('secchat: before and after', body).replace('</style>', `${COMPARE_CSS}</style>`);
}
