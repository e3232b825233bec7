/**
 * The one registry of report formats: what `matrix` writes beside results.json, and what
 * `report --format` can produce (besides the terminal `table`). One entry per format; each renders
 * the same MatrixResults data.
 */
import type { MatrixResults } from './results.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';

/** A report format: its `--format` name, the file `matrix` writes, and its renderer. */
export interface ReportFormat {
  format: string;
  fileName: string;
  /**
   * @param ctx.resultsFile path of the results.json it was read from (for relative links)
   * @param ctx.outFile where the output will be written, if not beside the results (for relative links)
   */
  render(results: MatrixResults, ctx: { resultsFile: string; outFile?: string }): string;
}

/** Every file format, in the order `matrix` writes them. */
export const REPORT_FORMATS: readonly ReportFormat[] = [
  { format: 'md', fileName: 'report.md', render: (results) => renderMarkdown(results) },
  { format: 'html', fileName: 'report.html', render: (results, ctx) => renderHtml(results, ctx) },
];

/**
 * The format named `name`.
 * @throws Error when no format has that name (the CLI offers only registered names)
 */
export function reportFormat(name: string): ReportFormat {
  const f = REPORT_FORMATS.find((x) => x.format === name);
  if (!f) throw new Error(`no report format "${name}" (formats: ${REPORT_FORMATS.map((x) => x.format).join(', ')})`);
  return f;
}
