/**
 * The chat server's limits and timeouts: one field each, units in the names, defaults in the one
 * object {@link DEFAULT_LIMITS}, checked as a whole by {@link validateLimits}. docs/limits.md
 * explains each one and what a client sees when it hits it.
 */
import { MAX_USERNAME_CHARS } from '../core/usernames.ts';
import { DEFAULT_CHALLENGE_TTL_MS } from './challenge-auth.ts';
import { DEFAULT_ACCOUNT_DB_LOCK_WAIT_MS } from './account-store.ts';

/**
 * Limits and timeouts, with units in the names. Every field has the documented default below
 * (docs/limits.md explains each one and what a client sees when it hits it).
 *
 * Memory bound: each connection holds at most maxFrameBytes of unparsed input, about
 * maxPendingFramesPerConnection decoded frames, and maxQueueBytes (+ one frame) of output, so
 * the server's buffers stay under maxConnections × (maxFrameBytes + maxQueueBytes + TLS state).
 */
export interface ServerLimits {
  /** Largest frame accepted, in bytes including the newline. Default 65,536 (64 KiB). */
  maxFrameBytes: number;
  /** Longest chat message, in characters (UTF-16 code units). Default 4,096. */
  maxMessageChars: number;
  /** Shortest password at registration, in characters. Default 8. */
  minPasswordChars: number;
  /** Time allowed for the TLS handshake, in ms. Default 10,000. */
  handshakeTimeoutMs: number;
  /** Time allowed between connecting and logging in, in ms. Default 30,000. */
  loginTimeoutMs: number;
  /** A connection that sends no frame for this long is closed, in ms (clients ping; see welcome.idleTimeoutMs). Default 300,000. */
  idleTimeoutMs: number;
  /**
   * Output queue of one client, in bytes. Default 1,048,576 (1 MiB). Past half of it the client is
   * behind and the server stops reading every connection's input until it drains (server/backpressure.ts).
   */
  maxQueueBytes: number;
  /** A client behind (see maxQueueBytes) that takes no byte for this long is disconnected with slow_consumer, in ms. Default 4,000. */
  slowConsumerStallMs: number;
  /** Open connections in total (TCP, counted from accept); further ones are closed at once. Default 2,048. */
  maxConnections: number;
  /** Open connections per client address (IPv4 address or IPv6 /64), counted from TCP accept. Default 16. */
  maxConnectionsPerIp: number;
  /** Failed logins per account per minute; further attempts get rate_limited until the minute slides. Default 5. */
  maxLoginAttemptsPerAccountPerMinute: number;
  /** Login and register attempts (each costs a password hash) per client address per minute. Default 30. */
  maxLoginAttemptsPerIpPerMinute: number;
  /** Longest username after NFKC and case folding, in characters. Default 32. */
  maxUsernameChars: number;
  /** Direct messages stored for one offline user; further ones get mailbox_full. Default 1,000. */
  maxOfflineMessagesPerUser: number;
  /** Frames read from one connection and not yet handled before the server stops reading from it. Default 64. */
  maxPendingFramesPerConnection: number;
  /** Lifetime of a login challenge (auth.method: challenge), in ms. Default 30,000. */
  challengeTtlMs: number;
  /**
   * How long one account-database operation (register, login, offline dm) waits for a lock another
   * process holds, in ms, before the client gets accounts_busy. The wait is on timers, never on the
   * event loop (server/account-store.ts). Default 5,000.
   */
  accountDbLockWaitMs: number;
}

/** The defaults of {@link ServerLimits}. */
export const DEFAULT_LIMITS: ServerLimits = {
  maxFrameBytes: 64 * 1024,
  maxMessageChars: 4096,
  minPasswordChars: 8,
  handshakeTimeoutMs: 10_000,
  loginTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  maxQueueBytes: 1024 * 1024,
  slowConsumerStallMs: 4_000,
  maxConnections: 2048,
  maxConnectionsPerIp: 16,
  maxLoginAttemptsPerAccountPerMinute: 5,
  maxLoginAttemptsPerIpPerMinute: 30,
  maxUsernameChars: MAX_USERNAME_CHARS,
  maxOfflineMessagesPerUser: 1000,
  maxPendingFramesPerConnection: 64,
  challengeTtlMs: DEFAULT_CHALLENGE_TTL_MS,
  accountDbLockWaitMs: DEFAULT_ACCOUNT_DB_LOCK_WAIT_MS,
};

/**
 * After the server ends a connection (timeout, slow_consumer, a fatal frame error, refusal), how
 * long the socket may flush its last frames before it is destroyed — whatever the peer does — in
 * ms. Destroying releases the file descriptor and the per-address slot.
 */
export const CLOSE_GRACE_MS = 1000;

/** @deprecated the same grace as {@link CLOSE_GRACE_MS}; kept for existing imports. */
export const SLOW_CONSUMER_GRACE_MS = CLOSE_GRACE_MS;

/**
 * Checks a complete limits object.
 * @throws RangeError naming every option that is not a positive integer, and naming both
 *   options when a message of maxMessageChars could not fit in a frame of maxFrameBytes
 */
export function validateLimits(limits: ServerLimits): void {
  const bad = Object.entries(limits).filter(([, v]) => !Number.isSafeInteger(v) || (v as number) < 1).map(([k, v]) => `${k} (got ${String(v)})`);
  if (bad.length) throw new RangeError(`server limits must be positive integers: ${bad.join(', ')}`);
  // JSON escapes a control character as 6 bytes (\u0000); a legal message must never be fatal.
  const worstFrame = limits.maxMessageChars * 6 + 512;
  if (worstFrame > limits.maxFrameBytes) {
    throw new RangeError(`maxMessageChars (${limits.maxMessageChars}) needs maxFrameBytes >= ${worstFrame} (got ${limits.maxFrameBytes}): a message of the allowed length must fit in a frame`);
  }
  // Outgoing frames carry a little more than the incoming one (from, ts): a reading client must
  // never be dropped because one legal frame alone overflowed its queue.
  if (limits.maxQueueBytes < 2 * limits.maxFrameBytes) {
    throw new RangeError(`maxQueueBytes (${limits.maxQueueBytes}) must be at least twice maxFrameBytes (${limits.maxFrameBytes})`);
  }
}
