/**
 * The small, explicit vocabulary of outcome claims a preset description may make
 * (profiles/*.yaml), each mapped to what the matrix row must show. A description is parsed into
 * the claims it makes; any word that sounds like an outcome ("blocked", "accepted", "forward
 * secret", …) left outside a known claim is reported as unparsed, so a new claim cannot slip in
 * unchecked: extend the vocabulary (with its check) or reword the description.
 */
import type { CellResult, MatrixResults, Outcome } from '../../reports/results.ts';
import { profileVerdict, type VerdictStatus } from '../../reports/verdict.ts';

/** What one claim requires of the row. */
export type Expectation =
  | { attack: string; outcomes: Outcome[]; impact?: string; evidenceKind?: string; noEvidenceKind?: string; data?: Record<string, unknown> }
  | { row: VerdictStatus[]; except?: string[] };

/** One phrase of the vocabulary. */
export interface VocabularyEntry {
  pattern: RegExp;
  expect: Expectation[];
}

const S = (attack: string, extra: Partial<Extract<Expectation, { attack: string }>> = {}): Expectation => ({ attack, outcomes: ['succeeded'], ...extra });
const B = (attack: string): Expectation => ({ attack, outcomes: ['blocked'] });
const MITM_ACTIVE = ['mitm-self-signed', 'mitm-wrong-host'];

/** The vocabulary. Order matters: negative phrases before the positive ones they contain. */
export const CLAIM_VOCABULARY: readonly VocabularyEntry[] = [
  { pattern: /\bevery attack is blocked\b/i, expect: [{ row: ['holds'] }] },
  { pattern: /\bevery attack without a premise is blocked\b/i, expect: [{ row: ['holds', 'holds-except-premise'] }] },
  // "On the wire": every attack but the one that steals the server's database.
  { pattern: /\bon the wire it falls only to a root the victim was made to trust\b/i, expect: [{ row: ['holds-except-premise'], except: ['password-crack'] }, S('mitm-rogue-ca')] },
  { pattern: /\bfalls only to a root the victim was made to trust\b/i, expect: [{ row: ['holds-except-premise'] }, S('mitm-rogue-ca')] },
  { pattern: /\beven a trusted rogue root cannot impersonate the server\b/i, expect: [B('mitm-rogue-ca')] },
  { pattern: /\bany active man-in-the-middle (?:is accepted|substitutes its own key share)\b/i, expect: MITM_ACTIVE.map((a) => S(a)) },
  { pattern: /\bforged and wrong-host certificates are refused\b/i, expect: MITM_ACTIVE.map(B) },
  { pattern: /\bany certificate the CA issued, for any name, is accepted\b/i, expect: [S('mitm-wrong-host')] },
  { pattern: /\bconfidential against eavesdroppers\b/i, expect: [B('mitm-passive')] },
  { pattern: /\banyone on the path reads and rewrites every message\b/i, expect: [S('mitm-passive'), S('tamper', { impact: 'integrity' })] },
  { pattern: /\b(?:nothing is|not) forward secret\b/i, expect: [S('retro-decrypt')] },
  { pattern: /\ba recording decrypts with the server key stolen later\b/i, expect: [S('retro-decrypt')] },
  { pattern: /\bforward secret\b/i, expect: [B('retro-decrypt')] },
  { pattern: /\bstealing it later opens no recording\b/i, expect: [B('retro-decrypt')] },
  { pattern: /\bevery key exchange is ephemeral\b/i, expect: [B('retro-decrypt')] },
  { pattern: /\bauthenticated(?: by the certificate)?\b/i, expect: MITM_ACTIVE.map(B) },
  { pattern: /\bthe cipher offer can be rewritten\b/i, expect: [S('downgrade-cipher')] },
  { pattern: /\bCBC ciphertext bit-flipped to alter messages\b/i, expect: [S('downgrade-cipher', { impact: 'integrity' })] },
  { pattern: /\ba recorded message can be sent again and is accepted\b/i, expect: [S('replay')] },
  { pattern: /\bevery message is confidential and authentic\b/i, expect: ['mitm-passive', ...MITM_ACTIVE, 'tamper'].map(B) },
  { pattern: /\bVerified TLS protects passwords on the wire\b/i, expect: ['mitm-passive', ...MITM_ACTIVE].map(B) },
  { pattern: /\bstealing the database hands over every password\b/i, expect: [S('password-crack', { noEvidenceKind: 'not-recovered' })] },
  { pattern: /\bwhoever steals the database cracks common passwords\b/i, expect: [S('password-crack', { evidenceKind: 'recovered' })] },
  { pattern: /\bwhile a random one survives\b/i, expect: [S('password-crack', { evidenceKind: 'not-recovered' })] },
  { pattern: /\ban attacker who deletes the offer keeps the whole chat in plaintext\b/i, expect: [S('downgrade-starttls')] },
  { pattern: /\bwithout the upgrade it refuses to continue\b/i, expect: [B('downgrade-starttls')] },
  { pattern: /\bstripping the offer only breaks the connection\b/i, expect: [B('downgrade-starttls')] },
  { pattern: /\ban attacker who resets handshakes forces TLS 1\.0\b/i, expect: [S('downgrade-fallback')] },
  { pattern: /\ba scanner finds them \(server-scan\)/i, expect: [S('server-scan')] },
  {
    pattern: /\ba legacy client that offers only RSA suites gets a session whose recording the stolen server key decrypts \(retro-decrypt's legacy-client variant\)/i,
    expect: [S('retro-decrypt', { data: { variant: 'legacy-client' } })],
  },
  { pattern: /\bits clients do not fall back\b/i, expect: [B('downgrade-fallback')] },
  { pattern: /\bno legacy versions to fall back to\b/i, expect: [{ attack: 'downgrade-fallback', outcomes: ['blocked', 'not-applicable'] }] },
];

/**
 * Words that make an outcome claim. Found outside every vocabulary phrase, they make the
 * description unparsed. ("secure" is left out: "secure channel" names a feature.)
 */
export const OUTCOME_WORDS =
  /\b(?:block\w*|refus\w*|accept\w*|reads?|rewrit\w*|alter\w*|decrypt\w*|crack\w*|impersonat\w*|forc(?:e|es|ed)|surviv\w*|protect\w*|break\w*|cannot|falls?|fall back|opens?|hands? over|substitut\w*|forward secret|confidential|authentic\w*|safe|stops?|steal\w*|succeed\w*|fails?|leak\w*|replay\w*|downgrad\w*|intercept\w*|immune|invulnerable)\b/gi;

/** A description parsed: the claims it makes and the outcome words it makes outside them. */
export interface ParsedDescription {
  claims: Array<{ text: string; entry: VocabularyEntry }>;
  /** outcome words outside every claim, with a little context */
  unparsed: string[];
}

/** Parses a description against {@link CLAIM_VOCABULARY}. Pure. */
export function parseClaims(description: string): ParsedDescription {
  let rest = description;
  const claims: ParsedDescription['claims'] = [];
  for (const entry of CLAIM_VOCABULARY) {
    const re = new RegExp(entry.pattern.source, entry.pattern.flags.includes('g') ? entry.pattern.flags : entry.pattern.flags + 'g');
    rest = rest.replace(re, (m) => {
      claims.push({ text: m, entry });
      return ' '.repeat(m.length); // keep offsets; a phrase is consumed once
    });
  }
  const unparsed = [...rest.matchAll(OUTCOME_WORDS)].map((m) => `"${m[0]}" in "…${description.slice(Math.max(0, m.index! - 30), m.index! + m[0].length + 30)}…"`);
  return { claims, unparsed };
}

/** The attacks a claim set needs run: `'all'` when a claim is about the whole row. */
export function attacksNeeded(p: ParsedDescription): string[] | 'all' {
  if (p.claims.some((c) => c.entry.expect.some((e) => 'row' in e))) return 'all';
  return [...new Set(p.claims.flatMap((c) => c.entry.expect.flatMap((e) => ('attack' in e ? [e.attack] : []))))];
}

/**
 * The contradictions between a profile's claims and its row: one sentence per failed
 * expectation, quoting the claim and what the cell measured (a missing cell or a run in error
 * contradicts a claim: it proves nothing).
 */
export function contradictions(profile: string, p: ParsedDescription, r: Pick<MatrixResults, 'attacks' | 'cells'>): string[] {
  const out: string[] = [];
  const cellOf = (a: string): CellResult | undefined => r.cells.find((c) => c.profile === profile && c.attack === a);
  for (const { text, entry } of p.claims) {
    for (const e of entry.expect) {
      if ('row' in e) {
        const skip = new Set(e.except ?? []);
        const v = profileVerdict({ attacks: r.attacks.filter((a) => !skip.has(a.id)), cells: r.cells.filter((c) => !skip.has(c.attack)) }, profile);
        if (!e.row.includes(v.status)) out.push(`${profile}: "${text}" claims the row${skip.size ? ` (but ${[...skip].join(', ')})` : ''} ${e.row.join(' or ')}, but its verdict is: ${v.line}`);
        continue;
      }
      const c = cellOf(e.attack);
      if (!c) {
        out.push(`${profile}: "${text}" needs ${e.attack}, which did not run`);
        continue;
      }
      if (!e.outcomes.includes(c.outcome)) out.push(`${profile}: "${text}" claims ${e.attack} ${e.outcomes.join(' or ')}, but it was ${c.outcome}: ${c.reason}`);
      else if (e.impact && !c.impact.includes(e.impact as never)) out.push(`${profile}: "${text}" claims ${e.attack} broke ${e.impact}, but its impact is [${c.impact.join(', ')}]`);
      else if (e.evidenceKind && !c.evidence.some((x) => x.kind === e.evidenceKind)) out.push(`${profile}: "${text}" needs ${e.attack} evidence "${e.evidenceKind}", which it has not`);
      else if (e.noEvidenceKind && c.evidence.some((x) => x.kind === e.noEvidenceKind)) out.push(`${profile}: "${text}" contradicts ${e.attack}'s evidence "${e.noEvidenceKind}"`);
      else for (const [k, v] of Object.entries(e.data ?? {})) if (c.data?.[k] !== v) out.push(`${profile}: "${text}" needs ${e.attack} data.${k} = ${JSON.stringify(v)}, but it is ${JSON.stringify(c.data?.[k])}`);
    }
  }
  return out;
}
