/**
 * Accounts in an SQLite file (better-sqlite3). Passwords are stored per the profile's
 * `auth.storage`: `scrypt` (salted, memory-hard, RFC 7914), or the deliberately weak `sha256`
 * (unsalted, fast) and `plaintext` that the password-crack attack exists to show.
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
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

/** Computes the stored form of a password. */
export async function hashPassword(password: string, storage: PasswordStorage): Promise<Omit<StoredUser, 'username'>> {
  switch (storage) {
    case 'plaintext':
      return { storage, salt: '', hash: password, params: '' };
    case 'sha256':
      return { storage, salt: '', hash: createHash('sha256').update(password, 'utf8').digest('hex'), params: '' };
    case 'scrypt': {
      const salt = randomBytes(SCRYPT_PARAMS.saltBytes);
      const { N, r, p, keyBytes } = SCRYPT_PARAMS;
      const dk = await scrypt(password, salt, keyBytes, { N, r, p, maxmem: 64 * 1024 * 1024 });
      return { storage, salt: salt.toString('hex'), hash: dk.toString('hex'), params: JSON.stringify({ N, r, p }) };
    }
  }
}

/**
 * Checks a password against a stored row in constant time (for equal-length digests).
 * @returns true when the password matches; false otherwise (never throws for a wrong password)
 */
export async function verifyPassword(password: string, row: Omit<StoredUser, 'username'>): Promise<boolean> {
  let candidate: Buffer;
  let expected: Buffer;
  if (row.storage === 'scrypt') {
    const { N, r, p } = JSON.parse(row.params || '{}') as { N: number; r: number; p: number };
    expected = Buffer.from(row.hash, 'hex');
    candidate = await scrypt(password, Buffer.from(row.salt, 'hex'), expected.length, { N, r, p, maxmem: 64 * 1024 * 1024 });
  } else if (row.storage === 'sha256') {
    expected = Buffer.from(row.hash, 'hex');
    candidate = createHash('sha256').update(password, 'utf8').digest();
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
export class UserStore {
  readonly db: Database.Database;
  private readonly storage: PasswordStorage;

  constructor(file: string, storage: PasswordStorage = 'scrypt') {
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
    const row = await hashPassword(password, this.storage);
    const info = this.db
      .prepare('INSERT OR IGNORE INTO users (username, storage, salt, hash, params, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(username, row.storage, row.salt, row.hash, row.params, Date.now());
    return info.changes === 1;
  }

  /** Checks a login. A missing user costs a hash too, so timing does not reveal which names exist. */
  async check(username: string, password: string): Promise<boolean> {
    const row = this.get(username);
    if (!row) {
      await hashPassword(password, this.storage);
      return false;
    }
    return verifyPassword(password, row);
  }

  /** Every stored row (what a stolen database reveals). */
  all(): StoredUser[] {
    return this.db.prepare('SELECT username, storage, salt, hash, params FROM users ORDER BY username').all() as StoredUser[];
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
