/**
 * The results data model: plain JSON with a versioned schema. The terminal table, Markdown and
 * HTML reports are renderers of it (see docs/results-schema.md for the field-by-field contract).
 * attacks/ produces it and reports/ renders it: both import it, it imports neither.
 */
import type { NegotiatedTls } from '../core/tls/node-options.ts';
import { effectiveSettings, type Profile } from '../core/profile.ts';
import { CIPHER_SUITES } from '../core/tls/cipher-suites.ts';

/** How a run ended. */
export type Outcome = 'succeeded' | 'blocked' | 'not-applicable' | 'error';

/** What a successful attack breaks. */
export type Impact = 'confidentiality' | 'integrity' | 'authentication' | 'availability';

/** One piece of evidence: `kind` is a short stable label, `detail` the human sentence or data. */
export interface Evidence {
  kind: string;
  detail: string;
}

/**
 * Bumped on any incompatible change to {@link CellResult} or {@link MatrixResults}.
 * 2: profiles carry `effectiveSettings`; attacks may carry a `premise`. Version 1 files are still
 * read ({@link upgradeResults}).
 */
export const RESULT_SCHEMA_VERSION = 2;

/** Schema versions {@link upgradeResults} reads. */
export const READABLE_SCHEMA_VERSIONS: readonly number[] = [1, 2];

/**
 * What a premise attack assumes beyond the attacker's position on the network — e.g. that the
 * victim was made to trust a rogue root CA. Its success on a profile says the premise defeats
 * that profile's defaults, not that a setting is wrong, so every renderer shows it in its own style
 * with the premise beside the outcome.
 */
export interface AttackPremise {
  /** completes "attacks that assume …", e.g. "the victim trusts a rogue root CA" */
  assumes: string;
  /** a few words for a table cell (≤ 24 characters), e.g. "rogue root trusted" */
  label: string;
}

/** One attack as recorded in results.json. */
export interface AttackInfo {
  id: string;
  title: string;
  description: string;
  /** set for premise attacks (schema 2) */
  premise?: AttackPremise;
}

/** One profile as recorded in results.json. */
export interface ProfileInfo {
  name: string;
  description: string;
  /** the full profile, defaults filled in */
  settings: Profile;
  /**
   * The settings that take effect (core/profile.ts `effectiveSettings`: no section the transport
   * ignores), as `profiles show` prints them; `report --compare` diffs these. Schema 2.
   */
  effectiveSettings: Record<string, unknown>;
  warnings: string[];
}

/** One attack run against one profile. */
export interface CellResult {
  schemaVersion: number;
  profile: string;
  attack: string;
  outcome: Outcome;
  /** what was broken; empty unless outcome is `succeeded` */
  impact: Impact[];
  /** one sentence: what the attacker achieved, or what stopped it */
  reason: string;
  /** a few words for table cells (≤ 40 characters) */
  summary: string;
  /** the random secret of this run */
  canary: string;
  evidence: Evidence[];
  /** TLS parameters of the victim's hop, or null (plaintext / no connection) */
  negotiated: NegotiatedTls | null;
  /** captures and key logs kept by the run: name → path relative to the results file */
  artifacts?: Record<string, string>;
  /** measured figures specific to the attack */
  data?: Record<string, unknown>;
  /**
   * Only for a premise attack's cell (its column's {@link AttackInfo.premise}): whether the verdict
   * rests on the premise. `false` when the attack measured that it got there without it — the
   * profile or target handed the attacker the position (e.g. a client that verifies nothing read
   * through a forged certificate with no rogue root installed), so its success is the row's own
   * failure, counted and shown with the attacks without a premise. Absent (files written before
   * the field) or `true`: the premise was set up for the run the verdict comes from.
   */
  premiseUsed?: boolean;
  /** wall time of the run, ms */
  durationMs: number;
}

/** A whole matrix run, as written to `results.json`. */
export interface MatrixResults {
  schemaVersion: number;
  tool: { name: 'secchat'; version: string };
  environment: { node: string; openssl: string; platform: string; cpus: number };
  startedAt: string;
  durationMs: number;
  /** the command line that reproduces the run */
  command: string;
  profiles: ProfileInfo[];
  /**
   * Rows that are a student's own app (core/target.ts) rather than a profile: their description
   * as loaded (commands, transport, file paths — never key contents). Cells name them in `profile`.
   * Absent when the run had no targets.
   */
  targets?: Array<{ name: string; description: string; settings: Record<string, unknown>; warnings: string[] }>;
  attacks: AttackInfo[];
  cells: CellResult[];
  /**
   * Contradictions between the cells of a row (attacks/consistency.ts), e.g. a "blocked" whose
   * stopper is a layer another cell of the row got through. Absent or empty: none found.
   */
  warnings?: Array<{ profile: string; attacks: string[]; message: string }>;
}

/** One row of the matrix: a profile or a target, in display order (profiles first). */
export interface ResultRow {
  kind: 'profile' | 'target';
  name: string;
  description: string;
  warnings: string[];
}

/** Every row of a run, profiles then targets. */
export function resultRows(r: MatrixResults): ResultRow[] {
  return [
    ...r.profiles.map((p) => ({ kind: 'profile' as const, name: p.name, description: p.description, warnings: p.warnings })),
    ...(r.targets ?? []).map((t) => ({ kind: 'target' as const, name: t.name, description: t.description, warnings: t.warnings })),
  ];
}

/**
 * Brings parsed results of any readable schema version to the current one, in place: version 1
 * profiles get `effectiveSettings` computed from their `settings` (attacks of version 1 name no
 * premise, so none is shown). `schemaVersion` keeps the version the file was written with.
 * @param data a parsed results.json whose `schemaVersion` is in {@link READABLE_SCHEMA_VERSIONS}
 * @returns the same object, with every field of the current schema
 * @throws Error when the version is not readable or `profiles` is not an array
 */
export function upgradeResults(data: { schemaVersion: unknown; profiles?: unknown }): MatrixResults {
  if (!READABLE_SCHEMA_VERSIONS.includes(data.schemaVersion as number)) throw new Error(`schemaVersion ${String(data.schemaVersion)} is not one of ${READABLE_SCHEMA_VERSIONS.join(', ')}`);
  if (!Array.isArray(data.profiles)) throw new Error('profiles is not an array');
  for (const p of data.profiles as ProfileInfo[]) {
    if (p.effectiveSettings && typeof p.effectiveSettings === 'object') continue;
    try {
      p.effectiveSettings = effectiveSettings(p.settings);
    } catch {
      p.effectiveSettings = {}; // a hand-edited file without usable settings: nothing to diff
    }
  }
  return data as MatrixResults;
}

/** Outcomes in display order, with the word shown in every renderer (never colour alone). */
export const OUTCOME_LABELS: Record<Outcome, string> = {
  succeeded: 'SUCCEEDED',
  blocked: 'blocked',
  'not-applicable': 'n/a',
  error: 'ERROR',
};

/**
 * A hop's negotiated TLS parameters as the words every renderer prints: protocol, cipher suite
 * and the (EC)DHE group. "no (EC)DHE group" is said only of a static-RSA suite (the table knows
 * its key exchange); a group nobody measured is left out — TLS 1.3 always runs (EC)DHE (RFC 8446
 * §4.2.8), so "none" would be false there.
 * @returns e.g. ["TLSv1.3", "TLS_AES_256_GCM_SHA384", "X25519"], or without the group when unknown
 */
export function negotiatedWords(n: NegotiatedTls): string[] {
  const words = [n.protocol ?? '?', n.cipher ?? '?'];
  if (n.group) words.push(n.group);
  else if (n.protocol !== 'TLSv1.3' && [...CIPHER_SUITES.values()].some((s) => s.name === n.cipher && s.keyExchange === 'RSA')) words.push('no (EC)DHE group');
  return words;
}
