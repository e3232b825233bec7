/**
 * Terminal renderer: the profile × attack matrix as a cli-table3 table, outcome word plus a
 * short reason in each cell (colour is never the only signal). Strings from the results file are
 * untrusted: each goes through core/escape.ts's terminal rule.
 */
import Table from 'cli-table3';
import { terminalText as tt } from '../core/escape.ts';
import { OUTCOME_LABELS, resultRows, type CellResult, type MatrixResults } from './results.ts';

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

function cellText(c: CellResult | undefined, colour: boolean, reasonChars: number): string {
  if (!c) return '';
  const [on, off] = colour ? COLOURS[c.outcome] : ['', ''];
  return `${on}${OUTCOME_LABELS[c.outcome] ?? tt(c.outcome)}${off}\n${shortReason(c.summary || c.reason, reasonChars)}`;
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
      table.push([tt(p.kind === 'target' ? `${p.name} (target)` : p.name), ...chunk.map((a) => cellText(results.cells.find((c) => c.profile === p.name && c.attack === a), !!opts.colour, opts.reasonChars ?? (CELL_WIDTH - 2) * 2))]);
    }
    tables.push(table.toString());
  }
  return tables.join('\n');
}

/** One line per outcome with its count, e.g. "12 succeeded, 30 blocked, 4 n/a, 0 error". */
export function summaryLine(results: MatrixResults): string {
  const n = (o: string) => results.cells.filter((c) => c.outcome === o).length;
  const line = `${results.cells.length} runs: ${n('succeeded')} succeeded, ${n('blocked')} blocked, ${n('not-applicable')} not applicable, ${n('error')} error — ${(results.durationMs / 1000).toFixed(1)} s`;
  // Contradictions between cells of a row (attacks/consistency.ts) follow, one line each.
  const warnings = (results.warnings ?? []).map((w) => tt(`warning: contradiction in ${w.profile} (${w.attacks.join(', ')}): ${w.message}`));
  return [line, ...warnings].join('\n');
}
