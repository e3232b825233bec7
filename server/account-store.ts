/**
 * The account database as the server uses it: an asynchronous facade over {@link UserStore} and
 * {@link OfflineQueue} that never blocks the event loop on SQLite's lock.
 *
 * better-sqlite3 is synchronous: with its default busy timeout (5 s) a statement that meets another
 * process's write lock (SQLite file locking, https://sqlite.org/lockingv3.html) sleeps *on the
 * event loop*, freezing every connection. Here the busy timeout is 0, so a locked statement fails
 * at once with SQLITE_BUSY; the lock is then probed from a timer (backoff 5 ms doubling to
 * 100 ms) and the operation rerun once it is free, until `lockWaitMs` has passed, and then rejects with {@link AccountDbBusyError}, which the
 * session answers with the wire code `accounts_busy`. Each retried operation is atomic in SQLite
 * (one statement or one transaction), so a failed attempt changed nothing and retrying is safe.
 * Password hashing (scrypt) already runs on libuv's thread pool, off the event loop.
 *
 * Wrapping keeps UserStore's internals (hashing, policy, rehash) in one place: what they do
 * lands here unchanged.
 */
import type { StoredUser, UserStore } from './user-store.ts';
import { OfflineQueue, type StoredDm } from './offline-queue.ts';

/** Default of `lockWaitMs`: how long an operation may wait for another process's lock, in ms. */
export const DEFAULT_ACCOUNT_DB_LOCK_WAIT_MS = 5_000;

/** First and largest pause between retries of a locked operation, in ms. */
const RETRY_FIRST_MS = 5;
const RETRY_MAX_MS = 100;

/**
 * An account-database operation could not get SQLite's lock within `lockWaitMs`: another process
 * holds it. Nothing was changed by the operation.
 */
export class AccountDbBusyError extends Error {
  /** the operation, e.g. "create", "offline store" */
  readonly op: string;
  /** how long it waited, in ms */
  readonly waitedMs: number;
  constructor(op: string, waitedMs: number) {
    super(`the account database is locked by another process (${op}, waited ${waitedMs} ms)`);
    this.name = 'AccountDbBusyError';
    this.op = op;
    this.waitedMs = waitedMs;
  }
}

/** True for better-sqlite3's SqliteError whose code says the lock was not available (SQLITE_BUSY*, SQLITE_LOCKED*). */
export function isLockError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** Options of {@link AccountStore}. */
export interface AccountStoreOptions {
  /** most direct messages stored per offline recipient (integer >= 1) */
  maxOfflineMessagesPerUser: number;
  /** how long one operation retries a locked database before {@link AccountDbBusyError}, in ms (default {@link DEFAULT_ACCOUNT_DB_LOCK_WAIT_MS}) */
  lockWaitMs?: number;
  /** clock in ms (default Date.now); injected by tests */
  now?: () => number;
}

/** What storing an offline direct message came to. */
export type OfflineStoreResult = 'stored' | 'unknown_user' | 'mailbox_full';

/**
 * The server's asynchronous access to accounts and offline messages. Sets the database's busy
 * timeout to 0 (the waiting happens here, on timers).
 */
export class AccountStore {
  readonly users: UserStore;
  readonly offline: OfflineQueue;
  readonly lockWaitMs: number;
  private readonly now: () => number;
  /** Called when a background operation (deleting a delivered offline message) gave up; default none. */
  onBackgroundError: (op: string, err: unknown) => void = () => {};

  /** @throws RangeError for a bad `lockWaitMs` or `maxOfflineMessagesPerUser` */
  constructor(users: UserStore, opts: AccountStoreOptions) {
    const lockWaitMs = opts.lockWaitMs ?? DEFAULT_ACCOUNT_DB_LOCK_WAIT_MS;
    if (!Number.isSafeInteger(lockWaitMs) || lockWaitMs < 1) throw new RangeError(`AccountStore: lockWaitMs must be a positive integer of ms (got ${lockWaitMs})`);
    this.users = users;
    this.lockWaitMs = lockWaitMs;
    this.now = opts.now ?? Date.now;
    // Never sleep on the event loop: a locked statement fails at once and is retried from a timer.
    users.db.pragma('busy_timeout = 0');
    this.offline = new OfflineQueue(users.db, opts.maxOfflineMessagesPerUser);
  }

  /**
   * Runs `op` (atomic in SQLite), retrying on a lock error from a timer until `lockWaitMs`.
   * @throws AccountDbBusyError when the lock stayed taken; any other error of `op` unchanged
   */
  private async retrying<T>(name: string, op: () => T | Promise<T>): Promise<T> {
    const start = this.now();
    let pauseMs = RETRY_FIRST_MS;
    for (;;) {
      try {
        return await op();
      } catch (err) {
        if (!isLockError(err)) throw err;
      }
      // Wait with a cheap probe, not by rerunning `op`: a registration's scrypt hash must not be
      // recomputed every few ms while the lock lasts.
      for (;;) {
        const waited = this.now() - start;
        if (waited >= this.lockWaitMs) throw new AccountDbBusyError(name, waited);
        await new Promise((r) => setTimeout(r, Math.min(pauseMs, this.lockWaitMs - waited)));
        pauseMs = Math.min(pauseMs * 2, RETRY_MAX_MS);
        if (this.writable()) break;
      }
    }
  }

  /** True when this connection could take the write lock now (BEGIN IMMEDIATE, then released at once). */
  private writable(): boolean {
    try {
      this.users.db.exec('BEGIN IMMEDIATE');
      this.users.db.exec('ROLLBACK');
      return true;
    } catch (err) {
      if (isLockError(err)) return false;
      throw err;
    }
  }

  /** The row for a canonical username, or undefined. @throws AccountDbBusyError */
  get(username: string): Promise<StoredUser | undefined> {
    return this.retrying('lookup', () => this.users.get(username));
  }

  /** Creates an account (see UserStore.create). @returns false when the name is taken. @throws AccountDbBusyError */
  create(username: string, password: string): Promise<boolean> {
    return this.retrying('register', () => this.users.create(username, password));
  }

  /** Checks a login (see UserStore.check). @throws AccountDbBusyError */
  check(username: string, password: string): Promise<boolean> {
    return this.retrying('login', () => this.users.check(username, password));
  }

  /**
   * Stores a direct message for an offline recipient, after checking the account exists.
   * @throws AccountDbBusyError (nothing stored)
   */
  storeOffline(recipient: string, sender: string, text: string, ts: number): Promise<OfflineStoreResult> {
    return this.retrying('offline store', () => {
      if (!this.users.get(recipient)) return 'unknown_user';
      return this.offline.store(recipient, sender, text, ts) ? 'stored' : 'mailbox_full';
    });
  }

  /** Takes a recipient's stored messages for delivery (see OfflineQueue.take). @throws AccountDbBusyError */
  takeOffline(recipient: string): Promise<StoredDm[]> {
    return this.retrying('offline take', () => this.offline.take(recipient));
  }

  /**
   * Settles a delivered message (see OfflineQueue.done), in the background. If the lock stays
   * taken the message stays stored and is delivered again at the next login (docs/protocol.md).
   */
  doneOffline(id: number, written: boolean): void {
    if (!written) return this.offline.done(id, false);
    this.retrying('offline delete', () => this.offline.done(id, true)).catch((err) => {
      this.offline.done(id, false); // back to the queue, not in flight
      this.onBackgroundError('offline delete', err);
    });
  }
}
