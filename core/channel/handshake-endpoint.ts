/**
 * What the channel's two sans-I/O state machines share (`handshake-client.ts`,
 * `handshake-server.ts`): options, states, the actions a frame produces, the transcript and its
 * Finished MAC (RFC 8446 §4.4.4 style), and the record layer once established
 * (`sealed-frames.ts`). The state diagram and the modes are in `handshake.ts`.
 * @module
 */
import { createHmac, randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';
import { ERROR_CODES, SecchatError, UsageError } from '../errors.ts';
import { CHANNEL_CIPHERS, type ChannelCipher, type Profile } from '../profile.ts';
import { channelError, channelErrorFrame } from './errors.ts';
import { isChannelFrame, isObject, readBase64, transcriptHash, type AppFrame, type ChannelFrame, type SealedFrame } from './handshake-messages.ts';
import type { SessionKeys } from './kdf.ts';
import { channelWarnings, type Negotiated } from './policy.ts';
import { encodeAppFrame, SealedRecordReader, SealedRecordWriter, type RecordSettings } from './sealed-frames.ts';


/** The verdict of the injected certificate verifier (the TLS side maps client.verify to one). */
export type CertificateVerdict = { ok: true } | { ok: false; code: string; message: string };
/** Checks the server certificate PEM; with `client.verify: none` it accepts anything. */
export type VerifyCertificate = (certPem: string) => CertificateVerdict;

/** Constructor options of both machines. */
export interface ChannelOptions {
  /** the profile's `channel:` section (already validated) */
  profileChannel: Profile['channel'];
  /** random bytes source; default node's CSPRNG. Inject a seeded one for reproducible labs. */
  randomBytes?: (n: number) => Buffer;
  /** clock in ms since the epoch; default `Date.now` (used by replayProtection window only) */
  now?: () => number;
  /** client, keyExchange rsa or ecdhe-signed: required */
  verifyCertificate?: VerifyCertificate;
  /** server, keyExchange rsa or ecdhe-signed: required (rsa needs an RSA key) */
  serverCert?: { certPem: string; keyPem: string };
}

export type ChannelState = 'idle' | 'wait_server_hello' | 'wait_server_finished' | 'wait_client_hello' | 'wait_key' | 'wait_client_finished' | 'established' | 'disabled' | 'closed';

/** What {@link ChannelEndpoint.handle} asks the caller to do. */
export interface ChannelActions {
  /** frames to write to the peer, in order (a `ch_error` after a failure) */
  send: ChannelFrame[];
  /** chat frames that arrived, opened, for the application */
  deliver: AppFrame[];
  /** true when this event completed the handshake */
  established: boolean;
  /** the failure that closed the channel during this event */
  error?: SecchatError;
}

/** State and record handling shared by the client and the server. */
export abstract class ChannelEndpoint {
  abstract readonly role: 'client' | 'server';
  protected readonly config: Profile['channel'];
  protected readonly randomBytes: (n: number) => Buffer;
  protected readonly now: () => number;
  protected current: ChannelState;
  /** handshake frames in order sent/received, for the Finished MAC */
  protected readonly transcript: unknown[] = [];
  protected keys?: SessionKeys;
  protected cipher?: ChannelCipher;
  protected serverPin?: string;
  #negotiated?: Negotiated;
  #writer?: SealedRecordWriter;
  #reader?: SealedRecordReader;
  #error?: SecchatError;

  constructor(opts: ChannelOptions, initial: ChannelState) {
    if (!opts || !isObject(opts.profileChannel)) throw new UsageError(ERROR_CODES.USAGE, 'channel: options.profileChannel (the profile channel section) is required');
    const pc = opts.profileChannel;
    if (!Array.isArray(pc.ciphers) || pc.ciphers.length === 0 || pc.ciphers.some((c) => !CHANNEL_CIPHERS.includes(c))) {
      throw new UsageError(ERROR_CODES.USAGE, `channel.ciphers: must list one or more of ${CHANNEL_CIPHERS.join(', ')}`);
    }
    this.config = pc;
    this.randomBytes = opts.randomBytes ?? nodeRandomBytes;
    this.now = opts.now ?? Date.now;
    this.current = pc.keyExchange === 'none' ? 'disabled' : initial;
    if (this.current === 'disabled') this.#negotiated = { keyExchange: 'none', cipher: 'none', transcriptMac: false, replayProtection: 'none', warnings: channelWarnings({ keyExchange: 'none', cipher: 'none', transcriptMac: false, replayProtection: 'none' }) };
  }

  /** The current state (see the module comment). */
  get state(): ChannelState {
    return this.current;
  }

  /** True when seal/open work: after the handshake, or always when the channel is disabled. */
  get established(): boolean {
    return this.current === 'established' || this.current === 'disabled';
  }

  /** What was agreed, once established; undefined before. */
  get negotiated(): Negotiated | undefined {
    return this.#negotiated;
  }

  /** The failure that closed the channel, if one did. */
  get error(): SecchatError | undefined {
    return this.#error;
  }

  /** Counters for reports and tests. */
  get stats(): { sealed: bigint; opened: bigint; seenNonces: number } {
    return { sealed: this.#writer?.sent ?? 0n, opened: this.#reader?.received ?? 0n, seenNonces: this.#reader?.seenNonces ?? 0 };
  }

  /**
   * LAB USE ONLY: the session keys, so a lab can show what an attacker who steals them can do.
   * A real endpoint never hands these out.
   */
  exportSessionKeys(): SessionKeys | undefined {
    return this.keys;
  }

  /**
   * Feeds one handshake frame (`ch_*`) from the peer.
   * @returns the frames to send back, in order (possibly none)
   * @throws SecchatError(CHANNEL) with `details.channelCode`; the channel is then closed (send the
   *         peer `channelErrorFrame(err)`). `closed` if it already was.
   */
  receive(frame: unknown): ChannelFrame[] {
    this.#assertOpen();
    try {
      if (!isObject(frame) || typeof frame.type !== 'string') throw channelError('decode_error', 'a channel frame must be an object with a string type');
      if (frame.type === 'ch_error') throw peerError(frame);
      if (this.current === 'disabled') throw channelError('unexpected_message', `got ${frame.type}, but this side runs no channel (keyExchange none)`, { frameType: frame.type });
      return this.onHandshakeFrame(frame);
    } catch (err) {
      throw this.#fail(err);
    }
  }

  /**
   * Protects one chat frame. Disabled channel: returns the frame unchanged.
   * @returns the `sealed` frame to send
   * @throws UsageError for a frame that is not an object with a string type (channel stays open);
   *         SecchatError(CHANNEL) `not_established` before the handshake ends, `closed` after a failure
   */
  seal(appFrame: AppFrame): SealedFrame | AppFrame {
    this.#assertOpen();
    if (this.current === 'disabled') {
      encodeAppFrame(appFrame); // same argument check as when sealing
      return appFrame;
    }
    if (!this.#writer) throw channelError('not_established', `cannot seal in state ${this.current}: the handshake has not finished`, { state: this.current });
    try {
      return this.#writer.seal(appFrame);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw this.#fail(err);
    }
  }

  /**
   * Opens one `sealed` frame from the peer. Disabled channel: returns a chat frame unchanged.
   * A plain chat frame on an established channel is rejected: anyone on the path could have sent it.
   * @returns the chat frame
   * @throws SecchatError(CHANNEL): decode_error, unexpected_message, bad_sequence, stale,
   *         replayed_nonce, bad_record_mac, peer_error; the channel is then closed
   */
  open(frame: unknown): AppFrame {
    this.#assertOpen();
    try {
      if (!isObject(frame) || typeof frame.type !== 'string') throw channelError('decode_error', 'a frame must be an object with a string type');
      if (frame.type === 'ch_error') throw peerError(frame);
      if (this.current === 'disabled') {
        if (isChannelFrame(frame)) throw channelError('unexpected_message', `got ${frame.type}, but this side runs no channel (keyExchange none)`, { frameType: frame.type });
        return frame as AppFrame;
      }
      if (!this.#reader) throw channelError('unexpected_message', `got ${frame.type} in state ${this.current}, before the handshake finished`, { frameType: frame.type, state: this.current });
      if (frame.type !== 'sealed') throw channelError('unexpected_message', `got a plain ${frame.type} frame on an established channel`, { frameType: frame.type });
      return this.#reader.open(frame);
    } catch (err) {
      throw this.#fail(err);
    }
  }

  /**
   * Feeds any frame from the peer and never throws: routes `ch_*` to {@link receive} and everything
   * else to {@link open}, and turns a failure into a `ch_error` to send.
   */
  handle(frame: unknown): ChannelActions {
    const before = this.established;
    const actions: ChannelActions = { send: [], deliver: [], established: false };
    try {
      if (isChannelFrame(frame) && (frame as { type: string }).type !== 'sealed') actions.send.push(...this.receive(frame));
      else actions.deliver.push(this.open(frame));
    } catch (err) {
      actions.error = err instanceof SecchatError ? err : new SecchatError(ERROR_CODES.INTERNAL, String(err), {}, { cause: err });
      const reply = channelErrorFrame(err);
      if (reply) actions.send.push(reply);
    }
    actions.established = !before && this.established;
    return actions;
  }

  /** Closes the channel locally; everything after is rejected with `closed` (stats stay readable). */
  close(): void {
    this.current = 'closed';
  }

  protected abstract onHandshakeFrame(frame: Record<string, unknown>): ChannelFrame[];

  /** HMAC-SHA256(key, SHA-256(transcript so far)). */
  protected finishedMac(key: Buffer): Buffer {
    return createHmac('sha256', key).update(transcriptHash(this.transcript)).digest();
  }

  /** Checks a peer's Finished frame against the transcript so far. @throws transcript_mismatch */
  protected checkFinished(frame: Record<string, unknown>, key: Buffer): void {
    const got = readBase64(frame, 'verify', { bytes: 32 });
    if (!timingSafeEqual(got, this.finishedMac(key))) {
      throw channelError('transcript_mismatch', `the ${this.role === 'client' ? 'server' : 'client'} Finished MAC does not match this side's handshake transcript: a handshake frame was altered, replayed or injected`);
    }
    this.transcript.push(frame);
  }

  protected unexpected(frame: Record<string, unknown>): never {
    throw channelError('unexpected_message', `${this.role} got ${String(frame.type)} in state ${this.current}`, { frameType: frame.type, state: this.current });
  }

  /** Moves to established: record layer up, negotiated filled in. */
  protected establish(): void {
    const keys = this.keys!;
    const cipher = this.cipher!;
    const settings: RecordSettings = { cipher, replayProtection: this.config.replayProtection, replayWindowMs: this.config.replayWindowMs, randomBytes: this.randomBytes, now: this.now };
    const [mine, theirs] = this.role === 'client' ? [keys.clientToServer, keys.serverToClient] : [keys.serverToClient, keys.clientToServer];
    this.#writer = new SealedRecordWriter(settings, mine);
    this.#reader = new SealedRecordReader(settings, theirs);
    const base = { keyExchange: this.config.keyExchange, cipher, transcriptMac: this.config.transcriptMac, replayProtection: this.config.replayProtection };
    this.#negotiated = {
      ...base,
      ...(this.config.replayProtection === 'window' ? { replayWindowMs: this.config.replayWindowMs } : {}),
      ...(this.serverPin ? { serverCertificateSpkiPin: this.serverPin } : {}),
      warnings: channelWarnings(base),
    };
    this.current = 'established';
  }

  #assertOpen(): void {
    if (this.current === 'closed') throw channelError('closed', `the ${this.role} channel is closed${this.#error ? ` (after ${String(this.#error.details.channelCode ?? this.#error.code)})` : ''}`, { previous: this.#error?.details.channelCode });
  }

  #fail(err: unknown): unknown {
    if (err instanceof SecchatError) this.#error ??= err;
    this.close();
    return err;
  }
}

function peerError(frame: Record<string, unknown>): SecchatError {
  const code = typeof frame.code === 'string' ? frame.code.slice(0, 64) : 'unknown';
  const message = typeof frame.message === 'string' ? frame.message.slice(0, 500) : '';
  return channelError('peer_error', `the peer reported ${code}: ${message}`, { peerCode: code, peerMessage: message });
}
