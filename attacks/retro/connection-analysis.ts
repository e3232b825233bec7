/**
 * retro-decrypt, one recorded connection: peel what the stolen key can peel, layer by layer, and
 * look for the canary in what comes out.
 *
 *   wire bytes ─┬─ plaintext greeting (STARTTLS) ──────────────────────────────┐
 *               └─ TLS (from the first record) ── tls12-decrypt.ts ── chat ───┴─ channel-decrypt.ts ── chat frames
 *
 * Pure: the caller gives the two recorded byte streams of one TCP connection (as a tap saw them)
 * and the stolen key; nothing here reads files, sockets or key logs.
 */
import { tlsStart } from '../../core/tls/record-layer.ts';
import { HANDSHAKE_TYPE } from '../../core/tls/registry.ts';
import { excerptAround } from '../kit/evidence.ts';
import { decryptRecordedChannel, type ChannelRetroResult } from './channel-decrypt.ts';
import { decryptRecordedTls12, type RetroDecryptResult } from './tls12-decrypt.ts';

/** Where the canary came out, and what it took. */
export type RecoveredFrom =
  /** the bytes were never encrypted: no key was needed */
  | 'clear'
  /** TLS records decrypted with keys derived from the stolen key */
  | 'tls'
  /** secure-channel frames opened with the secret the stolen key unwrapped */
  | 'channel';

export interface CanaryRecovery {
  dir: 'c2s' | 's2c';
  from: RecoveredFrom;
  /** printable bytes around the canary */
  excerpt: string;
}

export interface ConnectionAnalysis {
  /** Offsets of the first TLS record in each direction (> 0 after a STARTTLS greeting); null: no TLS. */
  tlsStartsAt: { c2s: number; s2c: number } | null;
  /** The TLS layer's result; null when the connection carried no TLS. */
  tls: RetroDecryptResult | null;
  /** The secure channel's result; null when the chat layer stayed sealed under TLS. */
  channel: ChannelRetroResult | null;
  /** Where the canary was recovered, or null. */
  canary: CanaryRecovery | null;
}

/** Largest TLS record version minor byte accepted when looking for the first record (TLS 1.3 = 4). */

/**
 * Analyses one recorded connection.
 * @param input.clientToServer every byte the victim client sent, in order
 * @param input.serverToClient every byte the server sent, in order
 * @param input.serverPrivateKeyPem the stolen key (RSA, PEM)
 * @param input.canary the secret to look for in what decrypts
 * @throws SecchatError(PKI) when the key is not a usable RSA private key (from tls12-decrypt.ts)
 */
export function analyseConnection(input: { clientToServer: Buffer; serverToClient: Buffer; serverPrivateKeyPem: string; canary: string }): ConnectionAnalysis {
  const { clientToServer: c2s, serverToClient: s2c, serverPrivateKeyPem, canary } = input;
  const cAt = tlsStart(c2s, HANDSHAKE_TYPE.client_hello);
  if (cAt < 0) {
    // No TLS: what was recorded is the chat itself (maybe under a channel).
    return { tlsStartsAt: null, tls: null, ...chatLayer(c2s, s2c, 'clear', serverPrivateKeyPem, canary) };
  }
  const sFound = tlsStart(s2c, HANDSHAKE_TYPE.server_hello);
  const sAt = sFound < 0 ? s2c.length : sFound;
  const tls = decryptRecordedTls12({ clientToServer: c2s.subarray(cAt), serverToClient: s2c.subarray(sAt), serverPrivateKeyPem });
  const tlsStartsAt = { c2s: cAt, s2c: sAt };
  if (tls.outcome !== 'decrypted') return { tlsStartsAt, tls, channel: null, canary: null };
  // The greeting before STARTTLS travelled in the clear; the rest came out of TLS.
  const greeting = sightIn([c2s.subarray(0, cAt), s2c.subarray(0, sAt)], canary, 'clear');
  const inner = chatLayer(Buffer.concat([c2s.subarray(0, cAt), tls.clientPlaintext]), Buffer.concat([s2c.subarray(0, sAt), tls.serverPlaintext]), 'tls', serverPrivateKeyPem, canary);
  return { tlsStartsAt, tls, channel: inner.channel, canary: greeting ?? inner.canary };
}

/** The chat layer of a connection: open the secure channel if there is one, then look for the canary. */
function chatLayer(c2s: Buffer, s2c: Buffer, from: RecoveredFrom, serverPrivateKeyPem: string, canary: string): Pick<ConnectionAnalysis, 'channel' | 'canary'> {
  const channel = decryptRecordedChannel({ clientToServer: c2s, serverToClient: s2c, serverPrivateKeyPem });
  const inBytes = sightIn([c2s, s2c], canary, from);
  if (inBytes || channel.outcome !== 'decrypted') return { channel, canary: inBytes };
  const asLines = (frames: unknown[]) => Buffer.from(frames.map((f) => JSON.stringify(f)).join('\n'), 'utf8');
  return { channel, canary: sightIn([asLines(channel.clientFrames), asLines(channel.serverFrames)], canary, 'channel') };
}

function sightIn([c2s, s2c]: [Buffer, Buffer], canary: string, from: RecoveredFrom): CanaryRecovery | null {
  for (const [dir, bytes] of [['c2s', c2s], ['s2c', s2c]] as const) {
    const excerpt = excerptAround(bytes, canary);
    if (excerpt !== null) return { dir, from, excerpt };
  }
  return null;
}
