/**
 * `password-crack`: after alice and bob have registered and talked, the attacker steals the
 * server's account database (a copy of the SQLite file and its write-ahead log, as a backup leak
 * or a compromised host would give it) and runs a bounded dictionary attack on it with the word
 * list shipped in attacks/wordlists/. The verdict is measured: which passwords fell, after how many
 * guesses, at how many guesses per second — never inferred from the storage setting.
 *
 * With `auth.method: challenge` the attacker also tries the stolen verifiers directly: the
 * challenge proof is keyed with exactly what the server stores, so a stolen row logs in without
 * cracking (docs/protocol.md, "Caveats").
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChatClient } from '../../client/chat-client.ts';
import { loginProof, parseChallenge } from '../../core/auth-proof.ts';
import { describeError } from '../../core/errors.ts';
import { resolveTrust } from '../../core/tls/certificate-verification.ts';
import { storedVerifierKey } from '../../server/challenge-auth.ts';
import { DEFAULT_LIMITS, type ChatServer } from '../../server/chat-server.ts';
import type { StoredUser } from '../../server/user-store.ts';
import { conversationEvidence } from '../kit/evidence.ts';
import { crackRows, loadWordlist, measureScryptRate, type CrackResult, type SchemeReport } from '../password-cracker.ts';
import { DEFAULT_SCRYPT } from '../../core/profile.ts';
import { SCRYPT_PARAMS } from '../../server/user-store.ts';
import type { Attack, AttackContext, Evidence, Verdict } from '../types.ts';

/**
 * Time the attacker spends really guessing fast hashes per stolen database, in ms. Slow (salted)
 * hashes are judged by the thief's budget instead (`crackBudgetCoreSeconds`), not by this box.
 */
export const CRACK_BUDGET_MS = 600;
/** Most guesses per stolen database: a bound independent of the clock. */
export const CRACK_MAX_GUESSES = 200_000;
/**
 * scrypt derivations in flight: at most 2, so cells running beside this one in the matrix keep
 * threads of node's 4-thread pool for their own logins.
 */
export const CRACK_CONCURRENCY = Math.max(1, Math.min(2, os.availableParallelism()));

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** "31 guesses/s", "1.9 M guesses/s". */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)} M guesses/s`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(0)} k guesses/s`;
  return `${perSecond >= 100 ? fmt(perSecond) : perSecond.toFixed(perSecond < 10 ? 1 : 0)} guesses/s`;
}

/** "4 ms", "2.1 s", "3.7 min", "5.2 h", "12 days". */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.max(1, Math.round(seconds * 1000))} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 86400 * 2) return `${(seconds / 3600).toFixed(1)} h`;
  return `${fmt(seconds / 86400)} days`;
}

/**
 * Copies the database file and its WAL (recent writes live there until a checkpoint) and reads
 * every account row, read-only.
 */
function stealDatabase(dbPath: string, intoDir: string): { rows: StoredUser[]; files: string[] } {
  mkdirSync(intoDir, { recursive: true });
  const copy = path.join(intoDir, path.basename(dbPath));
  const files: string[] = [];
  for (const suffix of ['', '-wal']) {
    if (!existsSync(dbPath + suffix)) continue;
    copyFileSync(dbPath + suffix, copy + suffix);
    files.push(path.basename(dbPath + suffix));
  }
  const db = new Database(copy, { readonly: true, fileMustExist: true });
  try {
    return { rows: db.prepare('SELECT username, storage, salt, hash, params FROM users ORDER BY username').all() as StoredUser[], files };
  } finally {
    db.close();
  }
}

/** Logs in with a stolen verifier instead of a password (auth.method: challenge). */
async function loginWithVerifier(ctx: AttackContext, server: ChatServer, row: StoredUser): Promise<{ ok: boolean; detail: string }> {
  for (let attempt = 0; ; attempt++) {
    let client: ChatClient | null = null;
    try {
      client = await ChatClient.connect({
        profile: ctx.profile,
        host: '127.0.0.1',
        servername: 'localhost',
        port: server.port,
        trust: resolveTrust(ctx.profile, ctx.pki.ca.certPem, ctx.pki.server.certPem),
        connectTimeoutMs: 4000,
        requestTimeoutMs: 4000,
      });
      const challenge = parseChallenge(await client.request({ type: 'auth_challenge', username: row.username }), row.username, 'plaintext');
      const proof = loginProof(storedVerifierKey(row), challenge.nonce, row.username).toString('base64');
      await client.request({ type: 'login', username: row.username, proof });
      return { ok: true, detail: `logged in as ${row.username} with the stolen ${row.storage} verifier as the HMAC key — no password needed` };
    } catch (err) {
      const d = describeError(err);
      // The victim's own session may still be closing after its quit: try once more.
      if (attempt === 0 && /already_logged_in/.test(d.message)) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      return { ok: false, detail: `login as ${row.username} with the stolen verifier refused: ${d.code}: ${d.message}` };
    } finally {
      await client?.quit();
    }
  }
}

/** The sentence about one scheme's measured speed. */
function rateSentence(s: SchemeReport, candidates: number): string {
  if (s.storage === 'plaintext') return `${s.scheme}: no hashing — the rows hold the passwords`;
  if (s.thief) {
    const list = s.listGuesses / s.thief.perSecond;
    return `${s.scheme}: ${formatRate(s.thief.perSecond)} on one CPU core (median of ${s.thief.samplesMs.length} timed samples: ${s.thief.samplesMs.map((m) => `${m.toFixed(1)} ms`).join(', ')} per guess); the ${fmt(candidates)}-candidate list × ${s.users.length} salted account${s.users.length > 1 ? 's' : ''} takes a thief ${formatDuration(list)} on one core — budget ${budgetText(s.thief.budgetCoreSeconds)}`;
  }
  if (s.guessesPerSecond === null) return `${s.scheme}: no guess completed within the budget`;
  const scope = s.storage === 'sha256' ? `the ${fmt(candidates)}-candidate list (unsalted: one hash tests every account at once)` : `the ${fmt(candidates)}-candidate list × ${s.users.length} salted account${s.users.length > 1 ? 's' : ''} (${fmt(s.listGuesses)} guesses)`;
  // The rate is this process's, on this machine, with whatever else runs beside it (the matrix
  // runs several cells at once): a figure for comparing schemes, not a benchmark of attackers.
  const how = s.storage === 'scrypt' ? `, ${CRACK_CONCURRENCY} at a time on ${os.availableParallelism()} CPU${os.availableParallelism() > 1 ? 's' : ''}` : '';
  return `${s.scheme}: ${fmt(s.guesses)} guesses in ${formatDuration(s.elapsedMs / 1000)} = ${formatRate(s.guessesPerSecond)}${how}; ${scope} takes ${formatDuration(s.listSeconds!)} at that rate`;
}

/** "1 CPU core × 24 h". */
export function budgetText(coreSeconds: number): string {
  return `${formatDuration(coreSeconds)} of one CPU core`;
}

/** True when the stolen row says its hash is keyed with a pepper the file does not hold. */
const isPeppered = (r: StoredUser) => r.params !== '' && /"pepper":true/.test(r.params);

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

/** Builds the verdict from what the crack (and the verifier logins) observed. */
export function crackVerdict(
  crack: CrackResult,
  candidates: number,
  stolen: { rows: StoredUser[]; files: string[] },
  verifierLogins: Array<{ username: string; ok: boolean; detail: string }>,
  extra: Evidence[],
): Verdict {
  const evidence: Evidence[] = [];
  const params = (r: StoredUser) => Object.entries(JSON.parse(r.params || '{}') as Record<string, number>).map(([k, v]) => `${k}=${v}`).join(' ');
  const desc = (r: StoredUser) => (r.storage === 'scrypt' ? `${r.username} (${r.storage} ${params(r)}, ${r.salt.length / 2}-byte salt)` : `${r.username} (${r.storage}${r.storage === 'sha256' ? ', no salt' : ''})`);
  evidence.push({ kind: 'stolen-database', detail: `copied ${stolen.files.join(' and ')} after the conversation: ${stolen.rows.length} accounts — ${stolen.rows.map(desc).join(', ')}` });
  const thiefMode = crack.schemes.some((s) => s.thief);
  evidence.push({
    kind: 'wordlist',
    detail: `attacks/wordlists/common-passwords.txt: ${fmt(candidates)} candidates the registration rules allow, tried in list order; fast hashes: every guess computed (${formatDuration(CRACK_BUDGET_MS / 1000)} box, at most ${fmt(CRACK_MAX_GUESSES)} guesses)${thiefMode ? '; slow hashes: the thief\'s budget decides — guesses that cannot match are charged at the measured rate, the matching candidate is checked with a real derivation against the stolen hash' : ''}`,
  });
  const peppered = stolen.rows.filter(isPeppered);
  if (peppered.length) evidence.push({ kind: 'pepper', detail: `${peppered.map((r) => r.username).join(', ')}: the rows say their hashes are peppered — keyed with a secret the stolen file does not contain, so no guess can be checked against them offline` });
  for (const s of crack.schemes) evidence.push({ kind: 'rate', detail: rateSentence(s, candidates) });
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
  for (const u of crack.remaining) {
    const s = crack.schemes.find((x) => x.users.includes(u))!;
    const beyond = s.thief?.beyond.find((b) => b.username === u);
    const why = beyond
      ? `candidate #${fmt(beyond.candidate)}: ${formatDuration(beyond.seconds)} on one core, beyond the thief's budget of ${budgetText(s.thief!.budgetCoreSeconds)}`
      : isPeppered(stolen.rows.find((r) => r.username === u)!)
        ? 'peppered: no candidate can be checked without the key kept outside the database'
        : s.thief
          ? 'not in the list: no candidate reproduces the stolen hash'
          : s.stoppedBy === 'done' ? `not in the list (all ${fmt(candidates)} candidates tried)` : s.stoppedBy === 'budget' ? `the ${formatDuration(CRACK_BUDGET_MS / 1000)} budget ran out first` : `the cap of ${fmt(CRACK_MAX_GUESSES)} guesses was reached first`;
    evidence.push({ kind: 'not-recovered', detail: `${u}: not recovered — ${why}` });
  }
  for (const v of verifierLogins) evidence.push({ kind: 'stolen-verifier-login', detail: v.detail });
  for (const s of crack.schemes) evidence.push({ kind: 'lesson', detail: lesson(s) });
  if (verifierLogins.some((v) => v.ok)) {
    evidence.push({ kind: 'lesson', detail: 'challenge-response keyed with the stored value makes the database password-equivalent: stealing it is enough to log in, whatever the storage; SCRAM (RFC 5802) or OPAQUE (RFC 9807) avoid that' });
  }
  evidence.push(...extra);

  const hashed = crack.schemes.filter((s) => s.guessesPerSecond !== null);
  const rate = hashed.length ? crack.guesses / (hashed.reduce((t, s) => t + s.elapsedMs, 0) / 1000) : null;
  const data = {
    guessesPerSecond: rate,
    guesses: crack.guesses,
    recovered: crack.recovered.map((r) => ({ username: r.username, password: r.password, storage: r.storage, guesses: r.guesses, candidate: r.candidate })),
    candidates,
    budgetMs: CRACK_BUDGET_MS,
    thiefBudgetCoreSeconds: crack.schemes.find((s) => s.thief)?.thief?.budgetCoreSeconds ?? null,
    concurrency: CRACK_CONCURRENCY,
    schemes: crack.schemes.map((s) => ({ scheme: s.scheme, users: s.users, guesses: s.guesses, elapsedMs: Math.round(s.elapsedMs * 10) / 10, guessesPerSecond: s.guessesPerSecond, listGuesses: s.listGuesses, listSeconds: s.listSeconds, stoppedBy: s.stoppedBy })),
    verifierLogins: verifierLogins.map((v) => ({ username: v.username, ok: v.ok })),
  };
  const base = { evidence, negotiated: null, data };
  const loggedIn = verifierLogins.filter((v) => v.ok).map((v) => v.username);
  const names = (xs: string[]) => (xs.length === 1 ? `${xs[0]}'s password` : `the passwords of ${xs.join(' and ')}`);

  if (crack.recovered.length || loggedIn.length) {
    const parts: string[] = [];
    const plain = crack.recovered.filter((r) => r.storage === 'plaintext');
    const cracked = crack.recovered.filter((r) => r.storage !== 'plaintext');
    if (plain.length) parts.push(`the stolen database stores passwords in plaintext: ${names(plain.map((r) => r.username))} read straight from the rows, no guessing needed`);
    for (const r of cracked) {
      const s = crack.schemes.find((x) => x.users.includes(r.username))!;
      parts.push(
        r.thiefSeconds !== undefined
          ? `cracked ${r.username}'s password from the stolen ${s.scheme} hash: it is candidate #${fmt(r.candidate)} of a common-password list, ${fmt(r.guesses)} guesses at the measured ${formatRate(s.guessesPerSecond ?? 0)} per core — ${formatDuration(r.thiefSeconds)} for a thief with one CPU core, within a budget of ${budgetText(s.thief!.budgetCoreSeconds)}`
          : `cracked ${r.username}'s password from the stolen ${s.scheme} hash after ${fmt(r.guesses)} guesses at ${formatRate(s.guessesPerSecond ?? 0)} (it is candidate #${fmt(r.candidate)} of a common-password list)`,
      );
    }
    if (loggedIn.length) parts.push(`the stolen verifiers log in directly (auth: challenge keys the proof with the stored value): logged in as ${loggedIn.join(' and ')} without any password`);
    const slowest = Math.max(...cracked.map((r) => r.thiefSeconds ?? 0));
    const summary = cracked.length
      ? cracked.some((r) => r.thiefSeconds !== undefined)
        ? `cracked ${cracked.map((r) => r.username).join('+')}: ${formatDuration(slowest)} on 1 core`
        : `cracked ${cracked.map((r) => r.username).join('+')} in ${fmt(Math.min(...cracked.map((r) => r.guesses)))} guesses`
      : plain.length
        ? `read ${plain.length} plaintext password${plain.length > 1 ? 's' : ''}`
        : `stolen verifier logs in: ${loggedIn.join('+')}`;
    return { outcome: 'succeeded', reason: parts.join('; '), summary: summary.slice(0, 40), impact: ['authentication', 'confidentiality'], ...base };
  }

  const slowest = [...hashed].sort((a, b) => (a.guessesPerSecond ?? 0) - (b.guessesPerSecond ?? 0))[0];
  if (!slowest) {
    return { outcome: 'error', reason: 'no verdict: not one guess completed within the budget, so nothing was measured', summary: 'no guess completed', impact: [], ...base };
  }
  if (peppered.length === stolen.rows.length) {
    return {
      outcome: 'blocked',
      reason: `the hashes are peppered (auth.pepper: an HMAC key kept outside the database): ${fmt(slowest.guesses)} real guesses, none reproduced a stolen hash — the stolen file alone checks no guess, even for a password in the list`,
      summary: 'peppered: file alone uncrackable',
      impact: [],
      ...base,
    };
  }
  if (slowest.thief) {
    const beyond = slowest.thief.beyond;
    return {
      outcome: 'blocked',
      reason: beyond.length
        ? `${slowest.scheme}: ${formatRate(slowest.thief.perSecond)} per core — ${beyond.map((b) => `${b.username}'s password is candidate #${fmt(b.candidate)}, ${formatDuration(b.seconds)} away`).join('; ')}: beyond the thief's budget of ${budgetText(slowest.thief.budgetCoreSeconds)}`
        : `no stored password is in the ${fmt(candidates)}-candidate list: ${slowest.scheme} at ${formatRate(slowest.thief.perSecond)} per core lets a thief run the whole list in ${formatDuration(slowest.listGuesses / slowest.thief.perSecond)}, and it finds nothing`,
      summary: beyond.length ? 'beyond the thief\'s budget' : 'no password in the word list',
      impact: [],
      ...base,
    };
  }
  const listPart = slowest.storage === 'sha256' ? `the ${fmt(candidates)}-word list` : `the ${fmt(candidates)}-word list × ${slowest.users.length} salted account${slowest.users.length > 1 ? 's' : ''}`;
  if (slowest.stoppedBy === 'done') {
    return {
      outcome: 'blocked',
      reason: `${slowest.scheme}: ${formatRate(slowest.guessesPerSecond!)} — ${listPart} was tried in full (${formatDuration(slowest.elapsedMs / 1000)}) and no stored password is in it`,
      summary: 'no password in the word list',
      impact: [],
      ...base,
    };
  }
  const limit = slowest.stoppedBy === 'budget' ? `budget of ${formatDuration(CRACK_BUDGET_MS / 1000)} exhausted` : `cap of ${fmt(CRACK_MAX_GUESSES)} guesses reached`;
  return {
    outcome: 'blocked',
    reason: `${slowest.scheme}: ${formatRate(slowest.guessesPerSecond!)} — ${listPart} would take ${formatDuration(slowest.listSeconds!)}; ${limit} after ${fmt(slowest.guesses)} guesses — slowed, not prevented: a patient attacker runs the whole list, and only passwords outside it survive`,
    summary: `not in ${formatDuration(CRACK_BUDGET_MS / 1000)}; list: ${formatDuration(slowest.listSeconds!)}`.slice(0, 40),
    impact: [],
    ...base,
  };
}

export const passwordCrack: Attack = {
  id: 'password-crack',
  independentOfChat: true,
  title: 'Stolen database, dictionary attack',
  description:
    'After the conversation the attacker copies the server\'s account database and runs a dictionary attack with a common-password list (and, under challenge-response login, tries the stolen verifiers directly). Slow hashes are judged by a thief\'s budget (default one CPU core for one day): the guess rate is measured, and a password the thief reaches within the budget counts as recovered. Succeeds if any password is recovered or any stolen row logs in.',
  // Every profile has an account database, so the attack always applies.
  async beforeMatrix(profiles) {
    // The single-core guess rate, measured while no cell runs beside it (median of samples).
    const sets = new Set(profiles.filter((p) => p.auth.storage === 'scrypt').map((p) => JSON.stringify(p.auth.scrypt ?? DEFAULT_SCRYPT)));
    for (const s of sets) await measureScryptRate({ ...(JSON.parse(s) as { N: number; r: number; p: number }), keyBytes: SCRYPT_PARAMS.keyBytes });
  },
  async run(ctx) {
    const server = await ctx.startServer();
    const obs = await ctx.runConversation({ server, addon: null });
    const stolen = stealDatabase(server.dbPath, path.join(ctx.tmpDir, 'stolen'));
    const extra = conversationEvidence(obs);
    if (stolen.rows.length === 0) {
      return { outcome: 'error', reason: 'the stolen database held no accounts: the conversation did not register anyone', summary: 'no accounts to steal', impact: [], evidence: extra, negotiated: null };
    }
    // The attacker knows the registration rule, so shorter candidates are skipped.
    const words = loadWordlist().filter((w) => w.length >= DEFAULT_LIMITS.minPasswordChars);
    const users = ctx.users as Record<string, string>;
    const crack = await crackRows(stolen.rows, words, {
      budgetMs: CRACK_BUDGET_MS,
      maxGuesses: CRACK_MAX_GUESSES,
      concurrency: CRACK_CONCURRENCY,
      thiefBudgetCoreSeconds: ctx.crackBudgetCoreSeconds,
      knownPassword: (u) => users[u],
    });
    const verifierLogins: Array<{ username: string; ok: boolean; detail: string }> = [];
    // The attacker does not read the profile: it simply tries each stolen row as a login proof.
    // A server that takes passwords refuses proofs; one that runs challenge–response with the
    // stored value as key (auth.method: challenge) lets the thief in.
    for (const row of stolen.rows) verifierLogins.push({ username: row.username, ...(await loginWithVerifier(ctx, server, row)) });
    const verdict = crackVerdict(crack, words.length, stolen, verifierLogins, extra);
    return { ...verdict, negotiated: obs.clients.alice.negotiated ?? obs.clients.bob.negotiated };
  },
};
