/**
 * The chat protocol's frame types and error codes — the one list of them. Frames travel as
 * JSON Lines (core/frames.ts); docs/protocol.md documents each with an example.
 */
import type { Frame } from './frames.ts';

/** Protocol version announced in `welcome`. */
export const PROTOCOL_VERSION = 1;

/** Frame types a client may send. A challenge–response login is `auth_challenge`, then `login` with a `proof`. */
export const CLIENT_FRAMES = ['register', 'login', 'msg', 'dm', 'users', 'quit', 'ping', 'starttls', 'auth_challenge'] as const;
/** Frame types the server sends. */
export const SERVER_FRAMES = ['welcome', 'ok', 'error', 'msg', 'dm', 'joined', 'left', 'users', 'bye', 'pong', 'starttls_ok', 'challenge'] as const;

/**
 * Error codes carried by `{type:"error", code}` frames: the one table of them (the frame decoder's
 * codes included, see {@link FRAME_ERRORS}). One sentence each in docs/protocol.md; test/protocol-errors.test.ts
 * checks the table against the docs both ways and that every code is sent somewhere.
 */
export const PROTOCOL_ERRORS = {
  /** A line grew past the maximum frame size before its newline arrived; the stream is unusable. */
  frameTooLarge: 'frame_too_large',
  /** A line is not valid JSON (or not valid UTF-8); the next line can still be read. */
  badJson: 'bad_json',
  /** A line is JSON but not an object with a string `type`. */
  badFrame: 'bad_frame',
  unknownType: 'unknown_type',
  badRequest: 'bad_request',
  notLoggedIn: 'not_logged_in',
  alreadyLoggedIn: 'already_logged_in',
  badCredentials: 'bad_credentials',
  staleChallenge: 'stale_challenge',
  usernameTaken: 'username_taken',
  invalidUsername: 'invalid_username',
  invalidPassword: 'invalid_password',
  /** The recipient is offline and already has the maximum number of stored direct messages. */
  mailboxFull: 'mailbox_full',
  unknownUser: 'unknown_user',
  messageTooLong: 'message_too_long',
  tlsRequired: 'tls_required',
  rateLimited: 'rate_limited',
  /** The account database stayed locked by another process past the server's wait; nothing was changed; retry. */
  accountsBusy: 'accounts_busy',
  timeout: 'timeout',
  slowConsumer: 'slow_consumer',
  tooManyConnections: 'too_many_connections',
  serverShutdown: 'server_shutdown',
  channelError: 'channel_error',
  internal: 'internal_error',
} as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERRORS)[keyof typeof PROTOCOL_ERRORS];

/** The codes the frame decoder (core/frames.ts) refuses a line with: a view of {@link PROTOCOL_ERRORS}. */
export const FRAME_ERRORS = {
  tooLarge: PROTOCOL_ERRORS.frameTooLarge,
  badJson: PROTOCOL_ERRORS.badJson,
  badFrame: PROTOCOL_ERRORS.badFrame,
} as const;

/** Builds an error frame. `re` echoes the request id the error answers, when there was one. */
export function errorFrame(code: ProtocolErrorCode, message: string, re?: unknown): Frame {
  return re === undefined ? { type: 'error', code, message } : { type: 'error', code, message, re };
}

/** Reads a required string field of a frame, or returns null when it is missing or not a string. */
export function stringField(frame: Frame, name: string): string | null {
  const v = frame[name];
  return typeof v === 'string' ? v : null;
}
