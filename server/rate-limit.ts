/**
 * Login throttling (OWASP Authentication Cheat Sheet, "Login Throttling"; NIST SP 800-63B §5.2.2
 * "Rate Limiting"): a sliding one-minute window of attempts per account and per client address.
 *
 * - Per address, every request that costs a password hash counts (`login` and `register`), so
 *   one machine cannot make the server burn CPU on scrypt or spray one password over many
 *   accounts faster than the limit.
 * - Per account, failed logins count, so an online guesser gets a handful of guesses a minute
 *   however many addresses it owns.
 *
 * Over a limit, attempts are refused without looking at the password (no oracle while locked)
 * until the oldest attempt leaves the window: a lockout that lifts by itself, so a stranger who
 * fails on purpose can lock an account for at most one window. Refused attempts are not counted.
 * Memory is bounded: each key holds at most `limit` timestamps and the table at most `maxKeys`.
 */

/** One window's verdict: allowed, or refused with the wait until the next attempt is allowed. */
export type LimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** Options of {@link SlidingWindowLimiter}. */
export interface SlidingWindowOptions {
  /** Attempts allowed per key within the window (integer >= 1). */
  limit: number;
  /** Window length in ms. */
  windowMs: number;
  /** Most keys tracked at once; past it, expired keys are swept, then the oldest dropped. Default 100,000. */
  maxKeys?: number;
  /** Clock in ms (injected by tests). Default Date.now. */
  now?: () => number;
}

/**
 * Counts attempts per key in a sliding window (exact: it keeps each attempt's time).
 * @throws RangeError at construction for a non-positive limit, window or key cap
 */
export class SlidingWindowLimiter {
  private readonly hits = new Map<string, number[]>();
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(opts: SlidingWindowOptions) {
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    this.maxKeys = opts.maxKeys ?? 100_000;
    this.now = opts.now ?? Date.now;
    for (const [name, v] of [['limit', this.limit], ['windowMs', this.windowMs], ['maxKeys', this.maxKeys]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`SlidingWindowLimiter: ${name} must be an integer >= 1 (got ${v})`);
    }
  }

  /** Whether one more attempt for `key` is allowed now. Records nothing. */
  check(key: string): LimitDecision {
    const times = this.live(key);
    if (times.length < this.limit) return { allowed: true };
    return { allowed: false, retryAfterMs: Math.max(1, times[0]! + this.windowMs - this.now()) };
  }

  /** Records one attempt for `key` now. */
  record(key: string): void {
    let times = this.hits.get(key);
    if (!times) {
      if (this.hits.size >= this.maxKeys) this.makeRoom();
      times = [];
      this.hits.set(key, times);
    }
    times.push(this.now());
    // Only the newest `limit` times can ever matter for a decision (one at most is over).
    while (times.length > this.limit) times.shift();
  }

  /** Takes back the newest attempt of `key` (a reservation that turned out not to count). */
  release(key: string): void {
    const times = this.hits.get(key);
    if (!times) return;
    times.pop();
    if (times.length === 0) this.hits.delete(key);
  }

  /** Keys currently tracked (for tests and memory checks). */
  get size(): number {
    return this.hits.size;
  }

  /** The key's attempts still inside the window (expired ones are dropped as a side effect). */
  private live(key: string): number[] {
    const times = this.hits.get(key);
    if (!times) return [];
    const cutoff = this.now() - this.windowMs;
    const firstLive = times.findIndex((t) => t > cutoff);
    if (firstLive === -1) {
      this.hits.delete(key);
      return [];
    }
    times.splice(0, firstLive);
    return times;
  }

  private makeRoom(): void {
    for (const key of [...this.hits.keys()]) this.live(key);
    // Still full of live keys: forget the oldest (Map iterates in insertion order).
    while (this.hits.size >= this.maxKeys) this.hits.delete(this.hits.keys().next().value!);
  }
}

/** The two login limits, per minute (the fields of ServerLimits they come from). */
export interface LoginLimits {
  maxLoginAttemptsPerAccountPerMinute: number;
  maxLoginAttemptsPerIpPerMinute: number;
}

/** Why an attempt was refused: which limit, and for how long. */
export interface ThrottleRefusal {
  scope: 'account' | 'address';
  retryAfterMs: number;
}

/** One minute, the window of both login limits. */
export const LOGIN_WINDOW_MS = 60_000;

/**
 * The server's login throttle: per-address and per-account windows over {@link LOGIN_WINDOW_MS}.
 */
export class LoginThrottle {
  private readonly byAddress: SlidingWindowLimiter;
  private readonly byAccount: SlidingWindowLimiter;

  constructor(limits: LoginLimits, opts: { now?: () => number; maxKeys?: number } = {}) {
    this.byAddress = new SlidingWindowLimiter({ limit: limits.maxLoginAttemptsPerIpPerMinute, windowMs: LOGIN_WINDOW_MS, ...opts });
    this.byAccount = new SlidingWindowLimiter({ limit: limits.maxLoginAttemptsPerAccountPerMinute, windowMs: LOGIN_WINDOW_MS, ...opts });
  }

  /**
   * Call before hashing a password. Counts the attempt against `address`, and — for a login —
   * reserves one failure against `account` at once: a password check takes tens of ms, and
   * counting failures only when they come back would let concurrent attempts all pass the
   * check before the first failure is recorded. {@link succeeded} takes the reservation back.
   * @param address the client address key (see server/connection-limits.ts addressKey)
   * @param account the canonical username for a login, or null for a registration
   * @returns null when the attempt may go ahead, else the refusal
   */
  admit(address: string, account: string | null): ThrottleRefusal | null {
    const a = this.byAddress.check(address);
    if (!a.allowed) return { scope: 'address', retryAfterMs: a.retryAfterMs };
    if (account !== null) {
      const u = this.byAccount.check(account);
      if (!u.allowed) return { scope: 'account', retryAfterMs: u.retryAfterMs };
      this.byAccount.record(account);
    }
    this.byAddress.record(address);
    return null;
  }

  /** Call after a login failed on a wrong password (or unknown account): its reservation stands. */
  failed(_account: string): void {
    // Counted at admission already.
  }

  /**
   * Whether the account's next login would be refused (its failures fill the window): the moment
   * a guesser is locked out, for the audit log.
   * @returns 0 when not locked, else the ms until the next attempt is allowed
   */
  lockedForMs(account: string): number {
    const u = this.byAccount.check(account);
    return u.allowed ? 0 : u.retryAfterMs;
  }

  /** Call after a login succeeded: its reserved failure is taken back. */
  succeeded(account: string): void {
    this.byAccount.release(account);
  }
}
