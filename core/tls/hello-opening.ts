/**
 * The opening both hellos share (RFC 8446 §4.1.2–4.1.3, RFC 5246 §7.4.1.2–7.4.1.3):
 * `ProtocolVersion legacy_version; Random random; opaque legacy_session_id<0..32>`.
 */
import type { Cursor } from './byte-cursor.ts';
import { versionLabel } from './registry.ts';

/** The first three fields of a ClientHello or ServerHello. */
export interface HelloOpening {
  /** legacy_version, a wire value (0x0303 = TLS 1.2). */
  legacyVersion: number;
  /** 32 bytes. */
  random: Buffer;
  /** 0–32 bytes as sent (the length bound is the ClientHello parser's check). */
  sessionId: Buffer;
}

/**
 * Reads legacy_version, random and legacy_session_id at the cursor.
 * @param showRandom how `secchat explain` prints the random (default: hex)
 * @throws ProtocolError on truncation
 */
export function readHelloOpening(c: Cursor, showRandom: (random: Buffer) => string = (b) => b.toString('hex')): HelloOpening {
  const legacyVersion = c.u16('legacy_version', versionLabel);
  const random = c.bytes(32, 'random', showRandom);
  const sessionId = c.vec(1, 'session_id', (b) => (b.length ? `${b.length} bytes: ${b.toString('hex')}` : 'empty'));
  return { legacyVersion, random, sessionId };
}
