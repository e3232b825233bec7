/**
 * retro-decrypt, the application-layer secure channel half: given the recorded chat streams (JSON
 * Lines, both directions — the wire itself over `transport: plain`, or what the TLS layer gave up)
 * and the server's private key stolen afterwards, open the channel's sealed frames or say why not.
 *
 * `rsa` mode wraps the session secret to the server key (RSA-OAEP, RFC 8017 §7.1): the stolen key
 * unwraps it and the key schedule (HKDF, RFC 5869) gives every key back — see
 * core/channel/stolen-key-decrypt.ts. `ecdhe` and `ecdhe-signed` derive it from X25519 (RFC 7748) shares whose
 * private halves never left the endpoints: the key only signed the share (or was not used at all).
 *
 * Pure: bytes and a PEM in, a result out. A malformed recording is a `failed` outcome, never a throw.
 *
 * The chat server and client carry channel frames as JSON Lines, one frame per line, untouched
 * (docs/channel.md), so the recording holds them as they were sent.
 */
import { channelCodeOf } from '../../core/channel/errors.ts';
import { isObject, type AppFrame } from '../../core/channel/handshake-messages.ts';
import { openRecordedFrame, unwrapRecordedRsaKey, type RecordedSession } from '../../core/channel/stolen-key-decrypt.ts';

/** The recorded chat streams of one connection, in the clear as far as TLS goes. */
export interface ChannelRetroInput {
  /** Every chat byte the client sent (JSON Lines). */
  clientToServer: Buffer;
  /** Every chat byte the server sent (JSON Lines). */
  serverToClient: Buffer;
  /** The server's RSA private key, PEM. */
  serverPrivateKeyPem: string;
}

/**
 * - `absent`: no channel handshake in the recording (`channel.keyExchange: none`, or none recorded).
 * - `decrypted`: the stolen key unwrapped the `rsa` secret; opened frames are filled in.
 * - `ephemeral`: `ecdhe` / `ecdhe-signed` — forward secret, nothing to unwrap.
 * - `failed`: an `rsa` handshake that the key did not open, or a malformed recording.
 */
export type ChannelRetroOutcome = 'absent' | 'decrypted' | 'ephemeral' | 'failed';

export interface ChannelRetroResult {
  outcome: ChannelRetroOutcome;
  /** One sentence for the report. */
  reason: string;
  /** From the recorded `ch_hello`; null when there is none. */
  keyExchange: string | null;
  /** From the recorded `ch_server_hello`; null when there is none. */
  cipher: string | null;
  /** Chat frames the client sent inside the channel, opened. Empty unless decrypted. */
  clientFrames: AppFrame[];
  /** Chat frames the server sent inside the channel, opened. Empty unless decrypted. */
  serverFrames: AppFrame[];
  notes: string[];
}

/**
 * The JSON objects of a JSON Lines stream; lines that are not JSON objects are skipped (a
 * recording may start or end mid-line, or carry a STARTTLS greeting before TLS).
 */
export function jsonLines(stream: Buffer): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of stream.toString('utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const v: unknown = JSON.parse(line);
      if (isObject(v)) out.push(v);
    } catch {
      // not a whole JSON line
    }
  }
  return out;
}

/**
 * Opens a recorded secure-channel session with the server's stolen private key.
 * @returns what happened; opened frames only on `decrypted`
 */
export function decryptRecordedChannel(input: ChannelRetroInput): ChannelRetroResult {
  const notes: string[] = [];
  const c2s = jsonLines(input.clientToServer);
  const s2c = jsonLines(input.serverToClient);
  const hello = c2s.find((f) => f.type === 'ch_hello');
  const serverHello = s2c.find((f) => f.type === 'ch_server_hello');
  const keyExchange = hello ? String(hello.keyExchange) : null;
  const cipher = serverHello ? String(serverHello.cipher) : null;
  const base = { keyExchange, cipher, clientFrames: [], serverFrames: [], notes };
  if (!hello) return { ...base, outcome: 'absent', reason: 'no secure-channel handshake (ch_hello) in the recording' };
  notes.push(`channel ch_hello: keyExchange ${keyExchange}${cipher ? `, server chose ${cipher}` : ''}`);
  if (keyExchange === 'ecdhe' || keyExchange === 'ecdhe-signed') {
    const why = keyExchange === 'ecdhe' ? 'the server key was not even used' : 'the server key only signed the server share';
    return { ...base, outcome: 'ephemeral', reason: `channel key exchange ${keyExchange}: ephemeral X25519, ${why}` };
  }
  let session: RecordedSession;
  try {
    session = unwrapRecordedRsaKey([...c2s, ...s2c], input.serverPrivateKeyPem);
  } catch (err) {
    const code = channelCodeOf(err) ?? 'error';
    return { ...base, outcome: 'failed', reason: `the channel's ${keyExchange} handshake did not open (${code}: ${(err as Error).message})` };
  }
  notes.push(`channel: the stolen key unwrapped the ${session.secret.length}-byte secret from ch_key (RSA-OAEP)`);
  const open = (frames: Record<string, unknown>[], dir: 'client_to_server' | 'server_to_client', out: AppFrame[]) => {
    for (const f of frames.filter((x) => x.type === 'sealed')) {
      try {
        out.push(openRecordedFrame(session, f, dir));
      } catch (err) {
        notes.push(`channel ${dir} sealed frame did not open: ${channelCodeOf(err) ?? (err as Error).message}; stopping this direction`);
        return;
      }
    }
  };
  const clientFrames: AppFrame[] = [];
  const serverFrames: AppFrame[] = [];
  open(c2s, 'client_to_server', clientFrames);
  open(s2c, 'server_to_client', serverFrames);
  notes.push(`channel: opened ${clientFrames.length} client and ${serverFrames.length} server frames (${session.cipher})`);
  return {
    ...base,
    clientFrames,
    serverFrames,
    outcome: 'decrypted',
    reason: `channel key exchange rsa: the stolen key unwrapped the session secret; ${clientFrames.length + serverFrames.length} sealed frames opened`,
  };
}
