/**
 * What a recording of the channel gives away to whoever later holds the server's private key.
 *
 * In `rsa` mode the session secret crosses the wire in `ch_key`, RSA-OAEP-encrypted to the server
 * key (RFC 8017 §7.1). Nothing else is needed to recompute every session key: client random and
 * cipher from `ch_hello`/`ch_server_hello`, the secret from `ch_key` unwrapped with the private key,
 * then the key schedule of `kdf.ts`. That is the missing forward secrecy. In `ecdhe` and
 * `ecdhe-signed` modes the secret is an X25519 output whose private halves never left the two
 * endpoints, so the server key does not help: there is nothing to unwrap.
 * @module
 */
import { createPrivateKey } from 'node:crypto';
import { CHANNEL_CIPHERS, type ChannelCipher } from '../profile.ts';
import { channelError } from './errors.ts';
import { isObject, readBase64, readEnum, type AppFrame, type ReplayProtection } from './handshake-messages.ts';
import { deriveSessionKeys, RANDOM_BYTES, type SessionKeys } from './kdf.ts';
import { rsaOaepUnwrap } from './keyexchange.ts';
import { openSealedFrame } from './sealed-frames.ts';

/** Which way a sealed frame travelled. */
export type Direction = 'client_to_server' | 'server_to_client';

/** A session reconstructed from a recording. */
export interface RecordedSession {
  keyExchange: 'rsa';
  cipher: ChannelCipher;
  replayProtection: ReplayProtection;
  /** the 32-byte secret the client wrapped */
  secret: Buffer;
  keys: SessionKeys;
}

function firstOfType(frames: readonly unknown[], type: string): Record<string, unknown> | undefined {
  return frames.find((f): f is Record<string, unknown> => isObject(f) && f.type === type);
}

/**
 * Recomputes an rsa-mode session's keys from its recorded handshake and the server's private key.
 * @param frames       the recorded frames, both directions, in any order (the first ch_hello,
 *                     ch_server_hello and ch_key are used)
 * @param serverKeyPem the server's RSA private key, PEM
 * @returns the session, whose `keys` open the recorded sealed frames (see {@link openRecordedFrame})
 * @throws SecchatError(CHANNEL) `nothing_to_unwrap` when the recording is not an rsa handshake (ecdhe
 *         has no wrapped key) or the key does not unwrap it; `decode_error` for malformed frames
 */
export function unwrapRecordedRsaKey(frames: readonly unknown[], serverKeyPem: string): RecordedSession {
  const hello = firstOfType(frames, 'ch_hello');
  const serverHello = firstOfType(frames, 'ch_server_hello');
  if (!hello || !serverHello) throw channelError('nothing_to_unwrap', 'the recording holds no complete handshake (ch_hello and ch_server_hello)');
  if (hello.keyExchange !== 'rsa') {
    throw channelError('nothing_to_unwrap', `the recorded handshake used keyExchange ${String(hello.keyExchange)}: its secret is an ephemeral X25519 output, never sent, so no private key can recover it`, {
      keyExchange: hello.keyExchange,
    });
  }
  const key = firstOfType(frames, 'ch_key');
  if (!key) throw channelError('nothing_to_unwrap', 'the recording holds no ch_key frame');
  const replayProtection = readEnum(hello, 'replayProtection', ['none', 'sequence', 'window'] as const);
  const clientRandom = readBase64(hello, 'random', { bytes: RANDOM_BYTES });
  const serverRandom = readBase64(serverHello, 'random', { bytes: RANDOM_BYTES });
  const cipher = readEnum(serverHello, 'cipher', CHANNEL_CIPHERS);
  const secret = rsaOaepUnwrap(createPrivateKey(serverKeyPem), readBase64(key, 'wrappedSecret', { maxBytes: 1024 }));
  if (!secret) throw channelError('nothing_to_unwrap', 'this private key does not unwrap the recorded ch_key (is it the server key of that session?)');
  return { keyExchange: 'rsa', cipher, replayProtection, secret, keys: deriveSessionKeys(secret, clientRandom, serverRandom, cipher) };
}

/**
 * Opens one recorded sealed frame with a reconstructed session (no replay checks: a recording is
 * read, not received).
 * @throws SecchatError(CHANNEL) decode_error | bad_record_mac (e.g. the wrong direction)
 */
export function openRecordedFrame(session: Pick<RecordedSession, 'cipher' | 'replayProtection' | 'keys'>, frame: unknown, direction: Direction): AppFrame {
  const keys = direction === 'client_to_server' ? session.keys.clientToServer : session.keys.serverToClient;
  return openSealedFrame(session.cipher, keys, session.replayProtection, frame);
}
