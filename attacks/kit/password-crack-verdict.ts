/**
 * The `password-crack` verdict from what the run observed (attacks/plugins/password-crack.ts steals
 * the database, runs the dictionary with attacks/password-cracker.ts and tries the stolen
 * verifiers as login proofs):
 *
 * - succeeded only when a password was actually recovered (read from a plaintext row, or a
 *   candidate whose real hash or derivation equals the stolen one) or a stolen verifier actually
 *   logged in (the server answered the login);
 * - blocked names what stopped the guessing: the pepper, the thief's budget, a list tried in full
 *   without a match, or the time box / guess cap ("slowed, not prevented");
 * - error (no verdict) when a stolen account's hashes were never tried at all — no guess measured
 *   against them, so nothing says they resist.
 *
 * The guess rate is wall-clock and varies with load: it appears in the text and the data, never in
 * the outcome, and never picks which scheme the reason names (the strongest storage does).
 * Pure, so each rule is unit-tested with crafted observations (test/password-crack-verdict.test.ts)
 * and held to a mutation score (docs/testing.md).
 */
import type { CrackResult, SchemeReport } from '../password-cracker.ts';
import type { StoredUser } from '../../server/user-store.ts';
import type { Evidence, Verdict } from '../types.ts';

/** The bounds the crack ran under, for the report's sentences and data. */
export interface CrackSetting {
  /** wall-clock box for fast hashes, in ms */
  budgetMs: number;
  /** most guesses per stolen database */
  maxGuesses: number;
  /** scrypt derivations in flight at once */
  concurrency: number;
  /** CPUs of the machine the rate was measured on */
  cpus: number;
}

/** One stolen row tried as a login proof: `ok` only when the server accepted the login. */
export interface VerifierLogin {
  username: string;
  ok: boolean;
  detail: string;
}

/** What was stolen: the rows read from the copy, and the file names copied (database, WAL). */
export interface StolenDatabase {
  rows: StoredUser[];
  files: string[];
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** "31 guesses/s", "4.3 guesses/s", "25 k guesses/s", "1.9 M guesses/s" (perSecond in guesses per second). */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)} M guesses/s`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(0)} k guesses/s`;
  return `${perSecond < 10 ? perSecond.toFixed(1) : fmt(perSecond)} guesses/s`;
}

/** "4 ms", "2.1 s", "3.7 min", "5.2 h", "12 days" (from seconds; at least "1 ms"). */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.max(1, Math.round(seconds * 1000))} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 86400 * 2) return `${(seconds / 3600).toFixed(1)} h`;
  return `${fmt(seconds / 86400)} days`;
}

/** A thief's budget in words: "24.0 h of one CPU core" (from core-seconds). */
export function budgetText(coreSeconds: number): string {
  return `${formatDuration(coreSeconds)} of one CPU core`;
}

/** True when the stolen row says its hash is keyed with a pepper the file does not hold. */
const isPeppered = (r: StoredUser) => /"pepper":true/.test(r.params);

/**
 * A scheme the attacker actually guessed against: a guess was computed, or a thief's rate was
 * measured (a thief computes no guess when no candidate can match). Plaintext rows take no guess.
 */
const tried = (s: SchemeReport) => s.thief !== undefined || s.guesses > 0;

/** Why a slow hash is stronger than a fast one, for naming the scheme that held: scrypt first. */
const STORAGE_RANK = { plaintext: 0, sha256: 1, scrypt: 2 } as const;

/** The sentence about one scheme's measured speed. */
function rateSentence(s: SchemeReport, candidates: number, setting: CrackSetting): string {
  if (s.storage === 'plaintext') return `${s.scheme}: no hashing — the rows hold the passwords`;
  const accounts = `${s.users.length} salted account${s.users.length > 1 ? 's' : ''}`;
  if (s.thief) {
    const list = s.listGuesses / s.thief.perSecond;
    return `${s.scheme}: ${formatRate(s.thief.perSecond)} on one CPU core (median of ${s.thief.samplesMs.length} timed samples: ${s.thief.samplesMs.map((m) => `${m.toFixed(1)} ms`).join(', ')} per guess); the ${fmt(candidates)}-candidate list × ${accounts} takes a thief ${formatDuration(list)} on one core — budget ${budgetText(s.thief.budgetCoreSeconds)}`;
  }
  if (!tried(s)) return `${s.scheme}: no guess completed within the budget`;
  const scope = s.storage === 'sha256' ? `the ${fmt(candidates)}-candidate list (unsalted: one hash tests every account at once)` : `the ${fmt(candidates)}-candidate list × ${accounts} (${fmt(s.listGuesses)} guesses)`;
  // The rate is this process's, on this machine, with whatever else runs beside it (the matrix
  // runs several cells at once): a figure for comparing schemes, not a benchmark of attackers.
  const how = s.storage === 'scrypt' ? `, ${setting.concurrency} at a time on ${setting.cpus} CPU${setting.cpus > 1 ? 's' : ''}` : '';
  return `${s.scheme}: ${fmt(s.guesses)} guesses in ${formatDuration(s.elapsedMs / 1000)} = ${formatRate(s.guessesPerSecond!)}${how}; ${scope} takes ${formatDuration(s.listSeconds!)} at that rate`;
}

/** The lesson each scheme teaches, with its measured numbers. */
function lesson(s: SchemeReport): string {
  switch (s.storage) {
    case 'plaintext':
      return 'plaintext storage: stealing the database is stealing every password, strong or weak — store a salted, slow hash (scrypt, RFC 7914)';
    case 'sha256':
      return 'unsalted SHA-256: a GPU tests billions of such hashes per second, each guess covers every account, and precomputed tables apply — store a salted, slow hash (scrypt, RFC 7914)';
    case 'scrypt':
      if (s.thief) return `scrypt only slows the attacker down: at ${formatRate(s.thief.perSecond)} per core a password from a common list still falls within a thief's budget; only a password outside every list — a long random passphrase, which auth.passwordPolicy can require — or a pepper kept outside the database (auth.pepper) stops it`;
      return `scrypt only slows the attacker down: at ${s.guessesPerSecond ? formatRate(s.guessesPerSecond) : 'the measured rate'} this whole list still falls in ${s.listSeconds ? formatDuration(s.listSeconds) : 'a bounded time'} on one machine, so a weak password (a common word plus a year) is found given time; only a password outside every list — like bob's random one — survives`;
  }
}

/** Why one account was not recovered. */
function notRecoveredWhy(u: string, s: SchemeReport, row: StoredUser, candidates: number, setting: CrackSetting): string {
  const beyond = s.thief?.beyond.find((b) => b.username === u);
  if (beyond) return `candidate #${fmt(beyond.candidate)}: ${formatDuration(beyond.seconds)} on one core, beyond the thief's budget of ${budgetText(s.thief!.budgetCoreSeconds)}`;
  if (isPeppered(row)) return 'peppered: no candidate can be checked without the key kept outside the database';
  if (s.thief) return 'not in the list: no candidate reproduces the stolen hash';
  if (!tried(s)) return 'no guess was made against it: the budget was spent before its turn';
  if (s.stoppedBy === 'done') return `not in the list (all ${fmt(candidates)} candidates tried)`;
  if (s.stoppedBy === 'budget') return `the ${formatDuration(setting.budgetMs / 1000)} budget ran out first`;
  return `the cap of ${fmt(setting.maxGuesses)} guesses was reached first`;
}

/** The verdict when the stolen database holds no account (the conversation registered no one). */
export function noAccountsVerdict(extra: Evidence[]): Verdict {
  return { outcome: 'error', reason: 'the stolen database held no accounts: the conversation did not register anyone', summary: 'no accounts to steal', impact: [], evidence: extra, negotiated: null };
}

/**
 * The password-crack verdict from what the crack and the verifier logins observed.
 * @param crack what attacks/password-cracker.ts `crackRows` found and measured
 * @param candidates size of the word list after the registration rule's filter
 * @param stolen the rows read from the stolen copy and the files copied (non-empty rows: see {@link noAccountsVerdict})
 * @param verifierLogins each stolen row tried as a challenge login proof
 * @param setting the bounds the crack ran under (for the sentences and `data`)
 * @param extra evidence the run already gathered (the conversation), put last
 * @returns `negotiated` is null: the plugin sets what the conversation negotiated. `data` holds
 *   the measured figures (guesses, rates in guesses per second, ms, the recovered passwords).
 */
export function passwordCrackVerdict(crack: CrackResult, candidates: number, stolen: StolenDatabase, verifierLogins: VerifierLogin[], setting: CrackSetting, extra: Evidence[]): Verdict {
  const evidence: Evidence[] = [];
  const params = (r: StoredUser) => Object.entries(JSON.parse(r.params || '{}') as Record<string, number>).map(([k, v]) => `${k}=${v}`).join(' ');
  const desc = (r: StoredUser) => (r.storage === 'scrypt' ? `${r.username} (${r.storage} ${params(r)}, ${r.salt.length / 2}-byte salt)` : `${r.username} (${r.storage}${r.storage === 'sha256' ? ', no salt' : ''})`);
  evidence.push({ kind: 'stolen-database', detail: `copied ${stolen.files.join(' and ')} after the conversation: ${stolen.rows.length} accounts — ${stolen.rows.map(desc).join(', ')}` });
  const thiefMode = crack.schemes.some((s) => s.thief);
  evidence.push({
    kind: 'wordlist',
    detail: `attacks/wordlists/common-passwords.txt: ${fmt(candidates)} candidates the registration rules allow, tried in list order; fast hashes: every guess computed (${formatDuration(setting.budgetMs / 1000)} box, at most ${fmt(setting.maxGuesses)} guesses)${thiefMode ? '; slow hashes: the thief\'s budget decides — guesses that cannot match are charged at the measured rate, the matching candidate is checked with a real derivation against the stolen hash' : ''}`,
  });
  const peppered = stolen.rows.filter(isPeppered);
  if (peppered.length) evidence.push({ kind: 'pepper', detail: `${peppered.map((r) => r.username).join(', ')}: the rows say their hashes are peppered — keyed with a secret the stolen file does not contain, so no guess can be checked against them offline` });
  for (const s of crack.schemes) evidence.push({ kind: 'rate', detail: rateSentence(s, candidates, setting) });
  for (const r of crack.recovered) {
    evidence.push({
      kind: 'recovered',
      detail:
        r.storage === 'plaintext'
          ? `${r.username}: password ${JSON.stringify(r.password)} read from the row`
          : r.thiefSeconds !== undefined
            ? `${r.username}: password ${JSON.stringify(r.password)} — candidate #${fmt(r.candidate)}; a thief reaches it after ${fmt(r.guesses)} guesses, ${formatDuration(r.thiefSeconds)} on one core (the match checked with a real ${r.storage} derivation; ${fmt(r.skipped ?? 0)} guesses before it charged at the measured rate)`
            : `${r.username}: password ${JSON.stringify(r.password)} — candidate #${fmt(r.candidate)}, found after ${fmt(r.guesses)} ${r.storage} guesses`,
    });
  }
  const schemeOf = (u: string) => crack.schemes.find((x) => x.users.includes(u))!;
  for (const u of crack.remaining) {
    evidence.push({ kind: 'not-recovered', detail: `${u}: not recovered — ${notRecoveredWhy(u, schemeOf(u), stolen.rows.find((r) => r.username === u)!, candidates, setting)}` });
  }
  for (const v of verifierLogins) evidence.push({ kind: 'stolen-verifier-login', detail: v.detail });
  for (const s of crack.schemes) evidence.push({ kind: 'lesson', detail: lesson(s) });
  const loggedIn = verifierLogins.filter((v) => v.ok).map((v) => v.username);
  if (loggedIn.length) {
    evidence.push({ kind: 'lesson', detail: 'challenge-response keyed with the stored value makes the database password-equivalent: stealing it is enough to log in, whatever the storage; SCRAM (RFC 5802) or OPAQUE (RFC 9807) avoid that' });
  }
  evidence.push(...extra);

  const hashed = crack.schemes.filter(tried);
  const data = {
    guessesPerSecond: hashed.length ? crack.guesses / (hashed.reduce((t, s) => t + s.elapsedMs, 0) / 1000) : null,
    guesses: crack.guesses,
    recovered: crack.recovered.map((r) => ({ username: r.username, password: r.password, storage: r.storage, guesses: r.guesses, candidate: r.candidate })),
    candidates,
    budgetMs: setting.budgetMs,
    thiefBudgetCoreSeconds: crack.schemes.find((s) => s.thief)?.thief!.budgetCoreSeconds ?? null,
    concurrency: setting.concurrency,
    schemes: crack.schemes.map((s) => ({ scheme: s.scheme, users: s.users, guesses: s.guesses, elapsedMs: Math.round(s.elapsedMs * 10) / 10, guessesPerSecond: s.guessesPerSecond, listGuesses: s.listGuesses, listSeconds: s.listSeconds, stoppedBy: s.stoppedBy })),
    verifierLogins: verifierLogins.map((v) => ({ username: v.username, ok: v.ok })),
  };
  const base = { evidence, negotiated: null, data };
  const names = (xs: string[]) => (xs.length === 1 ? `${xs[0]}'s password` : `the passwords of ${xs.join(' and ')}`);

  if (crack.recovered.length || loggedIn.length) {
    const parts: string[] = [];
    const plain = crack.recovered.filter((r) => r.storage === 'plaintext');
    const cracked = crack.recovered.filter((r) => r.storage !== 'plaintext');
    if (plain.length) parts.push(`the stolen database stores passwords in plaintext: ${names(plain.map((r) => r.username))} read straight from the rows, no guessing needed`);
    for (const r of cracked) {
      const s = schemeOf(r.username);
      parts.push(
        r.thiefSeconds !== undefined
          ? `cracked ${r.username}'s password from the stolen ${s.scheme} hash: it is candidate #${fmt(r.candidate)} of a common-password list, ${fmt(r.guesses)} guesses at the measured ${formatRate(s.guessesPerSecond ?? 0)} per core — ${formatDuration(r.thiefSeconds)} for a thief with one CPU core, within a budget of ${budgetText(s.thief!.budgetCoreSeconds)}`
          : `cracked ${r.username}'s password from the stolen ${s.scheme} hash after ${fmt(r.guesses)} guesses at ${formatRate(s.guessesPerSecond ?? 0)} (it is candidate #${fmt(r.candidate)} of a common-password list)`,
      );
    }
    if (loggedIn.length) parts.push(`the stolen verifiers log in directly (auth: challenge keys the proof with the stored value): logged in as ${loggedIn.join(' and ')} without any password`);
    const who = cracked.map((r) => r.username).join('+');
    const summary = cracked.length
      ? cracked.some((r) => r.thiefSeconds !== undefined)
        ? `cracked ${who}: ${formatDuration(Math.max(...cracked.map((r) => r.thiefSeconds ?? 0)))} on 1 core`
        : `cracked ${who} in ${fmt(Math.min(...cracked.map((r) => r.guesses)))} guesses`
      : plain.length
        ? `read ${plain.length} plaintext password${plain.length > 1 ? 's' : ''}`
        : `stolen verifier logs in: ${loggedIn.join('+')}`;
    return { outcome: 'succeeded', reason: parts.join('; '), summary: summary.slice(0, 40), impact: ['authentication', 'confidentiality'], ...base };
  }

  if (!hashed.length) {
    return { outcome: 'error', reason: 'no verdict: not one guess completed within the budget, so nothing was measured', summary: 'no guess completed', impact: [], ...base };
  }
  // An account whose hashes met no guess at all says nothing about its storage: no "blocked" for it.
  const untried = crack.remaining.filter((u) => !tried(schemeOf(u)));
  if (untried.length) {
    return {
      outcome: 'error',
      reason: `no verdict: no guess was made against ${untried.join(' and ')} (${[...new Set(untried.map((u) => schemeOf(u).scheme))].join(', ')}): the budget was spent before their turn, so nothing shows their hashes resist`,
      summary: 'some hashes never tried',
      impact: [],
      ...base,
    };
  }
  // The scheme the reason names: the strongest storage that held (not the slowest measured rate,
  // which varies with load); the first listed among equals.
  const held = hashed.reduce((a, b) => (STORAGE_RANK[b.storage] > STORAGE_RANK[a.storage] ? b : a));
  if (peppered.length === stolen.rows.length) {
    return {
      outcome: 'blocked',
      reason: `the hashes are peppered (auth.pepper: an HMAC key kept outside the database): ${fmt(held.guesses)} real guesses, none reproduced a stolen hash — the stolen file alone checks no guess, even for a password in the list`,
      summary: 'peppered: file alone uncrackable',
      impact: [],
      ...base,
    };
  }
  if (held.thief) {
    const beyond = held.thief.beyond;
    return {
      outcome: 'blocked',
      reason: beyond.length
        ? `${held.scheme}: ${formatRate(held.thief.perSecond)} per core — ${beyond.map((b) => `${b.username}'s password is candidate #${fmt(b.candidate)}, ${formatDuration(b.seconds)} away`).join('; ')}: beyond the thief's budget of ${budgetText(held.thief.budgetCoreSeconds)}`
        : `no stored password is in the ${fmt(candidates)}-candidate list: ${held.scheme} at ${formatRate(held.thief.perSecond)} per core lets a thief run the whole list in ${formatDuration(held.listGuesses / held.thief.perSecond)}, and it finds nothing`,
      summary: beyond.length ? 'beyond the thief\'s budget' : 'no password in the word list',
      impact: [],
      ...base,
    };
  }
  const listPart = held.storage === 'sha256' ? `the ${fmt(candidates)}-word list` : `the ${fmt(candidates)}-word list × ${held.users.length} salted account${held.users.length > 1 ? 's' : ''}`;
  if (held.stoppedBy === 'done') {
    return {
      outcome: 'blocked',
      reason: `${held.scheme}: ${formatRate(held.guessesPerSecond!)} — ${listPart} was tried in full (${formatDuration(held.elapsedMs / 1000)}) and no stored password is in it`,
      summary: 'no password in the word list',
      impact: [],
      ...base,
    };
  }
  const box = formatDuration(setting.budgetMs / 1000);
  const limit = held.stoppedBy === 'budget' ? `budget of ${box} exhausted` : `cap of ${fmt(setting.maxGuesses)} guesses reached`;
  return {
    outcome: 'blocked',
    reason: `${held.scheme}: ${formatRate(held.guessesPerSecond!)} — ${listPart} would take ${formatDuration(held.listSeconds!)}; ${limit} after ${fmt(held.guesses)} guesses — slowed, not prevented: a patient attacker runs the whole list, and only passwords outside it survive`,
    summary: `not in ${box}; list: ${formatDuration(held.listSeconds!)}`.slice(0, 40),
    impact: [],
    ...base,
  };
}
