/**
 * The statistics the benchmarks report: nearest-rank percentiles (NIST), medians, and the median
 * of paired ratios of runs measured back to back.
 * @module
 */

/** Nearest-rank percentile of sorted values (NIST definition); 0 for none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Median of numbers (mean of the middle two for an even count); 0 for none. */
export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Median of the ratios a[i] ÷ b[i] of runs measured back to back. On a machine whose background
 * load comes and goes, each pair shares its conditions, so this is steadier than the ratio of
 * the two medians. 0 for no pairs.
 */
export function pairedRatio(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  return Math.round(median(Array.from({ length: n }, (_, i) => a[i]! / b[i]!)) * 1000) / 1000;
}

/**
 * a ÷ b for slices run in counterbalanced order (ABBA: pair 0 measures a then b, pair 1 b then a,
 * and so on): the median over blocks of two pairs of sum(a) ÷ sum(b), a trailing odd pair counting
 * as a block of its own. Each block has each side once first and once second, so a cost that
 * falls on whichever side runs first (caches, CPU frequency, the previous slice's tail) cancels.
 * On this machine the per-pair handshake CPU ratios alternated ~1.15 / ~0.86 with the order,
 * which the median of per-pair ratios ({@link pairedRatio}) cannot undo. 0 for no pairs.
 */
export function counterbalancedRatio(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  const blocks: number[] = [];
  for (let i = 0; i < n; i += 2) {
    const end = Math.min(i + 2, n);
    let sa = 0;
    let sb = 0;
    for (let k = i; k < end; k++) {
      sa += a[k]!;
      sb += b[k]!;
    }
    blocks.push(sa / sb);
  }
  return Math.round(median(blocks) * 1000) / 1000;
}
