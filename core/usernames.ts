/**
 * Username rules: Unicode NFKC normalization then case folding (Unicode TR #15, TR #36 §2), so
 * "Alice", "ALICE" and "Ａｌｉｃｅ" (fullwidth) are one account and cannot impersonate each other.
 *
 * After folding, a name may hold only a-z, 0-9, ".", "_" and "-" (starting with a letter or
 * digit). That closed set is what makes the folding safe: confusables from other scripts
 * (Cyrillic "а" for Latin "a", TR #39) and invisible characters cannot survive it, so two names
 * that look alike are the same name. Control and bidi characters get their own error message,
 * because a name that carries them is an attack, not a typo.
 */

/** Longest username, in characters, after normalization (the default of `maxUsernameChars`). */
export const MAX_USERNAME_CHARS = 32;

/**
 * Longest input looked at, in UTF-16 code units, before any normalization. NFKC can expand a
 * string (U+FDFA becomes 18 characters), so an over-long input is refused before it is
 * normalized: a hostile 60 KiB "username" costs a length check, not a normalization pass.
 */
export const MAX_RAW_USERNAME_UNITS = 256;

const ALLOWED = /^[a-z0-9][a-z0-9_.-]*$/;

/**
 * C0/C1 controls, DEL, and the Unicode bidi controls (embeddings, overrides, isolates and marks:
 * CVE-2021-42574 "Trojan Source"), plus line/paragraph separators. Checked on the raw input.
 */
const CONTROL_OR_BIDI = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/u;

/** Options of {@link normalizeUsername}. */
export interface UsernameRules {
  /** Longest canonical name, in characters; default {@link MAX_USERNAME_CHARS}. */
  maxChars?: number;
}

/**
 * Unicode "NFKC_Casefold"-style canonical form: NFKC, then full case folding approximated by
 * lower-upper-lower casing (JavaScript has no String#caseFold: lower-casing first turns capital
 * "ẞ" into "ß", upper-casing turns that into "SS" and the Greek final sigma into "Σ", so they
 * fold like CaseFolding.txt says), then NFKC again because casing can denormalize.
 */
export function foldUsername(raw: string): string {
  return raw.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');
}

/**
 * Normalizes and checks a username.
 * @param raw   the name as the peer sent it (untrusted, any length)
 * @param rules limits; see {@link UsernameRules}
 * @returns `{ ok: true, username }` (the canonical form) or `{ ok: false, error }` with a sentence
 *   that never echoes the raw input (it may hold escape sequences)
 */
export function normalizeUsername(raw: string, rules: UsernameRules = {}): { ok: true; username: string } | { ok: false; error: string } {
  const maxChars = rules.maxChars ?? MAX_USERNAME_CHARS;
  // The raw cap holds whatever maxChars says (a configured 1000 does not lift it).
  if (raw.length > MAX_RAW_USERNAME_UNITS) return { ok: false, error: `username longer than ${Math.min(maxChars, MAX_RAW_USERNAME_UNITS)} characters` };
  if (CONTROL_OR_BIDI.test(raw)) return { ok: false, error: 'username must not contain control or bidirectional-override characters' };
  const username = foldUsername(raw);
  if (username.length === 0) return { ok: false, error: 'username is empty' };
  if (username.length > maxChars) return { ok: false, error: `username longer than ${maxChars} characters` };
  if (!ALLOWED.test(username)) return { ok: false, error: 'username may hold only a-z, 0-9, ".", "_" and "-", starting with a letter or digit' };
  return { ok: true, username };
}
