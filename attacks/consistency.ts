/**
 * One matrix, consistent with itself (issue 9 §4): after the cells of a profile ran, the row is
 * checked for contradictions between its own cells — a "blocked" whose stopper is a layer another
 * cell of the same row got through, or cells that disagree on the position the attacker reached.
 * Only cells of attackers without a premise count as having got through (mitm-rogue-ca's root is
 * a premise; mitm-passive, password-crack and retro-decrypt play other attackers). The checker
 * reads only results data (reports/results.ts), so it can run on any saved results.json.
 */
import type { CellResult } from '../reports/results.ts';

/** One contradiction found in a row. */
export interface ConsistencyWarning {
  profile: string;
  /** the cells involved: the one that contradicts, then the one(s) showing the opposite */
  attacks: string[];
  /** one sentence naming both sides */
  message: string;
}

/** The attacks a consistency run needs: those the ladder concerns and the active MITMs they are compared with. */
export const CONSISTENCY_ATTACKS = ['mitm-self-signed', 'mitm-wrong-host', 'replay', 'replay-login', 'downgrade-starttls', 'downgrade-cipher', 'tamper'] as const;

/** Attacks that play the on-path active attacker without a premise, and climb the same ladder. */
const ACTIVE_NO_PREMISE = new Set(['replay', 'replay-login', 'tamper', 'downgrade-cipher', 'downgrade-starttls', 'downgrade-suite', 'mitm-self-signed', 'mitm-wrong-host']);
/** Those that take the probed position (attacks/kit/position.ts) and state it as `position` evidence. */
const POSITIONED = new Set(['replay', 'replay-login', 'tamper', 'downgrade-cipher']);

/** What the row's cells show the attacker got through, each with the first cell that shows it. */
interface RowFacts {
  tls?: string;
  channel?: string;
  strip?: string;
}

const chainOf = (c: CellResult) => c.evidence.find((e) => e.kind === 'position')?.detail ?? null;

/** An active MITM that succeeded by reading the canary: its own records say which layer it got through. */
const mitmRead = (c: CellResult) => c.outcome === 'succeeded' && c.attack.startsWith('mitm-') && c.evidence.some((e) => e.kind === 'canary-recovered');

function factsOf(cells: CellResult[]): RowFacts {
  const active = cells.filter((c) => ACTIVE_NO_PREMISE.has(c.attack));
  const firstThat = (shows: (c: CellResult) => boolean | undefined) => active.find(shows)?.attack;
  return {
    tls: firstThat((c) => chainOf(c)?.includes('terminated TLS') || (mitmRead(c) && c.evidence.some((e) => e.kind === 'proxy-tls' && !/victim hop did not complete/.test(e.detail)))),
    channel: firstThat((c) => chainOf(c)?.includes('took over the secure channel') || (mitmRead(c) && c.evidence.some((e) => e.kind === 'proxy-note' && e.detail.includes('channel MITM: answered')))),
    // downgrade-starttls's own chain is its probe, not a strip it achieved: its success is.
    strip: firstThat((c) => (c.attack === 'downgrade-starttls' ? c.outcome === 'succeeded' : chainOf(c)?.includes('stripped the STARTTLS offer'))),
  };
}

/** The layer a blocked cell names as its stopper, if it names TLS or the secure channel. */
function stopperOf(c: CellResult): 'tls' | 'channel' | null {
  if (c.outcome !== 'blocked') return null;
  if (/TLS record MAC|inside TLS|hidden by TLS|TLS handshake failed|could not terminate/.test(c.reason)) return 'tls';
  if (/secure channel refused it|channel kept the canary sealed/.test(c.reason) && !/transcript_mismatch|no_common_cipher/.test(c.reason)) return 'channel';
  return null;
}

/**
 * Checks one profile's row.
 * @param cells every cell of one profile (any order)
 * @returns the contradictions found; empty when the row agrees with itself
 */
export function checkRow(cells: CellResult[]): ConsistencyWarning[] {
  if (!cells.length) return [];
  const profile = cells[0].profile;
  const facts = factsOf(cells);
  const out: ConsistencyWarning[] = [];
  for (const c of cells) {
    if (!ACTIVE_NO_PREMISE.has(c.attack)) continue;
    const stopper = stopperOf(c);
    if (stopper === 'tls' && (facts.tls || facts.strip)) {
      const by = (facts.tls ?? facts.strip)!;
      out.push({ profile, attacks: [c.attack, by], message: `${c.attack} is "blocked" by TLS, but ${by} shows the attacker ${facts.tls ? 'terminating TLS with a certificate the client accepts' : 'stripping STARTTLS'}: ${c.reason}` });
    }
    if (stopper === 'channel' && facts.channel) {
      out.push({ profile, attacks: [c.attack, facts.channel], message: `${c.attack} is "blocked" by the secure channel, but ${facts.channel} shows the attacker taking the channel over: ${c.reason}` });
    }
  }
  // Every positioned cell took the same position: the probe is one per profile.
  const chains = cells.filter((c) => POSITIONED.has(c.attack) && chainOf(c) !== null);
  const distinct = [...new Set(chains.map(chainOf))];
  if (distinct.length > 1) {
    out.push({ profile, attacks: chains.map((c) => c.attack), message: `the cells disagree on the attacker's position: ${distinct.map((d) => `"${d}"`).join(' vs ')}` });
  }
  return out;
}

/**
 * Checks every row of a matrix.
 * @returns the contradictions, in profile order
 */
export function checkMatrix(cells: CellResult[]): ConsistencyWarning[] {
  const rows = new Map<string, CellResult[]>();
  for (const c of cells) rows.set(c.profile, [...(rows.get(c.profile) ?? []), c]);
  return [...rows.values()].flatMap(checkRow);
}
