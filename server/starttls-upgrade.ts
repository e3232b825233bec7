/**
 * The server side of STARTTLS: upgrades a plaintext socket to TLS in place with the profile's TLS
 * options (RFC 3207's model: the same connection, TLS from the next byte on).
 * @module
 */
import type net from 'node:net';
import tls from 'node:tls';
import type { Profile } from '../core/profile.ts';
import { serverTlsOptions, type CertKeyPem } from '../core/tls/node-options.ts';
import type { ServerLimits } from './limits.ts';

/** Upgrades a plaintext socket to TLS server-side; calls back once with the secure socket or an error. */
export type StartTls = (raw: net.Socket, done: (err: Error | null, secure?: tls.TLSSocket) => void) => void;

/**
 * A STARTTLS upgrader for one server. Upgrades go through a tls.Server that never listens:
 * emitting 'connection' with the plaintext socket gives the upgraded socket the server's full
 * semantics (handshake timeout after `limits.handshakeTimeoutMs`, tlsClientError, and TLS errors
 * surfacing as 'error' once the session is up).
 * @param keylog receives NSS key log lines, for Wireshark
 */
export function createStartTls(profile: Profile, identity: CertKeyPem, limits: ServerLimits, keylog?: (line: Buffer) => void): StartTls {
  const upgrader = tls.createServer({ ...serverTlsOptions(profile, identity), handshakeTimeout: limits.handshakeTimeoutMs });
  const waiting = new Map<string, (err: Error | null, secure?: tls.TLSSocket) => void>();
  const keyOf = (s: net.Socket) => `${s.remoteAddress}:${s.remotePort}`;
  const settle = (s: net.Socket, err: Error | null, secure?: tls.TLSSocket) => {
    const cb = waiting.get(keyOf(s));
    waiting.delete(keyOf(s));
    cb?.(err, secure);
  };
  upgrader.on('secureConnection', (secure: tls.TLSSocket) => settle(secure, null, secure));
  upgrader.on('tlsClientError', (err, secure) => {
    settle(secure, err);
    secure.destroy();
  });
  if (keylog) upgrader.on('keylog', (line) => keylog(line));
  return (raw, done) => {
    waiting.set(keyOf(raw), done);
    upgrader.emit('connection', raw);
  };
}
