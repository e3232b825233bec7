import { Command, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { ERROR_CODES, UsageError } from '../../core/errors.ts';
import { compareResults, renderCompareHtml, renderCompareMarkdown, renderCompareTable } from '../../reports/compare.ts';
import { REPORT_FORMATS, reportFormat } from '../../reports/formats.ts';
import { RESULT_SCHEMA_VERSION, type MatrixResults } from '../../reports/results.ts';
import { renderTable, summaryLine } from '../../reports/table.ts';
import type { CliIo } from '../common.ts';

/**
 * Reads a results.json file.
 * @throws UsageError when it is missing, not JSON, or of another schema version
 */
export function readResults(file: string): MatrixResults {
  let data: MatrixResults;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(ERROR_CODES.USAGE, `cannot read results ${file}: ${(err as Error).message}`);
  }
  if (data?.schemaVersion !== RESULT_SCHEMA_VERSION || !Array.isArray(data.cells)) {
    throw new UsageError(ERROR_CODES.USAGE, `${file} is not a secchat results.json of schema version ${RESULT_SCHEMA_VERSION}`);
  }
  return data;
}

/** `secchat report`: render results.json again in another format, or compare two runs. */
export function reportCommand(io: CliIo): Command {
  return new Command('report')
    .description('render a results.json as a table, Markdown or HTML; or compare two runs (before and after hardening)')
    .option('--in <file>', 'results.json written by `secchat matrix`')
    .option('--compare <files...>', 'two results.json files, before and after: show what changed')
    .addOption(new Option('--format <format>', 'output format').choices([...new Set(['table', ...REPORT_FORMATS.map((r) => r.format)])]).default('table'))
    .option('--out <file>', 'write to a file instead of stdout')
    .addHelpText('after', '\nExamples:\n  secchat report --in reports/out/X/results.json --format html --out report.html\n  secchat report --compare before/results.json after/results.json --format html --out compare.html')
    .action((o: { in?: string; compare?: string[]; format: string; out?: string }) => {
      if (!!o.in === !!o.compare) throw new UsageError(ERROR_CODES.USAGE, 'pass either --in FILE or --compare BEFORE AFTER');
      let text: string;
      if (o.compare) {
        if (o.compare.length !== 2) throw new UsageError(ERROR_CODES.USAGE, `--compare takes exactly two files, before and after (got ${o.compare.length})`);
        const c = compareResults(readResults(o.compare[0]), readResults(o.compare[1]));
        if (o.format === 'table') text = renderCompareTable(c, { colour: !o.out && !!process.stdout.isTTY });
        else if (o.format === 'md') text = renderCompareMarkdown(c);
        else if (o.format === 'html') text = renderCompareHtml(c);
        else throw new UsageError(ERROR_CODES.USAGE, `--compare renders as table, md or html (not ${o.format})`);
      } else {
        const results = readResults(o.in!);
        if (o.format === 'table') text = renderTable(results, { colour: !o.out && !!process.stdout.isTTY }) + '\n' + summaryLine(results) + '\n';
        else text = reportFormat(o.format).render(results, { resultsFile: o.in!, outFile: o.out });
      }
      if (o.out) {
        writeFileSync(o.out, text);
        io.err(`wrote ${o.out}\n`);
      } else io.out(text);
    });
}
