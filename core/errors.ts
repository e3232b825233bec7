/**
 * secchat's one errors module: a base error with a stable code, a shallow hierarchy, and the
 * mapping from codes to CLI exit codes. Every code has one sentence in `docs/errors.md`.
 *
 * Rule (see STYLE.md): bad arguments and configuration throw at once; peer and network failures
 * arrive asynchronously carrying a code; MAC, signature and chain checks return false for
 * well-formed but wrong input and let the caller raise the error.
 */

/** Every stable error code secchat raises. Adding one: add it here and to docs/errors.md. */
export const ERROR_CODES = {
  /** A command-line argument is missing or malformed. */
  USAGE: 'SECCHAT_ERR_USAGE',
  /** A profile file could not be read, parsed, or failed validation. */
  PROFILE_INVALID: 'SECCHAT_ERR_PROFILE_INVALID',
  /** A named profile does not exist as a preset or a path. */
  PROFILE_NOT_FOUND: 'SECCHAT_ERR_PROFILE_NOT_FOUND',
  /** A target file (a student's own app, core/target.ts) could not be read or failed validation. */
  TARGET_INVALID: 'SECCHAT_ERR_TARGET_INVALID',
  /** A target's own process (server or client) could not be started or did not become ready. */
  TARGET_PROCESS: 'SECCHAT_ERR_TARGET_PROCESS',
  /** The lab PKI directory is missing files or holds unreadable PEM. */
  PKI: 'SECCHAT_ERR_PKI',
  /** The server certificate is self-signed and not trusted. */
  CERT_SELF_SIGNED: 'SECCHAT_ERR_CERT_SELF_SIGNED',
  /** The server certificate chains to a CA the client does not trust. */
  CERT_UNKNOWN_CA: 'SECCHAT_ERR_CERT_UNKNOWN_CA',
  /** The server certificate does not name the host the client asked for. */
  CERT_HOSTNAME: 'SECCHAT_ERR_CERT_HOSTNAME',
  /** The server key's SPKI SHA-256 is not the pinned one. */
  CERT_PIN: 'SECCHAT_ERR_CERT_PIN',
  /** The server certificate is outside its validity period. */
  CERT_EXPIRED: 'SECCHAT_ERR_CERT_EXPIRED',
  /** The server certificate is not valid yet. */
  CERT_NOT_YET_VALID: 'SECCHAT_ERR_CERT_NOT_YET_VALID',
  /** Any other certificate verification failure reported by OpenSSL. */
  CERT_INVALID: 'SECCHAT_ERR_CERT_INVALID',
  /** The TLS handshake failed (alert, version or cipher mismatch, reset). */
  TLS_HANDSHAKE: 'SECCHAT_ERR_TLS_HANDSHAKE',
  /** The profile requires STARTTLS and the server did not offer it. */
  STARTTLS_UNAVAILABLE: 'SECCHAT_ERR_STARTTLS_UNAVAILABLE',
  /** A frame broke the wire protocol (too large, not JSON, unknown type). */
  PROTOCOL: 'SECCHAT_ERR_PROTOCOL',
  /** The server answered a request with an error frame. */
  SERVER: 'SECCHAT_ERR_SERVER',
  /** A network operation failed or the peer closed unexpectedly. */
  NETWORK: 'SECCHAT_ERR_NETWORK',
  /** An operation did not finish within its time limit. */
  TIMEOUT: 'SECCHAT_ERR_TIMEOUT',
  /** The secure channel rejected a frame or handshake (bad tag, replay, signature...). */
  CHANNEL: 'SECCHAT_ERR_CHANNEL',
  /** A lab step or check could not be carried out. */
  LAB: 'SECCHAT_ERR_LAB',
  /** An unexpected internal failure: a bug in secchat. */
  INTERNAL: 'SECCHAT_ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/**
 * Base of every error secchat throws on purpose.
 * @param code    one of {@link ERROR_CODES}
 * @param message one sentence a student can act on
 * @param details structured context (peer, field, allowed values...) kept for reports and tests
 */
export class SecchatError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecchatError';
    this.code = code;
    this.details = details;
  }
}

/** Invalid user input (arguments, profiles): the CLI exits with code 2. */
export class UsageError extends SecchatError {
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.name = 'UsageError';
  }
}

/** A certificate the client refused; `details.reason` is a short label (self-signed, unknown CA...). */
export class CertificateError extends SecchatError {
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.name = 'CertificateError';
  }
}

/** A peer broke the chat wire protocol; `details.protocolCode` is the frame error code. */
export class ProtocolError extends SecchatError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ERROR_CODES.PROTOCOL, message, details);
    this.name = 'ProtocolError';
  }
}

/** Process exit code for an error: 2 for bad input, 1 for everything else. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return 2;
  if (err instanceof SecchatError && (err.code === ERROR_CODES.PROFILE_INVALID || err.code === ERROR_CODES.PROFILE_NOT_FOUND || err.code === ERROR_CODES.TARGET_INVALID || err.code === ERROR_CODES.USAGE)) return 2;
  return 1;
}

/** A short, stable description of any thrown value, for logs and evidence. */
export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof SecchatError) return { code: err.code, message: err.message };
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    // OpenSSL's messages end in a newline; evidence and logs are one line each.
    return { code: typeof code === 'string' ? code : err.name, message: err.message.trim() };
  }
  return { code: 'UNKNOWN', message: String(err) };
}
