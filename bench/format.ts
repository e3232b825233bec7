/**
 * The one number formatter of bench output (terminal tables and Markdown alike): thousands
 * separators, fixed digits, MiB and byte rates. Locale fixed to en-US so reports diff cleanly.
 */

/** `x` with `digits` decimals and thousands separators, e.g. fmt(12345.6, 1) → "12,345.6". */
export const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Bytes as MiB with one decimal (2^20 bytes), e.g. 52428800 → "50.0". */
export const mib = (bytes: number): string => fmt(bytes / 1048576, 1);

/** Bytes per second in decimal units (kB/s, MB/s, GB/s), e.g. 2.5e6 → "2.50 MB/s". */
export const rate = (bytesPerSec: number): string => (bytesPerSec >= 1e9 ? `${fmt(bytesPerSec / 1e9, 2)} GB/s` : bytesPerSec >= 1e6 ? `${fmt(bytesPerSec / 1e6, 2)} MB/s` : `${fmt(bytesPerSec / 1e3, 1)} kB/s`);

/** A figure that may be missing: "—" for null/undefined, else {@link fmt}. */
export const orDash = (x: number | null | undefined, digits = 0): string => (x == null ? '—' : fmt(x, digits));
