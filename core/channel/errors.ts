/**
 * The secure channel's failure codes: one table, one sentence each, and the `ch_error` frame a
 * machine sends its peer when a check fails.
 *
 * Every channel failure is a {@link SecchatError} with code `SECCHAT_ERR_CHANNEL` and a specific
 * `details.channelCode` from {@link CHANNEL_ERROR_CODES}. The `ch_error` frame carries only the code
 * and its fixed sentence, never the local detail, so the frame is no better an oracle than the code.
 */
import { ERROR_CODES, SecchatError } from '../errors.ts';

/**
 * Channel failure codes and the sentence sent to the peer. The first group closes the channel;
 * `not_established` and `closed` report local misuse and leave the state as it was.
 */
export const CHANNEL_ERROR_CODES = {
  decode_error: 'a channel frame was malformed (missing field, bad base64, wrong length)',
  unexpected_message: 'a frame arrived that the handshake state does not allow',
  parameter_mismatch: 'the peers differ in protocol version or in key exchange, transcript MAC or replay settings',
  no_common_cipher: 'the server supports none of the ciphers the client offered',
  illegal_parameter: 'the server chose a cipher the client did not offer, or sent an unusable key or share',
  certificate_rejected: 'the certificate verifier refused the server certificate',
  bad_signature: "the signature over the server's key share does not verify with the certificate key",
  transcript_mismatch: "the Finished MAC over the handshake transcript is wrong: the handshake was altered",
  bad_record_mac: 'a sealed frame failed its authentication tag, MAC or padding check',
  bad_sequence: 'a sealed frame carries the wrong sequence number: replayed, reordered or dropped',
  replayed_nonce: 'a sealed frame reuses a nonce already seen inside the replay window',
  stale: 'a sealed frame has a timestamp outside the replay window',
  peer_error: 'the peer reported a channel failure with a ch_error frame',
  not_established: 'the channel is not established yet, so nothing can be sealed',
  closed: 'the channel has failed or been closed; it accepts nothing more',
  nothing_to_unwrap: 'the recording holds no RSA-wrapped key (only the rsa key exchange sends one)',
} as const;

export type ChannelErrorCode = keyof typeof CHANNEL_ERROR_CODES;

/** A `ch_error` frame: the code and its fixed sentence. */
export interface ChErrorFrame {
  type: 'ch_error';
  code: ChannelErrorCode | 'internal_error';
  message: string;
}

/**
 * Builds a channel failure.
 * @param channelCode one of {@link CHANNEL_ERROR_CODES}
 * @param message     what went wrong, for the local log and report (not sent to the peer)
 * @param details     extra context merged into `details`
 */
export function channelError(channelCode: ChannelErrorCode, message: string, details: Record<string, unknown> = {}, cause?: unknown): SecchatError {
  return new SecchatError(ERROR_CODES.CHANNEL, message, { ...details, channelCode }, cause === undefined ? undefined : { cause });
}

/** The `details.channelCode` of a channel failure, or undefined for any other value. */
export function channelCodeOf(err: unknown): ChannelErrorCode | undefined {
  if (err instanceof SecchatError && err.code === ERROR_CODES.CHANNEL) return err.details.channelCode as ChannelErrorCode;
  return undefined;
}

/**
 * The `ch_error` frame to send the peer after a machine threw `err`.
 * @returns the frame, or null when there is nothing to tell the peer: the failure was the peer's own
 *          `ch_error` (answering it would loop) or local misuse (`not_established`, `closed`).
 * @example
 *   try { out = server.receive(frame) } catch (err) { const f = channelErrorFrame(err); if (f) send(f) }
 */
export function channelErrorFrame(err: unknown): ChErrorFrame | null {
  const code = channelCodeOf(err);
  if (code === 'peer_error' || code === 'not_established' || code === 'closed') return null;
  if (code === undefined || !(code in CHANNEL_ERROR_CODES)) return { type: 'ch_error', code: 'internal_error', message: 'the peer failed unexpectedly' };
  return { type: 'ch_error', code, message: CHANNEL_ERROR_CODES[code] };
}
