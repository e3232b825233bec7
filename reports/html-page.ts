/**
 * The page shell of the HTML reports: the one escaping rule, canary marking, the outcome and
 * premise styles with their badges and legend, and the self-contained document around a body
 * (inline CSS from `html-styles.ts`, a `default-src 'none'` Content-Security-Policy).
 * @module
 */
import { htmlText } from '../core/escape.ts';
import { REPORT_CSS } from './html-styles.ts';
import { OUTCOME_LABELS, type AttackPremise, type CellResult, type Outcome } from './results.ts';
import { VERDICT_STATUS_LABELS, type ProfileVerdict } from './verdict.ts';

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
/** The outcomes in display order. */
export const OUTCOMES = Object.keys(OUTCOME_STYLE) as Outcome[];

/** Glyph and meaning of a success that rests on a premise (shown instead of the red style). */
export const PREMISE_STYLE = {
  glyph: '◇',
  meaning: 'succeeded under the premise named in the cell (e.g. a rogue root CA the victim was made to trust): not a weak setting — the secure defaults do not claim to survive it; a stronger setting (a pin) does',
};

/** The outcome of a cell, or null when it did not run or holds an unknown outcome. */
export const outcomeOf = (c: CellResult | undefined): Outcome | null => (c && OUTCOMES.includes(c.outcome) ? c.outcome : null);
/** Milliseconds as a rounded, grouped `"1,234 ms"`; `—` for anything not a finite number. */
export const fmtMs = (ms: unknown) => (typeof ms === 'number' && Number.isFinite(ms) ? `${Math.round(ms).toLocaleString('en')} ms` : '—');

/** An outcome as a badge: glyph (hidden from screen readers) and word; `not run` for null. */
export function badge(o: Outcome | null): string {
  if (!o) return '<span class="badge o-none">not run</span>';
  return `<span class="badge o-${o}"><span class="glyph" aria-hidden="true">${OUTCOME_STYLE[o].glyph}</span>${esc(OUTCOME_LABELS[o])}</span>`;
}

/** A premise attack's success as a badge, the premise in its title. */
export function premiseBadge(p: AttackPremise): string {
  return `<span class="badge o-premise" title="${esc(`premise: ${p.assumes}`)}"><span class="glyph" aria-hidden="true">${PREMISE_STYLE.glyph}</span>${esc(OUTCOME_LABELS.succeeded)}</span>`;
}

/** The verdict's status as a chip (word, never colour alone). */
export function verdictChip(v: ProfileVerdict): string {
  return `<span class="vchip v-${v.status}">${esc(VERDICT_STATUS_LABELS[v.status])}</span>`;
}

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
