/**
 * A bounded offline dictionary attack on stolen account rows (server/user-store.ts): the engine
 * of the password-crack attack, apart from the stealing. It tries candidates in list order
 * against every row, within a wall-clock budget and a guess cap, and measures the guess rate of
 * each storage scheme:
 *
 * - `plaintext`: nothing to guess, the row holds the password.
 * - `sha256` (unsalted): one hash per candidate is compared with every row at once.
 * - `scrypt` (salted, RFC 7914): one derivation per candidate *per row*, run a few at a time on
 *   node's thread pool so the event loop (and any server in the same process) keeps running.
 */
import { createHash, scrypt as scryptCb } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { PasswordStorage, StoredUser } from '../server/user-store.ts';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** The dictionary shipped with the project (see attacks/wordlists/generate-common-passwords.ts). */
export const WORDLIST_FILE = new URL('./wordlists/common-passwords.txt', import.meta.url);

/**
 * Fast hashes are computed in batches this size between looks at the clock and the event loop:
 * large enough that yielding does not dominate the measured rate, small enough (a few ms) to keep
 * other connections in the process served.
 */
const FAST_BATCH = 4096;

/**
 * Reads a word list: one candidate per line, blank lines skipped, duplicates dropped, order kept.
 * @throws the fs error when the file cannot be read
 */
export function loadWordlist(file: URL | string = WORDLIST_FILE): string[] {
  const words = readFileSync(file, 'utf8').split(/\r?\n/).filter((w) => w.length > 0);
  return [...new Set(words)];
}

/**
 * The default thief: one CPU core for one day, in core-seconds. A thief's budget is what decides a
 * slow hash's verdict, not the demo's time box (issue 9 §3).
 */
export const DEFAULT_THIEF_BUDGET_CORE_SECONDS = 24 * 3600;

/** Single-core scrypt rates already measured in this process, by parameters. */
const measuredRates = new Map<string, Promise<{ perSecond: number; samplesMs: number[] }>>();
/** Derivations per timed sample and samples per measurement: the median of the samples is the rate. */
const RATE_SAMPLE_GUESSES = 3;
const RATE_SAMPLES = 3;

/**
 * Measures how many scrypt guesses per second one CPU core makes with these parameters: derivations
 * run one at a time (one core), timed in {@link RATE_SAMPLES} samples, the median taken so a burst
 * of other work in the process skews one sample at most. Measured once per parameter set per
 * process (the matrix measures before its cells start, see password-crack's `beforeMatrix`).
 * @returns guesses per second and each sample's ms per guess
 */
export function measureScryptRate(params: { N: number; r: number; p: number; keyBytes: number }): Promise<{ perSecond: number; samplesMs: number[] }> {
  const key = JSON.stringify(params);
  let m = measuredRates.get(key);
  if (!m) {
    m = (async () => {
      const salt = Buffer.alloc(16, 7);
      const samplesMs: number[] = [];
      for (let s = 0; s < RATE_SAMPLES; s++) {
        const t0 = performance.now();
        for (let i = 0; i < RATE_SAMPLE_GUESSES; i++) await scrypt(`rate-probe-${s}-${i}`, salt, params.keyBytes, { N: params.N, r: params.r, p: params.p, maxmem: scryptMaxmem(params) });
        samplesMs.push((performance.now() - t0) / RATE_SAMPLE_GUESSES);
      }
      const median = [...samplesMs].sort((a, b) => a - b)[Math.floor(samplesMs.length / 2)];
      return { perSecond: 1000 / median, samplesMs };
    })();
    measuredRates.set(key, m);
  }
  return m;
}

/** Memory scrypt needs for these parameters, with headroom, in bytes (RFC 7914 §2: 128·N·r·p-ish). */
export function scryptMaxmem(params: { N: number; r: number; p: number }): number {
  return 128 * params.N * params.r * (params.p + 1) + 1024 * 1024;
}

/** Options of {@link crackRows}. */
export interface CrackOptions {
  /** wall-clock budget for all guessing, in ms (guesses in flight when it ends still finish) */
  budgetMs: number;
  /** stop after this many guesses in total */
  maxGuesses: number;
  /** scrypt derivations in flight at once (>= 1) */
  concurrency: number;
  /** monotonic clock in ms (default performance.now); injected by tests */
  now?: () => number;
  /**
   * Judge slow (salted) hashes by a thief's budget, in CPU-core seconds, instead of the time box:
   * the single-core rate is measured ({@link measureScryptRate}), guesses that cannot match are
   * skipped and charged at that rate, and the candidate that matches is checked with a real
   * derivation compared with the stolen hash. Needs `knownPassword`.
   */
  thiefBudgetCoreSeconds?: number;
  /**
   * The password the lab itself registered for a user (the scenario knows it), used only to skip
   * guesses that cannot match — never as the answer: the match is a real hash comparison.
   */
  knownPassword?: (username: string) => string | undefined;
}

/** A password the dictionary found. */
export interface RecoveredPassword {
  username: string;
  password: string;
  storage: PasswordStorage;
  /** guesses made against this row's scheme up to and including the hit (0 for plaintext) */
  guesses: number;
  /** 1-based position of the password in the candidate list (0 for plaintext: no list needed) */
  candidate: number;
  /** seconds one CPU core needs for `guesses` at the measured rate (slow hashes under a thief's budget) */
  thiefSeconds?: number;
  /** guesses skipped (charged at the measured rate, not computed) before the real matching one */
  skipped?: number;
}

/** What happened for one storage scheme (rows sharing storage and scrypt parameters). */
export interface SchemeReport {
  /** e.g. `sha256`, `scrypt (N=16384, r=8, p=1)` */
  scheme: string;
  storage: PasswordStorage;
  /** usernames of the rows stored this way */
  users: string[];
  /** guesses made (a guess = one hash or derivation) */
  guesses: number;
  /** time spent guessing, in ms */
  elapsedMs: number;
  /** measured rate; null when there was nothing to hash (plaintext) or no guess completed */
  guessesPerSecond: number | null;
  /** guesses the whole list needs against these rows (salted: candidates × rows) */
  listGuesses: number;
  /** seconds the whole list would take at the measured rate; null when not measured */
  listSeconds: number | null;
  /** how far the list got: `done` (every candidate tried or every row found), `budget`, `cap`, or `thief-budget` (the thief's budget runs out before the password) */
  stoppedBy: 'done' | 'budget' | 'cap' | 'thief-budget';
  /** judged by a thief's budget: the measured single-core rate and the budget, else absent */
  thief?: { perSecond: number; samplesMs: number[]; budgetCoreSeconds: number; beyond: Array<{ username: string; candidate: number; seconds: number }> };
}

/** The result of {@link crackRows}. */
export interface CrackResult {
  recovered: RecoveredPassword[];
  /** usernames not recovered */
  remaining: string[];
  schemes: SchemeReport[];
  /** guesses in total */
  guesses: number;
  /** time spent guessing in total, in ms */
  elapsedMs: number;
}

/** Scheme label and grouping key of a row. */
function schemeOf(row: StoredUser): string {
  if (row.storage !== 'scrypt') return row.storage;
  const { N, r, p } = JSON.parse(row.params || '{}') as { N?: number; r?: number; p?: number };
  return `scrypt (N=${N}, r=${r}, p=${p})`;
}

/**
 * Runs the dictionary against the rows: plaintext rows first (free), then fast hashes, then slow
 * ones, all sharing one budget.
 * @param rows  stolen account rows
 * @param words candidates, most likely first
 * @returns what was recovered and the measured rates; never throws for a wrong guess
 * @throws RangeError for a non-positive budget, cap or concurrency
 */
export async function crackRows(rows: StoredUser[], words: string[], opts: CrackOptions): Promise<CrackResult> {
  if (!(opts.budgetMs > 0 && opts.maxGuesses > 0 && Number.isInteger(opts.concurrency) && opts.concurrency >= 1)) {
    throw new RangeError(`crackRows: budgetMs, maxGuesses and concurrency must be positive (got ${opts.budgetMs}, ${opts.maxGuesses}, ${opts.concurrency})`);
  }
  const now = opts.now ?? (() => performance.now());
  const deadline = now() + opts.budgetMs;
  const recovered: RecoveredPassword[] = [];
  const schemes: SchemeReport[] = [];
  let total = 0;

  const thiefReports = new Map<string, NonNullable<SchemeReport['thief']>>();
  const groups = new Map<string, StoredUser[]>();
  for (const row of rows) groups.set(schemeOf(row), [...(groups.get(schemeOf(row)) ?? []), row]);
  const rank = { plaintext: 0, sha256: 1, scrypt: 2 } as const;
  const ordered = [...groups.entries()].sort((a, b) => rank[a[1][0].storage] - rank[b[1][0].storage]);

  for (const [scheme, group] of ordered) {
    const storage = group[0].storage;
    const started = now();
    let guesses = 0;
    let stoppedBy: SchemeReport['stoppedBy'] = 'done';
    const outOfTime = () => now() >= deadline;
    const outOfGuesses = () => total + guesses >= opts.maxGuesses;

    if (storage === 'plaintext') {
      for (const row of group) recovered.push({ username: row.username, password: row.hash, storage, guesses: 0, candidate: 0 });
    } else if (storage === 'sha256') {
      // Unsalted: equal passwords have equal hashes, so one hash answers for every row at once.
      const targets = new Map<string, StoredUser[]>();
      for (const row of group) targets.set(row.hash, [...(targets.get(row.hash) ?? []), row]);
      for (let i = 0; i < words.length && targets.size > 0; i++) {
        if (i % FAST_BATCH === 0 && i > 0) {
          if (outOfTime()) {
            stoppedBy = 'budget';
            break;
          }
          await yieldToEventLoop();
        }
        if (outOfGuesses()) {
          stoppedBy = 'cap';
          break;
        }
        const h = createHash('sha256').update(words[i], 'utf8').digest('hex');
        guesses++;
        for (const row of targets.get(h) ?? []) recovered.push({ username: row.username, password: words[i], storage, guesses, candidate: i + 1 });
        targets.delete(h);
      }
    } else if (opts.thiefBudgetCoreSeconds !== undefined && opts.knownPassword) {
      const params = JSON.parse(group[0].params) as { N: number; r: number; p: number };
      const rate = await measureScryptRate({ ...params, keyBytes: group[0].hash.length / 2 });
      const thief: NonNullable<SchemeReport['thief']> = { perSecond: rate.perSecond, samplesMs: rate.samplesMs, budgetCoreSeconds: opts.thiefBudgetCoreSeconds, beyond: [] };
      thiefReports.set(scheme, thief);
      // Candidate-major order against every row of the group: row k of n falls at guess i·n + k + 1.
      for (const [k, row] of group.entries()) {
        const known = opts.knownPassword(row.username);
        const i = known === undefined ? -1 : words.indexOf(known);
        if (i < 0) continue;
        const { N, r, p } = JSON.parse(row.params) as { N: number; r: number; p: number };
        const expected = Buffer.from(row.hash, 'hex');
        const dk = await scrypt(words[i], Buffer.from(row.salt, 'hex'), expected.length, { N, r, p, maxmem: scryptMaxmem({ N, r, p }) });
        guesses++;
        if (!dk.equals(expected)) continue; // peppered, or not what the lab registered: the real comparison decides
        const needed = i * group.length + k + 1;
        const seconds = needed / rate.perSecond;
        if (seconds <= opts.thiefBudgetCoreSeconds) recovered.push({ username: row.username, password: words[i], storage, guesses: needed, candidate: i + 1, thiefSeconds: seconds, skipped: needed - 1 });
        else {
          thief.beyond.push({ username: row.username, candidate: i + 1, seconds });
          stoppedBy = 'thief-budget';
        }
      }
    } else {
      // Salted: every row needs its own derivation per candidate. Candidate-major order tries the
      // likeliest passwords against every account before moving on.
      const open = new Set(group);
      const tasks = (function* () {
        for (let i = 0; i < words.length; i++) for (const row of group) yield { i, row };
      })();
      const worker = async () => {
        for (;;) {
          if (open.size === 0) return;
          if (outOfTime()) {
            stoppedBy = 'budget';
            return;
          }
          if (outOfGuesses()) {
            stoppedBy = 'cap';
            return;
          }
          const next = tasks.next();
          if (next.done) return;
          const { i, row } = next.value;
          if (!open.has(row)) continue;
          const { N, r, p } = JSON.parse(row.params) as { N: number; r: number; p: number };
          const expected = Buffer.from(row.hash, 'hex');
          const dk = await scrypt(words[i], Buffer.from(row.salt, 'hex'), expected.length, { N, r, p, maxmem: scryptMaxmem({ N, r, p }) });
          guesses++;
          if (open.has(row) && dk.equals(expected)) {
            open.delete(row);
            recovered.push({ username: row.username, password: words[i], storage, guesses, candidate: i + 1 });
          }
        }
      };
      await Promise.all(Array.from({ length: opts.concurrency }, worker));
    }

    const elapsedMs = now() - started;
    total += guesses;
    const thief = thiefReports.get(scheme);
    const rate = thief ? thief.perSecond : storage === 'plaintext' || guesses === 0 ? null : guesses / (Math.max(elapsedMs, 0.001) / 1000);
    const listGuesses = storage === 'plaintext' ? 0 : storage === 'sha256' ? words.length : words.length * group.length;
    schemes.push({
      scheme,
      storage,
      users: group.map((r) => r.username),
      guesses,
      elapsedMs,
      guessesPerSecond: rate,
      listGuesses,
      listSeconds: storage === 'plaintext' ? 0 : rate ? listGuesses / rate : null,
      stoppedBy,
      ...(thief ? { thief } : {}),
    });
  }

  const found = new Set(recovered.map((r) => r.username));
  return {
    recovered,
    remaining: rows.map((r) => r.username).filter((u) => !found.has(u)),
    schemes,
    guesses: total,
    elapsedMs: schemes.reduce((s, x) => s + x.elapsedMs, 0),
  };
}
