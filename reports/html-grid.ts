/**
 * The matrix grid and the verdict list of the HTML report: one cell per profile (or target) and
 * attack, carrying the outcome word and glyph and linking to its run; transposed and compact when
 * there are many attacks, so it fits a projector.
 * @module
 */
import { esc, markCanary, outcomeOf, PREMISE_STYLE, OUTCOME_STYLE, verdictChip } from './html-page.ts';
import { OUTCOME_LABELS, resultRows, type MatrixResults, type ResultRow } from './results.ts';
import { cellPremise, premiseOf, profileVerdict, verdicts } from './verdict.ts';

/** Attack columns beyond which the grid switches to its compact projector mode. */
export const COMPACT_COLUMNS = 6;

/** The verdict list: one line per profile, linking to its section. */
export function verdictsHtml(r: MatrixResults): string {
  const index = new Map(r.profiles.map((p, i) => [p.name, i]));
  const items = verdicts(r).map((v) => {
    const i = index.get(v.profile);
    const name = i === undefined ? `<code>${esc(v.profile)}</code>` : `<a href="#p-${i}"><code>${esc(v.profile)}</code></a>`;
    return `<li class="v-${v.status}" data-status="${v.status}">${name}${verdictChip(v)}<span class="vline">${esc(v.line)}</span></li>`;
  });
  return `<p class="note">Computed from each profile's row of the matrix — what the attacks measured — never from its settings. A profile "holds" only when every attack that applied was blocked; a run in error leaves it unproven.</p><ul class="verdicts">${items.join('')}</ul>`;
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
export function gridHtml(r: MatrixResults): string {
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
    const premise = cellPremise(r, c);
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
