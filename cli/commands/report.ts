import { Command, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { ERROR_CODES, UsageError } from '../../core/errors.ts';
import { renderMarkdown } from '../../reports/markdown.ts';
import { extraRenderers } from '../../reports/renderers.ts';
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

/** `secchat report`: render results.json again in another format. */
export function reportCommand(io: CliIo): Command {
  return new Command('report')
    .description('render a results.json as a table, Markdown or HTML')
    .requiredOption('--in <file>', 'results.json written by `secchat matrix`')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'md', ...extraRenderers.map((r) => r.format)]).default('table'))
    .option('--out <file>', 'write to a file instead of stdout')
    .action((o: { in: string; format: string; out?: string }) => {
      const results = readResults(o.in);
      let text: string;
      if (o.format === 'table') text = renderTable(results, { colour: !o.out && !!process.stdout.isTTY }) + '\n' + summaryLine(results) + '\n';
      else if (o.format === 'md') text = renderMarkdown(results);
      else text = extraRenderers.find((r) => r.format === o.format)!.render(results, { resultsFile: o.in });
      if (o.out) {
        writeFileSync(o.out, text);
        io.err(`wrote ${o.out}\n`);
      } else io.out(text);
    });
}
