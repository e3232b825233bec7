/**
 * Report renderers that `matrix` writes beside results.json and report.md, and `report --format`
 * can produce. One entry per format; each renders the same MatrixResults data.
 */
import type { MatrixResults } from './results.ts';
import { htmlRenderer } from './html.ts';

/** A renderer of results into one file. */
export interface Renderer {
  format: string;
  fileName: string;
  /**
   * @param ctx.resultsFile path of the results.json it was read from (for relative links)
   * @param ctx.outFile where the output will be written, if not beside the results (for relative links)
   */
  render(results: MatrixResults, ctx: { resultsFile: string; outFile?: string }): string;
}

/** Extra renderers (the HTML report registers here). */
export const extraRenderers: Renderer[] = [htmlRenderer];
