/**
 * What changed in a profile's settings between two runs: both sides' effective settings
 * (results.json `profiles[].effectiveSettings`, schema 2) flattened to `section.key` → text and
 * compared key by key. `report --compare` prints it beside every cell that moved, so a student
 * sees which setting turned SUCCEEDED into blocked. Pure: data in, data out.
 */

/** One setting that differs; `null` on a side where the setting does not take effect (or is absent). */
export interface SettingChange {
  /** dotted path, e.g. `client.verify` */
  setting: string;
  before: string | null;
  after: string | null;
}

/**
 * A settings object flattened to `[section.key, text]` pairs in document order; arrays become
 * "a, b". The top-level `name` and `description` are left out: they say what a profile is called,
 * not how it behaves.
 * @param obj a profile or its effective settings (anything else gives `[]`)
 */
export function flattenSettings(obj: unknown, prefix = ''): Array<[string, string]> {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return [];
  const rows: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (!prefix && (k === 'name' || k === 'description')) continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) rows.push(...flattenSettings(v, key));
    else rows.push([key, Array.isArray(v) ? v.map(String).join(', ') : String(v)]);
  }
  return rows;
}

/**
 * The settings that differ between `before` and `after`, in the after side's order, then those
 * only the before side had.
 * @returns an empty array when both sides behave the same
 */
export function diffSettings(before: unknown, after: unknown): SettingChange[] {
  const b = new Map(flattenSettings(before));
  const a = flattenSettings(after);
  const changes: SettingChange[] = [];
  for (const [k, v] of a) {
    const old = b.has(k) ? b.get(k)! : null;
    if (old !== v) changes.push({ setting: k, before: old, after: v });
  }
  const inAfter = new Set(a.map(([k]) => k));
  for (const [k, v] of b) if (!inAfter.has(k)) changes.push({ setting: k, before: v, after: null });
  return changes;
}

/** "client.verify: none → ca", "tls.ciphers: (not in effect) → ECDHE+AESGCM". */
export function settingChangeText(c: SettingChange): string {
  const side = (v: string | null) => (v === null ? '(not in effect)' : v);
  return `${c.setting}: ${side(c.before)} → ${side(c.after)}`;
}
