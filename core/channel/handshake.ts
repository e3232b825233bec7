/**
 * The secure channel handshake as two sans-I/O state machines, {@link ChannelClient} and
 * {@link ChannelServer}: frames in, frames out, no sockets, no timers; randomness and the clock are
 * injected. What both share: `handshake-endpoint.ts`; each side: `handshake-client.ts`,
 * `handshake-server.ts`. Frames and transcript: `handshake-messages.ts`. Keys: `kdf.ts`. Sealed
 * frames: `sealed-frames.ts`. This module is the one import for both machines.
 *
 * States (client):  idle -> wait_server_hello -> [wait_server_finished] -> established
 * States (server):  wait_client_hello -> [wait_key] -> [wait_client_finished] -> established
 * Either side:      any failure -> closed (everything after is rejected with `closed`)
 *                   keyExchange none -> disabled (pass-through: seal/open return frames unchanged)
 *
 * Modes (profile `channel.keyExchange`):
 * - `rsa`: the client wraps a fresh 32-byte secret with RSA-OAEP-SHA256 (RFC 8017 §7.1) to the
 *   server certificate's key. No forward secrecy: see `stolen-key-decrypt.ts`.
 * - `ecdhe`: X25519 (RFC 7748) shares, unauthenticated: a man in the middle substitutes its own.
 * - `ecdhe-signed`: as ecdhe, plus the server's certificate and its signature over
 *   client random || server random || server share || SERVER_SHARE_CONTEXT (like the TLS 1.2
 *   ServerKeyExchange, RFC 5246 §7.4.3).
 * With `transcriptMac`, both send a Finished MAC (RFC 8446 §4.4.4 style): the client first, then the
 * server, each HMAC-SHA256(finished key, SHA-256(transcript up to and excluding itself)).
 *
 * Each side enforces its own profile: the server refuses a client whose keyExchange, transcriptMac
 * or replayProtection differ (`parameter_mismatch`), and the client refuses a cipher it did not
 * offer (`illegal_parameter`). So a man in the middle can only downgrade to a cipher both lists hold.
 * @module
 */
export { ChannelEndpoint, type CertificateVerdict, type ChannelActions, type ChannelOptions, type ChannelState, type VerifyCertificate } from './handshake-endpoint.ts';
export { ChannelClient, MAX_SIGNATURE_BYTES } from './handshake-client.ts';
export { ChannelServer, MAX_WRAPPED_SECRET_BYTES } from './handshake-server.ts';
export type { ChErrorFrame } from './errors.ts';
