/**
 * What the chat client reports when its socket fails: a socket error mapped to a SecchatError
 * with a stable code (fallback and verdicts read codes) and words that name the likely cause.
 * @module
 */
import { ERROR_CODES, SecchatError, describeError } from '../core/errors.ts';

/**
 * What a user sees when the TCP connection ends during the TLS handshake, before the server said
 * anything: a server over its connection limits closes exactly like this (it spends no handshake
 * on a refused address), so that is named as the likely cause rather than a bare ECONNRESET.
 */
export const CLOSED_BEFORE_TLS = 'the server closed the connection before TLS: it may be full or limiting your address';

/**
 * Maps a socket error to a SecchatError: during the handshake, an OpenSSL-looking error is
 * TLS_HANDSHAKE (with a hint for "wrong version number"); anything else is NETWORK.
 * @param duringHandshake true before the welcome
 * @param beforeTls true when a fresh TLS connection ended before its handshake finished
 */
export function wrapSocketError(err: Error, duringHandshake: boolean, beforeTls = false): Error {
  if (err instanceof SecchatError) return err;
  const d = describeError(err);
  const reset = d.code === 'ECONNRESET' || d.code === 'EPIPE' || /disconnected before secure TLS connection/i.test(d.message);
  if (beforeTls && reset) {
    // The code stays what it always was (fallback and verdicts read codes); the words change.
    const code = duringHandshake && /SSL|TLS|alert|handshake|wrong version|protocol/i.test(`${d.code} ${d.message}`) ? ERROR_CODES.TLS_HANDSHAKE : ERROR_CODES.NETWORK;
    return new SecchatError(code, `${CLOSED_BEFORE_TLS} (${d.message})`, { errno: d.code, reason: 'closed before TLS' }, { cause: err });
  }
  if (duringHandshake && /SSL|TLS|alert|handshake|wrong version|protocol/i.test(`${d.code} ${d.message}`)) {
    // "wrong version number": the other end is not speaking TLS (a plain or STARTTLS server).
    const hint = /wrong version number/i.test(d.message) ? ' (the server is not speaking TLS here: is its transport plain or starttls? both ends must use the same profile)' : '';
    return new SecchatError(ERROR_CODES.TLS_HANDSHAKE, `TLS handshake failed: ${d.message}${hint}`, { opensslCode: d.code }, { cause: err });
  }
  return new SecchatError(ERROR_CODES.NETWORK, `connection failed: ${d.message}`, { errno: d.code }, { cause: err });
}
