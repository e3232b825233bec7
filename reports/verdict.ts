/**
 * The one-line verdict of a profile: "which configurations are safe?" answered from the row's
 * cells alone — what each attack measured — never from the profile's settings (a setting that
 * looks strong proves nothing until an attack fails against it, and one that looks weak may not
 * be the one in use). Every renderer (terminal, Markdown, HTML) prints {@link ProfileVerdict.line}.
 *
 * - `fails`: at least one attack without a premise succeeded; the line groups those attacks by
 *   what they broke: "fails: confidentiality (mitm-passive); integrity (tamper)".
 * - `holds-except-premise`: only premise attacks succeeded (attacks/types.ts `premise`, recorded
 *   in results.json) and each of them needed its premise: "holds against every attack except
 *   those that assume the victim trusts a rogue root CA (mitm-rogue-ca)". The premise is judged
 *   per cell ({@link cellPremise}): a premise attack that measured it got through without its
 *   premise (`premiseUsed: false`, e.g. against a client that verifies nothing) is a failure of
 *   the row like any attack without a premise — never "only under a premise".
 * - `holds`: every attack that applied was blocked.
 * - `unproven`: nothing succeeded, but a run ended in error or was not run: an error proves
 *   nothing either way, so the row may not claim to hold (a false "holds" is the worst answer).
 * - `not-run`: the row has no cell.
 */
import type { AttackPremise, CellResult, Impact, MatrixResults } from './results.ts';

/** The verdict's kind, from worst to best. */
export type VerdictStatus = 'fails' | 'unproven' | 'holds-except-premise' | 'holds' | 'not-run';

/** Attacks that broke the same properties. */
export interface FailureGroup {
  /** what they broke, in {@link IMPACT_ORDER}; empty when the cells recorded no impact */
  impacts: Impact[];
  /** attack ids, in the run's attack order */
  attacks: string[];
}

/** Premise attacks that succeeded under the same premise. */
export interface PremiseGroup {
  premise: AttackPremise;
  attacks: string[];
}

/** The verdict of one row (a profile, or any other row name cells carry). */
export interface ProfileVerdict {
  profile: string;
  status: VerdictStatus;
  /** the one line every renderer shows, e.g. "fails: integrity (tamper)" */
  line: string;
  /** attacks without a premise that succeeded, grouped by what they broke */
  failures: FailureGroup[];
  /** premise attacks that succeeded, grouped by premise */
  premises: PremiseGroup[];
  /** attacks whose run ended in error */
  errors: string[];
  /** attacks of the run with no cell for this row */
  notRun: string[];
  /** cells per outcome */
  counts: { succeeded: number; blocked: number; notApplicable: number; error: number };
}

/** Order in which impacts are named (the CIA triad, then authentication). */
export const IMPACT_ORDER: readonly Impact[] = ['confidentiality', 'integrity', 'authentication', 'availability'];

/** The premise of attack `id` in these results, or null (no premise, or an attack the run does not list). */
export function premiseOf(r: Pick<MatrixResults, 'attacks'>, id: string): AttackPremise | null {
  const p = r.attacks.find((a) => a.id === id)?.premise;
  return p && typeof p.assumes === 'string' && typeof p.label === 'string' ? p : null;
}

/**
 * The premise a cell's success rests on: its attack's premise ({@link premiseOf}) unless the cell
 * records that the attacker got there without it (`premiseUsed: false`). Every renderer and the
 * verdict ask this, never the column alone, so a premise attack that needed no premise is shown
 * and counted as the row's own failure.
 * @returns the premise, or null for a cell that did not succeed, a column without a premise, or a
 *   success that did not need it; a cell without `premiseUsed` (older files) used its premise
 */
export function cellPremise(r: Pick<MatrixResults, 'attacks'>, c: Pick<CellResult, 'attack' | 'outcome' | 'premiseUsed'>): AttackPremise | null {
  if (c.outcome !== 'succeeded' || c.premiseUsed === false) return null;
  return premiseOf(r, c.attack);
}

const list = (ids: string[]) => `(${ids.join(', ')})`;

/** "confidentiality and integrity", "confidentiality, integrity and authentication". */
function impactWords(impacts: Impact[]): string {
  if (!impacts.length) return 'an unrecorded property';
  if (impacts.length === 1) return impacts[0];
  return `${impacts.slice(0, -1).join(', ')} and ${impacts[impacts.length - 1]}`;
}

function sortedImpacts(c: CellResult): Impact[] {
  const known = new Set(Array.isArray(c.impact) ? c.impact : []);
  return IMPACT_ORDER.filter((i) => known.has(i));
}

/**
 * The verdict of row `profile`, from its cells in `r` (in the run's attack order).
 * @returns the verdict; never throws on well-formed results (unknown outcomes count as errors)
 */
export function profileVerdict(r: Pick<MatrixResults, 'attacks' | 'cells'>, profile: string): ProfileVerdict {
  const failures: FailureGroup[] = [];
  const premises: PremiseGroup[] = [];
  const errors: string[] = [];
  const notRun: string[] = [];
  const counts = { succeeded: 0, blocked: 0, notApplicable: 0, error: 0 };
  const attackIds = [...r.attacks.map((a) => a.id)];
  for (const c of r.cells) if (c.profile === profile && !attackIds.includes(c.attack)) attackIds.push(c.attack);
  for (const id of attackIds) {
    const c = r.cells.find((x) => x.profile === profile && x.attack === id);
    if (!c) {
      notRun.push(id);
      continue;
    }
    if (c.outcome === 'blocked') counts.blocked++;
    else if (c.outcome === 'not-applicable') counts.notApplicable++;
    else if (c.outcome === 'succeeded') {
      counts.succeeded++;
      const premise = cellPremise(r, c);
      if (premise) {
        const g = premises.find((x) => x.premise.assumes === premise.assumes);
        if (g) g.attacks.push(id);
        else premises.push({ premise, attacks: [id] });
      } else {
        const impacts = sortedImpacts(c);
        const key = impacts.join('+');
        const g = failures.find((x) => x.impacts.join('+') === key);
        if (g) g.attacks.push(id);
        else failures.push({ impacts, attacks: [id] });
      }
    } else {
      counts.error++;
      errors.push(id);
    }
  }
  // Most fundamental property first; a group breaking more of it before one breaking less.
  const rank = (g: FailureGroup) => (g.impacts.length ? IMPACT_ORDER.indexOf(g.impacts[0]) : IMPACT_ORDER.length);
  failures.sort((a, b) => rank(a) - rank(b) || a.impacts.length - b.impacts.length);

  const ran = counts.succeeded + counts.blocked + counts.notApplicable + counts.error;
  const every = counts.notApplicable ? 'every attack that applies' : 'every attack';
  const except = premises.length ? ` except those that assume ${premises.map((g) => `${g.premise.assumes} ${list(g.attacks)}`).join(', or ')}` : '';
  const unproven = [
    errors.length ? `${errors.length} run${errors.length > 1 ? 's' : ''} ended in error ${list(errors)}` : '',
    notRun.length ? `${notRun.length} attack${notRun.length > 1 ? 's were' : ' was'} not run ${list(notRun)}` : '',
  ].filter(Boolean);
  let status: VerdictStatus;
  let line: string;
  if (!ran) {
    status = 'not-run';
    line = 'not run: no attack ran against this profile';
  } else if (failures.length) {
    status = 'fails';
    line = `fails: ${failures.map((g) => `${impactWords(g.impacts)} ${list(g.attacks)}`).join('; ')}`;
    if (premises.length) line += `; also ${premises.map((g) => `${g.attacks.join(', ')} (premise: ${g.premise.label})`).join(', ')}`;
    if (unproven.length) line += `; unproven: ${unproven.join(', ')}`;
  } else if (unproven.length) {
    status = 'unproven';
    line = `unproven: ${unproven.join(', ')}; holds against every other attack${counts.notApplicable ? ' that applies' : ''}${except}`;
  } else if (premises.length) {
    status = 'holds-except-premise';
    line = `holds against ${every}${except}`;
  } else {
    status = 'holds';
    line = `holds against ${every}`;
  }
  return { profile, status, line, failures, premises, errors, notRun, counts };
}

/** The verdict of every row of a run: profiles, then any other row name the cells carry, in order. */
export function verdicts(r: Pick<MatrixResults, 'attacks' | 'cells' | 'profiles'>): ProfileVerdict[] {
  const names = r.profiles.map((p) => p.name);
  for (const c of r.cells) if (!names.includes(c.profile)) names.push(c.profile);
  return names.map((n) => profileVerdict(r, n));
}

/** A word or two per status for narrow places (a table row header, a badge). */
export const VERDICT_STATUS_LABELS: Record<VerdictStatus, string> = {
  fails: 'FAILS',
  unproven: 'unproven',
  'holds-except-premise': 'holds, except premise',
  holds: 'holds',
  'not-run': 'not run',
};
