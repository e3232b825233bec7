import { Command, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { ERROR_CODES, UsageError } from '../../core/errors.ts';
import { compareResults, renderCompareHtml, renderCompareMarkdown, renderCompareTable } from '../../reports/compare.ts';
import { REPORT_FORMATS, reportFormat } from '../../reports/formats.ts';
import { READABLE_SCHEMA_VERSIONS, upgradeResults, type MatrixResults } from '../../reports/results.ts';
import { renderSummary, renderTable } from '../../reports/table.ts';
import type { CliIo } from '../common.ts';

/**
 * Reads a results.json file of any readable schema version, brought to the current one
 * (reports/results.ts `upgradeResults`).
 * @throws UsageError when it is missing, not JSON, or of a schema version this secchat cannot read
 */
export function readResults(file: string): MatrixResults {
  let data: MatrixResults;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(ERROR_CODES.USAGE, `cannot read results ${file}: ${(err as Error).message}`);
  }
  if (!READABLE_SCHEMA_VERSIONS.includes(data?.schemaVersion) || !Array.isArray(data.cells) || !Array.isArray(data.profiles) || !Array.isArray(data.attacks)) {
    throw new UsageError(ERROR_CODES.USAGE, `${file} is not a secchat results.json of schema version ${READABLE_SCHEMA_VERSIONS.join(' or ')}`);
  }
  return upgradeResults(data);
}

/** `secchat report`: render results.json again in another format, or compare two runs. */
export function reportCommand(io: CliIo): Command {
  return new Command('report')
    .description('render a results.json as a table, Markdown or HTML; or compare two runs (before and after hardening)')
    .option('--in <file>', 'results.json written by `secchat matrix`')
    .option('--compare <files...>', 'two results.json files, before and after: show what changed')
    .addOption(new Option('--format <format>', 'output format (table: the verdict per profile and the counts)').choices([...new Set(['table', ...REPORT_FORMATS.map((r) => r.format)])]).default('table'))
    .option('--grid', 'with --format table: print the full profile × attack grid before the verdicts', false)
    .option('--all', 'with --compare: show unchanged cells too (default: only cells that moved)', false)
    .option('--out <file>', 'write to a file instead of stdout')
    .addHelpText('after', '\nExamples:\n  secchat report --in reports/out/X/results.json --grid\n  secchat report --in reports/out/X/results.json --format html --out report.html\n  secchat report --compare before/results.json after/results.json --format html --out compare.html')
    .action((o: { in?: string; compare?: string[]; format: string; grid: boolean; all: boolean; out?: string }) => {
      if (!!o.in === !!o.compare) throw new UsageError(ERROR_CODES.USAGE, 'pass either --in FILE or --compare BEFORE AFTER');
      let text: string;
      if (o.compare) {
        if (o.compare.length !== 2) throw new UsageError(ERROR_CODES.USAGE, `--compare takes exactly two files, before and after (got ${o.compare.length})`);
        const c = compareResults(readResults(o.compare[0]), readResults(o.compare[1]));
        if (o.grid) throw new UsageError(ERROR_CODES.USAGE, '--grid is for one run (--in FILE); --compare shows the cells that moved (--all: every cell)');
        if (o.format === 'table') text = renderCompareTable(c, { colour: !o.out && !!process.stdout.isTTY, all: o.all });
        else if (o.format === 'md') text = renderCompareMarkdown(c, { all: o.all });
        else if (o.format === 'html') text = renderCompareHtml(c, { all: o.all });
        else throw new UsageError(ERROR_CODES.USAGE, `--compare renders as table, md or html (not ${o.format})`);
      } else {
        if (o.all) throw new UsageError(ERROR_CODES.USAGE, '--all is for --compare BEFORE AFTER (one run always shows every cell with --grid)');
        if (o.grid && o.format !== 'table') throw new UsageError(ERROR_CODES.USAGE, `--grid is for --format table (the ${o.format} report always holds the grid)`);
        const results = readResults(o.in!);
        const colour = !o.out && !!process.stdout.isTTY;
        if (o.format === 'table') text = (o.grid ? renderTable(results, { colour }) + '\n' : '') + renderSummary(results, { colour });
        else text = reportFormat(o.format).render(results, { resultsFile: o.in!, outFile: o.out });
      }
      if (o.out) {
        writeFileSync(o.out, text);
        io.err(`wrote ${o.out}\n`);
      } else io.out(text);
    });
}
