/**
 * One client connection's rules, as a sans-I/O state machine: bytes in, actions out. It owns the
 * frame decoder, the welcome, the STARTTLS upgrade (refusing plaintext on `starttls-required`, and
 * dropping plaintext the server pipelined after `starttls_ok`: the CVE-2011-0411 class), and the
 * trust gate: before a STARTTLS upgrade or a secure channel is up only the greeting (`welcome`,
 * `starttls_ok`, `error`) passes; inside an established channel only sealed frames do
 * (docs/channel.md). client/chat-client.ts carries the actions out on a socket.
 *
 * States: `wait_welcome` → (`upgrading` → `tls_handshake` → `wait_welcome` over TLS) → `ready`;
 * any state → `closed` after a fatal decoder error (reported once; nothing more is decoded).
 */
import { FrameDecoder, type Frame } from '../core/frames.ts';
import { ERROR_CODES, SecchatError, type ProtocolError } from '../core/errors.ts';
import type { Profile } from '../core/profile.ts';
import { isChannelFrame, type ChannelClient } from '../core/channel/index.ts';

/** What the adapter must do, in order. */
export type ClientConnectionAction =
  /** A frame the application may trust (welcome, replies, pushed chat frames; opened from the channel when there is one). */
  | { type: 'frame'; frame: Frame }
  /** Write this frame as is (the `starttls` request, secure-channel handshake frames). */
  | { type: 'send'; frame: Frame }
  /** Hand the connection to TLS now; call {@link ClientConnectionRules.tlsEstablished} once the certificate was verified. */
  | { type: 'start_tls' }
  /** The welcome was accepted: the connection is open. */
  | { type: 'ready'; welcome: Frame }
  /** Opening must fail with this error (e.g. STARTTLS not offered on `starttls-required`). */
  | { type: 'fail'; error: SecchatError }
  /** The secure channel came up, or failed (the connection must then be destroyed). */
  | { type: 'channel'; established?: true; error?: SecchatError }
  /** A frame the server got wrong but the stream goes on (bad_json, bad_frame). */
  | { type: 'error'; error: ProtocolError }
  /** The stream is unusable (frame_too_large): destroy the connection. Yielded once. */
  | { type: 'fatal'; error: ProtocolError }
  /** An untrusted frame was dropped (outside the channel, or before the upgrade). */
  | { type: 'dropped'; frame: Frame };

/** The state of a {@link ClientConnectionRules} (see the module comment). */
export type ClientConnectionState = 'wait_welcome' | 'upgrading' | 'tls_handshake' | 'ready' | 'closed';

/** Frames trusted before any protection is up: the greeting, and errors (which can only end things). */
const GREETING = new Set(['welcome', 'starttls_ok', 'error']);

/**
 * The client side of one connection attempt's rules. Push bytes with {@link receive}, pull actions
 * with {@link next} until null; {@link feed} does both. Never throws on server input.
 */
export class ClientConnectionRules {
  private decoder: FrameDecoder;
  private current: ClientConnectionState = 'wait_welcome';
  private tls: boolean;
  /** A STARTTLS transport still in plaintext that has not decided to stay so. */
  private plaintextGate: boolean;
  private readonly channelRequired: boolean;
  private channel: ChannelClient | null = null;
  private readonly transport: Profile['transport'];
  private readonly maxFrameBytes: number | undefined;

  /**
   * @param opts.tls true when the connection is TLS from its first byte (transport tls)
   * @param opts.maxFrameBytes the decoder's limit in bytes (default core/frames.ts DEFAULT_MAX_FRAME_BYTES)
   */
  constructor(opts: { profile: Profile; tls: boolean; maxFrameBytes?: number }) {
    this.transport = opts.profile.transport;
    this.tls = opts.tls;
    this.maxFrameBytes = opts.maxFrameBytes;
    this.plaintextGate = this.isStarttls && !opts.tls;
    this.channelRequired = opts.profile.channel.keyExchange !== 'none';
    this.decoder = new FrameDecoder({ maxFrameBytes: opts.maxFrameBytes });
  }

  /** The current state. */
  get state(): ClientConnectionState {
    return this.current;
  }

  private get isStarttls(): boolean {
    return this.transport === 'starttls' || this.transport === 'starttls-required';
  }

  /** Appends received bytes; ignored while TLS takes the socket over (plaintext after starttls_ok is dropped) and once closed. */
  receive(bytes: Uint8Array): void {
    if (this.current !== 'tls_handshake' && this.current !== 'closed') this.decoder.push(bytes);
  }

  /** @returns the next frame's actions, or null when more bytes are needed or nothing more will be read */
  next(): ClientConnectionAction[] | null {
    if (this.current === 'tls_handshake' || this.current === 'closed') return null;
    let frame: Frame | null;
    try {
      frame = this.decoder.next();
    } catch (err) {
      const e = err as ProtocolError;
      if (!e.details?.fatal) return [{ type: 'error', error: e }];
      // A poisoned stream ends here: asking the decoder again would only repeat the error.
      this.closed();
      return [{ type: 'fatal', error: e }];
    }
    if (!frame) return null;
    return this.judge(frame);
  }

  /** {@link receive} then every action {@link next} yields. */
  feed(bytes: Uint8Array): ClientConnectionAction[] {
    this.receive(bytes);
    const out: ClientConnectionAction[] = [];
    for (let a = this.next(); a; a = this.next()) out.push(...a);
    return out;
  }

  /** TLS is up and the server's certificate verified after `start_tls`: a fresh decoder, and wait for the welcome over TLS. */
  tlsEstablished(): void {
    this.tls = true;
    this.plaintextGate = false;
    if (this.current === 'tls_handshake') {
      this.current = 'wait_welcome';
      this.decoder = new FrameDecoder({ maxFrameBytes: this.maxFrameBytes });
    }
  }

  /**
   * Starts the secure channel handshake (after `ready`).
   * @returns the frames to send (the ClientHello)
   */
  startChannel(channel: ChannelClient): Frame[] {
    this.channel = channel;
    return channel.start() as unknown as Frame[];
  }

  /** Nothing more is decoded (the adapter closed, or a fatal error). */
  closed(): void {
    this.current = 'closed';
    this.decoder = new FrameDecoder({ maxFrameBytes: this.maxFrameBytes });
  }

  private judge(frame: Frame): ClientConnectionAction[] {
    if (this.channel && isChannelFrame(frame)) {
      const actions = this.channel.handle(frame);
      const out: ClientConnectionAction[] = actions.send.map((f) => ({ type: 'send', frame: f as unknown as Frame }));
      if (actions.error) return [...out, { type: 'channel', error: actions.error }];
      if (actions.established) out.push({ type: 'channel', established: true });
      for (const app of actions.deliver) out.push(...this.accept(app as Frame));
      return out;
    }
    // Before a channel or a STARTTLS upgrade is up, only the greeting is trusted; once a channel
    // is up, an unprotected frame can only be an injection. Either way: drop it.
    const greeting = GREETING.has(frame.type);
    if ((this.channelRequired && (this.channel?.established || !greeting)) || (this.plaintextGate && !greeting)) return [{ type: 'dropped', frame }];
    return this.accept(frame);
  }

  /** A trusted frame: to the application, and the welcome / STARTTLS steps. */
  private accept(frame: Frame): ClientConnectionAction[] {
    const out: ClientConnectionAction[] = [{ type: 'frame', frame }];
    if (frame.type === 'starttls_ok' && this.current === 'upgrading') {
      // Whatever plaintext follows starttls_ok in the same read is dropped with the decoder.
      this.current = 'tls_handshake';
      this.decoder = new FrameDecoder({ maxFrameBytes: this.maxFrameBytes });
      out.push({ type: 'start_tls' });
      return out;
    }
    if (frame.type !== 'welcome' || this.current !== 'wait_welcome') return out;
    if (this.isStarttls && !this.tls) {
      if (frame.starttls === true) {
        this.current = 'upgrading';
        out.push({ type: 'send', frame: { type: 'starttls' } });
        return out;
      }
      if (this.transport === 'starttls-required') {
        out.push({ type: 'fail', error: new SecchatError(ERROR_CODES.STARTTLS_UNAVAILABLE, 'the server did not offer STARTTLS; refusing to continue in plaintext (transport: starttls-required)', { reason: 'STARTTLS not offered' }) });
        return out;
      }
      // Opportunistic STARTTLS carries on in plaintext: the weakness downgrade-starttls shows.
      this.plaintextGate = false;
    }
    this.current = 'ready';
    out.push({ type: 'ready', welcome: frame });
    return out;
  }
}
