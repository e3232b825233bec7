/**
 * The secure channel handshake as two sans-I/O state machines, {@link ChannelClient} and
 * {@link ChannelServer}: frames in, frames out, no sockets, no timers; randomness and the clock are
 * injected. Frames and transcript: `handshake-messages.ts`. Keys: `kdf.ts`. Sealed frames: `sealed-frames.ts`.
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
import { createHmac, randomBytes as nodeRandomBytes, timingSafeEqual, type KeyObject, type X509Certificate } from 'node:crypto';
import { ERROR_CODES, SecchatError, UsageError } from '../errors.ts';
import { CHANNEL_CIPHERS, type ChannelCipher, type Profile } from '../profile.ts';
import { channelError, channelErrorFrame, type ChErrorFrame } from './errors.ts';
import {
  CHANNEL_PROTOCOL_VERSION,
  MAX_CERTIFICATE_PEM_CHARS,
  isChannelFrame,
  isObject,
  readBase64,
  readBoolean,
  readCipherOffer,
  readEnum,
  readString,
  transcriptHash,
  type AppFrame,
  type ChFinishedFrame,
  type ChHelloFrame,
  type ChKeyFrame,
  type ChServerHelloFrame,
  type ChannelFrame,
  type ChannelKeyExchange,
  type SealedFrame,
} from './handshake-messages.ts';
import { deriveSessionKeys, RANDOM_BYTES, type SessionKeys } from './kdf.ts';
import {
  parseCertificate,
  checkedServerIdentity,
  rsaOaepUnwrap,
  rsaOaepWrap,
  serverShareSignedData,
  signWithKey,
  signatureSchemeFor,
  spkiPin,
  verifyWithKey,
  x25519KeyPairFromScalar,
  x25519SharedSecret,
  X25519_KEY_BYTES,
  type X25519KeyPair,
} from './keyexchange.ts';
import { channelWarnings, chooseCipher, type Negotiated } from './policy.ts';
import { encodeAppFrame, SealedRecordReader, SealedRecordWriter, type RecordSettings } from './sealed-frames.ts';

/** Largest signature accepted in `ch_server_hello` (RSA-8192 is 1024 bytes). */
export const MAX_SIGNATURE_BYTES = 1024;
/** Largest RSA-wrapped secret accepted in `ch_key` (RSA-8192). */
export const MAX_WRAPPED_SECRET_BYTES = 1024;

const KEY_EXCHANGES: readonly ChannelKeyExchange[] = ['rsa', 'ecdhe', 'ecdhe-signed'];
const REPLAY_MODES = ['none', 'sequence', 'window'] as const;

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
abstract class ChannelEndpoint {
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

/**
 * The client side of the channel.
 * @example
 *   const client = new ChannelClient({ profileChannel: profile.channel, verifyCertificate });
 *   for (const f of client.start()) send(f);
 *   onFrame((f) => { const a = client.handle(f); a.send.forEach(send); a.deliver.forEach(show) });
 *   send(client.seal({ type: 'msg', text: 'hi' }));
 */
export class ChannelClient extends ChannelEndpoint {
  readonly role = 'client' as const;
  readonly #verify?: VerifyCertificate;
  #clientRandom?: Buffer;
  #share?: X25519KeyPair;

  /** @throws UsageError when keyExchange is rsa or ecdhe-signed and no verifyCertificate is given */
  constructor(opts: ChannelOptions) {
    super(opts, 'idle');
    const kx = this.config.keyExchange;
    if ((kx === 'rsa' || kx === 'ecdhe-signed') && typeof opts.verifyCertificate !== 'function') {
      throw new UsageError(
        ERROR_CODES.USAGE,
        `channel.keyExchange ${kx} needs options.verifyCertificate (built from client.verify); to accept any certificate, as client.verify none does, pass () => ({ ok: true })`,
      );
    }
    this.#verify = opts.verifyCertificate;
  }

  /**
   * Starts the handshake.
   * @returns `[ch_hello]`, or `[]` when the channel is disabled
   * @throws UsageError when called twice
   */
  start(): ChannelFrame[] {
    if (this.current === 'disabled') return [];
    if (this.current !== 'idle') throw new UsageError(ERROR_CODES.USAGE, `ChannelClient.start(): already started (state ${this.current})`);
    this.#clientRandom = this.randomBytes(RANDOM_BYTES);
    const kx = this.config.keyExchange as ChannelKeyExchange;
    const hello: ChHelloFrame = {
      type: 'ch_hello',
      version: CHANNEL_PROTOCOL_VERSION,
      keyExchange: kx,
      ciphers: [...this.config.ciphers],
      transcriptMac: this.config.transcriptMac,
      replayProtection: this.config.replayProtection,
      random: this.#clientRandom.toString('base64'),
    };
    if (kx !== 'rsa') {
      this.#share = x25519KeyPairFromScalar(this.randomBytes(X25519_KEY_BYTES));
      hello.share = this.#share.publicRaw.toString('base64');
    }
    this.transcript.push(hello);
    this.current = 'wait_server_hello';
    return [hello];
  }

  protected onHandshakeFrame(frame: Record<string, unknown>): ChannelFrame[] {
    if (this.current === 'wait_server_hello' && frame.type === 'ch_server_hello') return this.#onServerHello(frame);
    if (this.current === 'wait_server_finished' && frame.type === 'ch_finished') {
      this.checkFinished(frame, this.keys!.serverFinishedKey);
      this.establish();
      return [];
    }
    return this.unexpected(frame);
  }

  #onServerHello(f: Record<string, unknown>): ChannelFrame[] {
    if (f.version !== CHANNEL_PROTOCOL_VERSION) throw channelError('parameter_mismatch', `server speaks channel version ${JSON.stringify(f.version)}, this client ${CHANNEL_PROTOCOL_VERSION}`, { setting: 'version' });
    const cipher = readEnum(f, 'cipher', CHANNEL_CIPHERS);
    if (!this.config.ciphers.includes(cipher)) {
      throw channelError('illegal_parameter', `server chose ${cipher}, which this client did not offer (${this.config.ciphers.join(', ')})`, { cipher, offered: [...this.config.ciphers] });
    }
    const serverRandom = readBase64(f, 'random', { bytes: RANDOM_BYTES });
    const kx = this.config.keyExchange;
    this.transcript.push(f);
    const out: ChannelFrame[] = [];
    let ikm: Buffer;
    if (kx === 'rsa') {
      const cert = this.#checkCertificate(f);
      if (cert.publicKey.asymmetricKeyType !== 'rsa') throw channelError('illegal_parameter', `keyExchange rsa needs an RSA certificate key, got ${cert.publicKey.asymmetricKeyType}`);
      ikm = this.randomBytes(RANDOM_BYTES);
      const key: ChKeyFrame = { type: 'ch_key', wrappedSecret: rsaOaepWrap(cert.publicKey, ikm).toString('base64') };
      this.transcript.push(key);
      out.push(key);
    } else {
      const share = readBase64(f, 'share', { bytes: X25519_KEY_BYTES });
      if (kx === 'ecdhe-signed') {
        const scheme = readString(f, 'signatureScheme', 64);
        const signature = readBase64(f, 'signature', { maxBytes: MAX_SIGNATURE_BYTES });
        const cert = this.#checkCertificate(f);
        if (!verifyWithKey(cert.publicKey, scheme, serverShareSignedData(this.#clientRandom!, serverRandom, share), signature)) {
          throw channelError('bad_signature', `the ${scheme} signature over the server key share does not verify with the certificate key`, { scheme });
        }
      }
      const secret = x25519SharedSecret(this.#share!.privateKey, share);
      if (!secret) throw channelError('illegal_parameter', 'the server X25519 share is unusable (low-order point)');
      ikm = secret;
    }
    this.keys = deriveSessionKeys(ikm, this.#clientRandom!, serverRandom, cipher);
    this.cipher = cipher;
    this.#share = undefined;
    if (this.config.transcriptMac) {
      const fin: ChFinishedFrame = { type: 'ch_finished', verify: this.finishedMac(this.keys.clientFinishedKey).toString('base64') };
      this.transcript.push(fin);
      out.push(fin);
      this.current = 'wait_server_finished';
    } else {
      this.establish();
    }
    return out;
  }

  /** Parses the certificate, runs the injected verifier, records the SPKI pin. */
  #checkCertificate(f: Record<string, unknown>): X509Certificate {
    const pem = readString(f, 'certificate', MAX_CERTIFICATE_PEM_CHARS);
    const cert = parseCertificate(pem);
    if (!cert) throw channelError('decode_error', 'ch_server_hello.certificate: not a PEM certificate', { field: 'ch_server_hello.certificate' });
    let verdict: CertificateVerdict;
    try {
      verdict = this.#verify!(pem);
    } catch (err) {
      throw channelError('certificate_rejected', `the certificate verifier failed: ${(err as Error).message}`, { verifierCode: 'verifier_threw' }, err);
    }
    if (!verdict.ok) throw channelError('certificate_rejected', `server certificate rejected: ${verdict.message}`, { verifierCode: verdict.code });
    this.serverPin = spkiPin(cert.publicKey);
    return cert;
  }
}

/**
 * The server side of the channel.
 * @example
 *   const server = new ChannelServer({ profileChannel: profile.channel, serverCert: { certPem, keyPem } });
 *   onFrame((f) => { const a = server.handle(f); a.send.forEach(send); a.deliver.forEach(dispatch) });
 */
export class ChannelServer extends ChannelEndpoint {
  readonly role = 'server' as const;
  readonly #certPem?: string;
  readonly #key?: KeyObject;
  #clientRandom?: Buffer;
  #serverRandom?: Buffer;

  /**
   * @throws UsageError when keyExchange is rsa or ecdhe-signed and serverCert is missing, unreadable,
   *         does not match its key, or (rsa) is not RSA
   */
  constructor(opts: ChannelOptions) {
    super(opts, 'wait_client_hello');
    const kx = this.config.keyExchange;
    if (kx !== 'rsa' && kx !== 'ecdhe-signed') return;
    const sc = opts.serverCert;
    if (!sc || typeof sc.certPem !== 'string' || typeof sc.keyPem !== 'string') {
      throw new UsageError(ERROR_CODES.USAGE, `channel.keyExchange ${kx} needs options.serverCert { certPem, keyPem } on the server`);
    }
    const { cert, key } = checkedServerIdentity(sc.certPem, sc.keyPem);
    if (kx === 'rsa' && key.asymmetricKeyType !== 'rsa') throw new UsageError(ERROR_CODES.USAGE, `channel.keyExchange rsa needs an RSA server key (options.serverCert is ${key.asymmetricKeyType})`);
    if (kx === 'ecdhe-signed' && !signatureSchemeFor(key)) throw new UsageError(ERROR_CODES.USAGE, `channel.keyExchange ecdhe-signed needs an RSA, EC or Ed25519 server key (options.serverCert is ${key.asymmetricKeyType})`);
    this.#certPem = sc.certPem;
    this.#key = key;
    this.serverPin = spkiPin(cert.publicKey);
  }

  protected onHandshakeFrame(frame: Record<string, unknown>): ChannelFrame[] {
    if (this.current === 'wait_client_hello' && frame.type === 'ch_hello') return this.#onClientHello(frame);
    if (this.current === 'wait_key' && frame.type === 'ch_key') return this.#onKey(frame);
    if (this.current === 'wait_client_finished' && frame.type === 'ch_finished') {
      this.checkFinished(frame, this.keys!.clientFinishedKey);
      const fin: ChFinishedFrame = { type: 'ch_finished', verify: this.finishedMac(this.keys!.serverFinishedKey).toString('base64') };
      this.transcript.push(fin);
      this.establish();
      return [fin];
    }
    return this.unexpected(frame);
  }

  #onClientHello(f: Record<string, unknown>): ChannelFrame[] {
    if (f.version !== CHANNEL_PROTOCOL_VERSION) throw channelError('parameter_mismatch', `client speaks channel version ${JSON.stringify(f.version)}, this server ${CHANNEL_PROTOCOL_VERSION}`, { setting: 'version' });
    const kx = readEnum(f, 'keyExchange', KEY_EXCHANGES);
    const transcriptMac = readBoolean(f, 'transcriptMac');
    const replayProtection = readEnum(f, 'replayProtection', REPLAY_MODES);
    const mismatches = (
      [
        ['keyExchange', kx, this.config.keyExchange],
        ['transcriptMac', transcriptMac, this.config.transcriptMac],
        ['replayProtection', replayProtection, this.config.replayProtection],
      ] as const
    ).filter(([, client, server]) => client !== server);
    if (mismatches.length) {
      throw channelError('parameter_mismatch', `client and server channel settings differ: ${mismatches.map(([s, c, v]) => `${s} client ${c} / server ${v}`).join(', ')}`, {
        mismatches: mismatches.map(([setting, client, server]) => ({ setting, client, server })),
      });
    }
    const offer = readCipherOffer(f);
    const clientRandom = readBase64(f, 'random', { bytes: RANDOM_BYTES });
    const clientShare = kx === 'rsa' ? undefined : readBase64(f, 'share', { bytes: X25519_KEY_BYTES });
    const cipher = chooseCipher(this.config.ciphers, offer);
    if (!cipher) throw channelError('no_common_cipher', `no common channel cipher: client offered ${offer.join(', ') || 'nothing known'}, server supports ${this.config.ciphers.join(', ')}`, { offered: offer, supported: [...this.config.ciphers] });
    this.transcript.push(f);
    const serverRandom = this.randomBytes(RANDOM_BYTES);
    const hello: ChServerHelloFrame = { type: 'ch_server_hello', version: CHANNEL_PROTOCOL_VERSION, cipher, random: serverRandom.toString('base64') };
    this.cipher = cipher;
    if (kx === 'rsa') {
      hello.certificate = this.#certPem!;
      this.#clientRandom = clientRandom;
      this.#serverRandom = serverRandom;
      this.current = 'wait_key';
    } else {
      const share = x25519KeyPairFromScalar(this.randomBytes(X25519_KEY_BYTES));
      hello.share = share.publicRaw.toString('base64');
      if (kx === 'ecdhe-signed') {
        const { scheme, signature } = signWithKey(this.#key!, serverShareSignedData(clientRandom, serverRandom, share.publicRaw));
        hello.certificate = this.#certPem!;
        hello.signatureScheme = scheme;
        hello.signature = signature.toString('base64');
      }
      const secret = x25519SharedSecret(share.privateKey, clientShare!);
      if (!secret) throw channelError('illegal_parameter', 'the client X25519 share is unusable (low-order point)');
      this.keys = deriveSessionKeys(secret, clientRandom, serverRandom, cipher);
    }
    this.transcript.push(hello);
    if (kx !== 'rsa') {
      if (this.config.transcriptMac) this.current = 'wait_client_finished';
      else this.establish();
    }
    return [hello];
  }

  #onKey(f: Record<string, unknown>): ChannelFrame[] {
    const wrapped = readBase64(f, 'wrappedSecret', { maxBytes: MAX_WRAPPED_SECRET_BYTES });
    let secret = rsaOaepUnwrap(this.#key!, wrapped);
    // Implicit rejection (as RFC 5246 §7.4.7.1 does for PKCS#1 v1.5): on a bad unwrap, go on with a
    // random secret so the failure shows up later as a MAC failure, not as a distinct error an
    // attacker could use as a decryption oracle (Manger 2001).
    if (!secret || secret.length !== RANDOM_BYTES) secret = this.randomBytes(RANDOM_BYTES);
    this.transcript.push(f);
    this.keys = deriveSessionKeys(secret, this.#clientRandom!, this.#serverRandom!, this.cipher!);
    if (this.config.transcriptMac) this.current = 'wait_client_finished';
    else this.establish();
    return [];
  }
}

export type { ChErrorFrame };
