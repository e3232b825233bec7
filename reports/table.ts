/**
 * Terminal renderer. By default a short summary ({@link renderSummary}): one verdict line per
 * profile (reports/verdict.ts) and the counts. On request (`--grid`) the profile × attack matrix
 * as a cli-table3 table, outcome word plus a short reason in each cell (colour is never the only
 * signal); a premise attack's success shows its premise instead of the reason, in its own colour.
 * Strings from the results file are untrusted: each goes through core/escape.ts's terminal rule.
 */
import Table from 'cli-table3';
import { terminalText as tt } from '../core/escape.ts';
import { OUTCOME_LABELS, resultRows, type CellResult, type MatrixResults } from './results.ts';
import { cellPremise, verdicts, type VerdictStatus } from './verdict.ts';

const COLOURS: Record<string, [string, string]> = {
  succeeded: ['\x1b[31;1m', '\x1b[0m'],
  blocked: ['\x1b[32m', '\x1b[0m'],
  'not-applicable': ['\x1b[90m', '\x1b[0m'],
  error: ['\x1b[33;1m', '\x1b[0m'],
};

/** A reason shortened to `max` characters for a table cell. */
export function shortReason(reason: string, max = 60): string {
  const r = tt(String(reason ?? '').replace(/\s+/g, ' '));
  return r.length <= max ? r : r.slice(0, max - 1) + '…';
}

/** Magenta: a success that rests on a premise (not the profile's own failure). */
const PREMISE_COLOUR: [string, string] = ['\x1b[35m', '\x1b[0m'];

function cellText(r: MatrixResults, c: CellResult | undefined, colour: boolean, reasonChars: number): string {
  if (!c) return '';
  const premise = cellPremise(r, c);
  const [on, off] = colour ? (premise ? PREMISE_COLOUR : COLOURS[c.outcome] ?? ['', '']) : ['', ''];
  const second = premise ? `if ${premise.label}` : c.summary || c.reason;
  return `${on}${OUTCOME_LABELS[c.outcome] ?? tt(c.outcome)}${off}\n${shortReason(second, reasonChars)}`;
}

/** Width of one attack column, in characters (outcome word plus a short reason on two lines). */
const CELL_WIDTH = 22;
/** Width of the profile column, in characters. */
const PROFILE_WIDTH = 26;

/**
 * Renders the matrix. When every attack does not fit in `opts.width` columns, the table is split
 * into several tables of consecutive attacks, each repeating the profile column, so no cell is
 * truncated or wrapped off-screen.
 * @param opts.colour ANSI colours (only for a terminal)
 * @param opts.width  terminal width in characters (default: stdout's, else 160)
 * @param opts.reasonChars characters of the reason shown per cell
 */
export function renderTable(results: MatrixResults, opts: { colour?: boolean; width?: number; reasonChars?: number } = {}): string {
  const attacks = results.attacks.map((a) => a.id);
  const width = opts.width ?? (process.stdout.columns || 160);
  const perTable = Math.max(1, Math.floor((width - PROFILE_WIDTH - 1) / (CELL_WIDTH + 1)));
  const tables: string[] = [];
  for (let i = 0; i < attacks.length; i += perTable) {
    const chunk = attacks.slice(i, i + perTable);
    const table = new Table({
      head: [results.targets?.length ? 'profile / target' : 'profile', ...chunk.map(tt)],
      colWidths: [PROFILE_WIDTH, ...chunk.map(() => CELL_WIDTH)],
      wordWrap: true,
      style: { head: opts.colour ? ['cyan'] : [], border: opts.colour ? ['grey'] : [] },
    });
    for (const p of resultRows(results)) {
      table.push([tt(p.kind === 'target' ? `${p.name} (target)` : p.name), ...chunk.map((a) => cellText(results, results.cells.find((c) => c.profile === p.name && c.attack === a), !!opts.colour, opts.reasonChars ?? (CELL_WIDTH - 2) * 2))]);
    }
    tables.push(table.toString());
  }
  return tables.join('\n');
}

/**
 * One line with the count of each outcome, successes that rest on a premise counted apart, and
 * the run's time, e.g. "228 runs: 36 succeeded (18 of them only under a premise), 142 blocked,
 * 41 not applicable, 9 error — 105.7 s"; then one line per contradiction between cells of a row
 * (results.warnings).
 */
export function summaryLine(results: MatrixResults): string {
  const n = (o: string) => results.cells.filter((c) => c.outcome === o).length;
  const premised = results.cells.filter((c) => cellPremise(results, c)).length;
  const succeeded = `${n('succeeded')} succeeded${premised ? ` (${premised} of them only under a premise)` : ''}`;
  const line = `${results.cells.length} runs: ${succeeded}, ${n('blocked')} blocked, ${n('not-applicable')} not applicable, ${n('error')} error — ${(results.durationMs / 1000).toFixed(1)} s`;
  // Contradictions between cells of a row (attacks/consistency.ts) follow, one line each.
  const warnings = (results.warnings ?? []).map((w) => tt(`warning: contradiction in ${w.profile} (${w.attacks.join(', ')}): ${w.message}`));
  return [line, ...warnings].join('\n');
}

const STATUS_COLOURS: Record<VerdictStatus, string> = {
  fails: '\x1b[31;1m',
  unproven: '\x1b[33;1m',
  'holds-except-premise': '\x1b[35m',
  holds: '\x1b[32m',
  'not-run': '\x1b[90m',
};

/**
 * The short summary `matrix` and `report` print by default: a heading, one verdict line per
 * profile (the verdict's first word coloured when `opts.colour`), and {@link summaryLine}.
 */
export function renderSummary(results: MatrixResults, opts: { colour?: boolean } = {}): string {
  const vs = verdicts(results);
  const width = Math.min(28, Math.max(8, ...vs.map((v) => tt(v.profile).length)));
  const lines = ['Which configurations are safe? One verdict per profile, from its attack runs:'];
  for (const v of vs) {
    const line = tt(v.line);
    const cut = line.search(/[:\s]/);
    const head = cut > 0 ? line.slice(0, cut) : line;
    const painted = opts.colour ? `${STATUS_COLOURS[v.status]}${head}\x1b[0m${line.slice(head.length)}` : line;
    lines.push(`  ${tt(v.profile).padEnd(width)}  ${painted}`);
  }
  lines.push(summaryLine(results));
  return lines.join('\n') + '\n';
}
