/**
 * Accounts in an SQLite file (better-sqlite3). Passwords are stored per the profile's
 * `auth.storage`: `scrypt` (salted, memory-hard, RFC 7914), or the deliberately weak `sha256`
 * (unsalted, fast) and `plaintext` that the password-crack attack exists to show.
 *
 * Each row keeps the parameters it was hashed with (`params`), so a profile may change
 * `auth.scrypt` and old rows still log in; a successful login rehashes a row to the current
 * parameters. With `auth.pepper` every password first passes through HMAC-SHA256 under a key kept
 * outside the database (RFC 2104; NIST SP 800-63B §5.1.1.2 "pepper"), so a stolen database alone
 * cannot be checked against any guess. `auth.passwordPolicy` refuses short and common passwords at
 * registration (NIST SP 800-63B §5.1.1.2).
 */
import Database from 'better-sqlite3';
import { createHash, createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (password: string | Buffer, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** How a password is stored. */
export type PasswordStorage = 'plaintext' | 'sha256' | 'scrypt';

/**
 * scrypt cost (RFC 7914 §2): N=2^14, r=8, p=1 — the interactive-login parameters of the scrypt
 * paper; about 16 MiB and tens of ms per hash.
 */
export const SCRYPT_PARAMS = { N: 16384, r: 8, p: 1, keyBytes: 32, saltBytes: 16 } as const;

/** One stored account row, as an attacker who steals the database file sees it. */
export interface StoredUser {
  username: string;
  storage: PasswordStorage;
  /** hex; empty for plaintext and sha256 */
  salt: string;
  /** hex digest, or the password itself for plaintext */
  hash: string;
  /** scrypt parameters as JSON, or '' */
  params: string;
}

/** Largest memory one stored row's scrypt parameters may ask for, in bytes (128·N·r, RFC 7914 §2). */
export const MAX_RECORD_SCRYPT_MEMORY_BYTES = 256 * 1024 * 1024;

/** Options for hashing: scrypt parameters (default {@link SCRYPT_PARAMS}) and the pepper key, if any. */
export interface HashOptions {
  scrypt?: { N: number; r: number; p: number };
  /** HMAC-SHA256 key kept outside the database; null or absent: no pepper */
  pepperKey?: Buffer | null;
}

/** A stored row that cannot be checked: parameters out of bounds, or a pepper the server does not hold. */
export class UnusableRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnusableRecordError';
  }
}

/** The password as hashed: itself, or HMAC-SHA256(pepper, password) in hex when peppered. */
function peppered(password: string, pepperKey: Buffer | null | undefined): string {
  return pepperKey ? createHmac('sha256', pepperKey).update(password, 'utf8').digest('hex') : password;
}

/** Memory scrypt needs for these parameters, with headroom, in bytes: node's maxmem. */
export function scryptMaxmemFor(params: { N: number; r: number; p: number }): number {
  return 128 * params.N * params.r * (params.p + 1) + 1024 * 1024;
}

/**
 * A row's stored parameters, checked before any derivation.
 * @throws UnusableRecordError when N is not a power of two, r or p out of 1…32 / 1…16, or 128·N·r over {@link MAX_RECORD_SCRYPT_MEMORY_BYTES}
 */
export function recordParams(row: Pick<StoredUser, 'params' | 'username'>): { N: number; r: number; p: number; pepper: boolean } {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(row.params || '{}');
  } catch {
    throw new UnusableRecordError(`the stored password of ${row.username} has unreadable parameters`);
  }
  const { N, r, p } = v as { N: number; r: number; p: number };
  const ok = Number.isInteger(N) && N > 1 && (N & (N - 1)) === 0 && Number.isInteger(r) && r >= 1 && r <= 32 && Number.isInteger(p) && p >= 1 && p <= 16;
  if (!ok) throw new UnusableRecordError(`the stored password of ${row.username} has unusable scrypt parameters (N=${N}, r=${r}, p=${p}); allowed: N a power of two, r 1…32, p 1…16`);
  if (128 * N * r > MAX_RECORD_SCRYPT_MEMORY_BYTES) {
    throw new UnusableRecordError(`the stored password of ${row.username} asks scrypt for ${(128 * N * r) / 1048576} MiB (N=${N}, r=${r}); this server allows at most ${MAX_RECORD_SCRYPT_MEMORY_BYTES / 1048576} MiB per login`);
  }
  return { N, r, p, pepper: v.pepper === true };
}

/** Computes the stored form of a password. */
export async function hashPassword(password: string, storage: PasswordStorage, opts: HashOptions = {}): Promise<Omit<StoredUser, 'username'>> {
  const input = storage === 'plaintext' ? password : peppered(password, opts.pepperKey);
  const pepper = storage !== 'plaintext' && !!opts.pepperKey;
  switch (storage) {
    case 'plaintext':
      return { storage, salt: '', hash: password, params: '' };
    case 'sha256':
      return { storage, salt: '', hash: createHash('sha256').update(input, 'utf8').digest('hex'), params: pepper ? JSON.stringify({ pepper }) : '' };
    case 'scrypt': {
      const salt = randomBytes(SCRYPT_PARAMS.saltBytes);
      const { N, r, p } = opts.scrypt ?? SCRYPT_PARAMS;
      const dk = await scrypt(input, salt, SCRYPT_PARAMS.keyBytes, { N, r, p, maxmem: scryptMaxmemFor({ N, r, p }) });
      return { storage, salt: salt.toString('hex'), hash: dk.toString('hex'), params: JSON.stringify(pepper ? { N, r, p, pepper } : { N, r, p }) };
    }
  }
}

/**
 * Checks a password against a stored row in constant time (for equal-length digests). scrypt uses
 * the row's own parameters, with the memory limit derived from them.
 * @returns true when the password matches; false otherwise (never throws for a wrong password)
 * @throws UnusableRecordError when the row's parameters are out of bounds, or it is peppered and no key is given
 */
export async function verifyPassword(password: string, row: Omit<StoredUser, 'username'> & { username?: string }, pepperKey?: Buffer | null): Promise<boolean> {
  let candidate: Buffer;
  let expected: Buffer;
  const who = { username: row.username ?? 'this account', params: row.params };
  const wantsPepper = row.storage !== 'plaintext' && row.params !== '' && (JSON.parse(row.params) as { pepper?: boolean }).pepper === true;
  if (wantsPepper && !pepperKey) throw new UnusableRecordError(`the stored password of ${who.username} is peppered, but this server holds no pepper key (auth.pepper)`);
  const input = peppered(password, wantsPepper ? pepperKey : null);
  if (row.storage === 'scrypt') {
    const { N, r, p } = recordParams(who);
    expected = Buffer.from(row.hash, 'hex');
    candidate = await scrypt(input, Buffer.from(row.salt, 'hex'), expected.length, { N, r, p, maxmem: scryptMaxmemFor({ N, r, p }) });
  } else if (row.storage === 'sha256') {
    expected = Buffer.from(row.hash, 'hex');
    candidate = createHash('sha256').update(input, 'utf8').digest();
  } else {
    // Hash both sides so the comparison is constant-time regardless of length.
    expected = createHash('sha256').update(row.hash, 'utf8').digest();
    candidate = createHash('sha256').update(password, 'utf8').digest();
  }
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}

/**
 * The account database. Opening creates the file (and its folder) and the schema.
 * @param file path of the SQLite file, or ':memory:'
 */
/** Options of {@link UserStore}. */
export interface UserStoreOptions {
  /** how new passwords are stored (default scrypt) */
  storage?: PasswordStorage;
  /** scrypt parameters for new hashes and rehashes (default {@link SCRYPT_PARAMS}) */
  scrypt?: { N: number; r: number; p: number };
  /** keep a pepper key in this file (created 0600 with 32 random bytes if missing), outside the database */
  pepperFile?: string | null;
  /** registration policy (NIST SP 800-63B §5.1.1.2); absent: none */
  policy?: { minLength: number; rejectCommon: boolean } | null;
  /** password checks already passed, shared between stores (see {@link PassedLoginCache}); absent: none */
  passedLogins?: PassedLoginCache | null;
}

/**
 * Password checks that already passed, for a harness that logs the same seeded accounts in many
 * times: a matrix run copies one seeded database per profile into every scenario, and alice and
 * bob log in to each — some 300 scrypt checks of ~50 ms of CPU each, two thirds of the demo's CPU
 * time. A check that passed once for this exact row (storage, salt, hash, parameters) and pepper
 * key passes again, so the harness may remember it. Only passes are remembered: a wrong password
 * always costs the full hash, so no guess is ever cheaper for an attacker. Entries are HMAC-SHA256
 * tags under a random per-cache key (RFC 2104), never the password, and the cache holds at most
 * {@link PassedLoginCache.MAX_ENTRIES}. `secchat server` never uses one.
 */
export class PassedLoginCache {
  static readonly MAX_ENTRIES = 4096;
  private readonly key = randomBytes(32);
  private readonly passed = new Set<string>();

  private tag(password: string, row: Omit<StoredUser, 'username'>, pepperKey: Buffer | null | undefined): string {
    const h = createHmac('sha256', this.key);
    for (const part of [row.storage, row.salt, row.hash, row.params, pepperKey ? pepperKey.toString('hex') : '', password]) h.update(`${Buffer.byteLength(part)}:${part}`);
    return h.digest('base64');
  }

  /** True when `password` already passed the check against this very row and pepper key. */
  has(password: string, row: Omit<StoredUser, 'username'>, pepperKey?: Buffer | null): boolean {
    return this.passed.has(this.tag(password, row, pepperKey));
  }

  /** Remembers a check that passed (the oldest entry goes when full). */
  add(password: string, row: Omit<StoredUser, 'username'>, pepperKey?: Buffer | null): void {
    if (this.passed.size >= PassedLoginCache.MAX_ENTRIES) this.passed.delete(this.passed.values().next().value as string);
    this.passed.add(this.tag(password, row, pepperKey));
  }
}

/** The common-password list the policy refuses (the same list password-crack uses). */
const COMMON_PASSWORDS_FILE = new URL('../attacks/wordlists/common-passwords.txt', import.meta.url);
let commonPasswords: Set<string> | null = null;
function isCommonPassword(password: string): boolean {
  commonPasswords ??= new Set(readFileSync(COMMON_PASSWORDS_FILE, 'utf8').split(/\r?\n/).filter(Boolean).map((w) => w.toLowerCase()));
  return commonPasswords.has(password.toLowerCase());
}

/**
 * Why `password` breaks `policy`, or null when it complies.
 * NIST SP 800-63B §5.1.1.2: a minimum length, and no value from a list of commonly used passwords.
 */
export function passwordPolicyRefusal(password: string, policy: { minLength: number; rejectCommon: boolean } | null | undefined): string | null {
  if (!policy) return null;
  if ([...password].length < policy.minLength) return `password must have at least ${policy.minLength} characters (auth.passwordPolicy.minLength)`;
  if (policy.rejectCommon && isCommonPassword(password)) return 'password is in the list of common passwords; choose a passphrase of several unrelated words (auth.passwordPolicy.rejectCommon)';
  return null;
}

/** Reads the pepper key from `file`, creating it (0600, 32 random bytes) when missing. */
function loadPepper(file: string): Buffer {
  if (!existsSync(file)) writeFileSync(file, randomBytes(32), { mode: 0o600, flag: 'wx' });
  const key = readFileSync(file);
  if (key.length < 16) throw new UnusableRecordError(`pepper key file ${file} holds ${key.length} bytes; at least 16 are needed`);
  return key;
}

export class UserStore {
  readonly db: Database.Database;
  private readonly storage: PasswordStorage;
  private readonly hashOpts: HashOptions;
  private readonly policy: UserStoreOptions['policy'];
  private readonly passedLogins: PassedLoginCache | null;

  constructor(file: string, storageOrOptions: PasswordStorage | UserStoreOptions = 'scrypt') {
    const opts: UserStoreOptions = typeof storageOrOptions === 'string' ? { storage: storageOrOptions } : storageOrOptions;
    const storage = opts.storage ?? 'scrypt';
    this.policy = opts.policy ?? null;
    this.passedLogins = opts.passedLogins ?? null;
    if (file !== ':memory:') {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      // The file holds password hashes (or worse): readable by its owner only. SQLite gives its
      // -wal and -shm files the same permissions as the database file.
      if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    }
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS users (
      username TEXT PRIMARY KEY,
      storage TEXT NOT NULL,
      salt TEXT NOT NULL,
      hash TEXT NOT NULL,
      params TEXT NOT NULL,
      created_at INTEGER NOT NULL
    )`);
    this.storage = storage;
    this.hashOpts = { scrypt: opts.scrypt ?? SCRYPT_PARAMS, pepperKey: opts.pepperFile ? loadPepper(opts.pepperFile) : null };
  }

  /** Why the policy refuses `password` at registration, or null. */
  passwordRefusal(password: string): string | null {
    return passwordPolicyRefusal(password, this.policy);
  }

  /** The row for a username, or undefined. */
  get(username: string): StoredUser | undefined {
    return this.db.prepare('SELECT username, storage, salt, hash, params FROM users WHERE username = ?').get(username) as StoredUser | undefined;
  }

  /**
   * Creates an account.
   * @returns false when the username is taken
   */
  async create(username: string, password: string): Promise<boolean> {
    if (this.get(username)) return false;
    const row = await hashPassword(password, this.storage, this.hashOpts);
    const info = this.db
      .prepare('INSERT OR IGNORE INTO users (username, storage, salt, hash, params, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(username, row.storage, row.salt, row.hash, row.params, Date.now());
    return info.changes === 1;
  }

  /**
   * Checks a login. A missing user costs a hash too, so timing does not reveal which names exist.
   * A row stored with other parameters than the current ones (scrypt N/r/p, pepper) is rehashed
   * to the current ones after a successful check.
   * @throws UnusableRecordError when the row cannot be checked (parameters out of bounds, pepper missing)
   */
  async check(username: string, password: string): Promise<boolean> {
    const row = this.get(username);
    if (!row) {
      await hashPassword(password, this.storage, this.hashOpts);
      return false;
    }
    const pepperKey = this.hashOpts.pepperKey;
    const ok = this.passedLogins?.has(password, row, pepperKey) || (await verifyPassword(password, row, pepperKey));
    if (ok) this.passedLogins?.add(password, row, pepperKey);
    if (ok && this.isOutdated(row)) {
      const fresh = await hashPassword(password, this.storage, this.hashOpts);
      this.db.prepare('UPDATE users SET storage = ?, salt = ?, hash = ?, params = ? WHERE username = ?').run(fresh.storage, fresh.salt, fresh.hash, fresh.params, username);
    }
    return ok;
  }

  /** True when `row` was not stored the way this store stores now. */
  private isOutdated(row: StoredUser): boolean {
    if (row.storage !== this.storage) return true;
    if (row.storage === 'plaintext') return false;
    const want = hashParamsJson(this.storage, this.hashOpts);
    return row.params !== want;
  }

  /** Every stored row (what a stolen database reveals). */
  all(): StoredUser[] {
    return this.db.prepare('SELECT username, storage, salt, hash, params FROM users ORDER BY username').all() as StoredUser[];
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** The `params` column {@link hashPassword} writes for these options. */
function hashParamsJson(storage: PasswordStorage, opts: HashOptions): string {
  const pepper = !!opts.pepperKey;
  if (storage === 'sha256') return pepper ? JSON.stringify({ pepper }) : '';
  if (storage === 'scrypt') {
    const { N, r, p } = opts.scrypt ?? SCRYPT_PARAMS;
    return JSON.stringify(pepper ? { N, r, p, pepper } : { N, r, p });
  }
  return '';
}
