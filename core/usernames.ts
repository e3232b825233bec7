/**
 * Username rules: Unicode NFKC normalization then case folding (Unicode TR #15, TR #36 §2), so
 * "Alice", "ALICE" and "Ａｌｉｃｅ" (fullwidth) are one account and cannot impersonate each other.
 */

/** Longest username, in characters, after normalization. */
export const MAX_USERNAME_CHARS = 32;

const ALLOWED = /^[a-z0-9][a-z0-9_.-]*$/;

/**
 * Normalizes and checks a username.
 * @returns `{ ok: true, username }` (the canonical form) or `{ ok: false, error }` with a sentence
 */
export function normalizeUsername(raw: string): { ok: true; username: string } | { ok: false; error: string } {
  const username = raw.normalize('NFKC').toLowerCase();
  if (username.length === 0) return { ok: false, error: 'username is empty' };
  if (username.length > MAX_USERNAME_CHARS) return { ok: false, error: `username longer than ${MAX_USERNAME_CHARS} characters` };
  if (!ALLOWED.test(username)) return { ok: false, error: 'username may hold only a-z, 0-9, ".", "_" and "-", starting with a letter or digit' };
  return { ok: true, username };
}
