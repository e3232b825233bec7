/**
 * `password-crack`: after alice and bob have registered and talked, the attacker steals the
 * server's account database (a copy of the SQLite file and its write-ahead log, as a backup leak
 * or a compromised host would give it) and runs a bounded dictionary attack on it with the word
 * list shipped in attacks/wordlists/. The verdict is measured: which passwords fell, after how many
 * guesses, at how many guesses per second — never inferred from the storage setting. The verdict
 * from those observations is attacks/kit/password-crack-verdict.ts (pure); this file runs the attack.
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
import { crackRows, loadWordlist, measureScryptRate } from '../password-cracker.ts';
import { noAccountsVerdict, passwordCrackVerdict, type StolenDatabase, type VerifierLogin } from '../kit/password-crack-verdict.ts';
import { DEFAULT_SCRYPT } from '../../core/profile.ts';
import { SCRYPT_PARAMS } from '../../server/user-store.ts';
import type { Attack, AttackContext } from '../types.ts';

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

/**
 * Copies the database file and its WAL (recent writes live there until a checkpoint) and reads
 * every account row, read-only.
 */
function stealDatabase(dbPath: string, intoDir: string): StolenDatabase {
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
    if (stolen.rows.length === 0) return noAccountsVerdict(extra);
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
    const verifierLogins: VerifierLogin[] = [];
    // The attacker does not read the profile: it simply tries each stolen row as a login proof.
    // A server that takes passwords refuses proofs; one that runs challenge–response with the
    // stored value as key (auth.method: challenge) lets the thief in.
    for (const row of stolen.rows) verifierLogins.push({ username: row.username, ...(await loginWithVerifier(ctx, server, row)) });
    const setting = { budgetMs: CRACK_BUDGET_MS, maxGuesses: CRACK_MAX_GUESSES, concurrency: CRACK_CONCURRENCY, cpus: os.availableParallelism() };
    const verdict = passwordCrackVerdict(crack, words.length, stolen, verifierLogins, setting, extra);
    return { ...verdict, negotiated: obs.clients.alice.negotiated ?? obs.clients.bob.negotiated };
  },
};
