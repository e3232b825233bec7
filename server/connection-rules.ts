/**
 * One server connection's rules before and around the chat session, as a sans-I/O state machine:
 * bytes in, actions out. It owns the frame decoder, the welcome, STARTTLS (RFC 3207-style upgrade,
 * with the CVE-2011-0411 pipelining refusal), `tls_required` on `starttls-required` profiles, and
 * the secure-channel gate (docs/channel.md): which frames may pass before the channel is up.
 * server/chat-server.ts is the thin adapter that carries the actions out on a socket.
 *
 * States: `open` (frames flow) → `upgrading` (after `starttls_ok`: nothing more is read or written
 * in plaintext, docs/protocol.md) → `open` again over TLS; any state → `closed` (terminal: a fatal
 * decoder error, a channel failure, a refused STARTTLS; nothing more is decoded).
 */
import { FrameDecoder, type Frame } from '../core/frames.ts';
import type { ProtocolError } from '../core/errors.ts';
import { PROTOCOL_ERRORS, PROTOCOL_VERSION, errorFrame } from '../core/protocol.ts';
import type { Profile } from '../core/profile.ts';
import { isChannelFrame, type ChannelServer } from '../core/channel/index.ts';

/** What the adapter must do, in order. */
export type ServerConnectionAction =
  /** Send through the session's output (sealed inside an established channel; see {@link ServerConnectionRules.wireFrame}). */
  | { type: 'send'; frame: Frame }
  /** Write a secure-channel handshake frame as is (never sealed). */
  | { type: 'send_channel'; frame: Frame }
  /** A chat frame for server/session.ts. */
  | { type: 'dispatch'; frame: Frame }
  /** `starttls_ok` must be written in plaintext, then the socket handed to TLS; call {@link ServerConnectionRules.tlsEstablished} once it is up. */
  | { type: 'start_tls'; frame: Frame }
  /** Close the connection (flush, then destroy after a grace). */
  | { type: 'close'; reason: string }
  /** A log entry (never contains passwords or keys). */
  | { type: 'log'; entry: { event: string; [field: string]: unknown } };

/** The state of a {@link ServerConnectionRules} (see the module comment). */
export type ServerConnectionState = 'open' | 'upgrading' | 'closed';

/** Options of {@link ServerConnectionRules}. */
export interface ServerConnectionRulesOptions {
  profile: Profile;
  /** Largest frame accepted, in bytes including the newline (ServerLimits.maxFrameBytes). */
  maxFrameBytes: number;
  /** Announced in the welcome, in ms. */
  idleTimeoutMs: number;
  /** Announced in the welcome, in characters. */
  maxMessageChars: number;
  /** True when the connection is TLS from its first byte (transport tls). */
  tls: boolean;
  /** The secure channel's server side, or null when the profile has none. */
  channel: ChannelServer | null;
}

/** Frames that authenticate: on `starttls-required` they are refused until TLS is up. */
const CREDENTIAL_FRAMES = new Set(['login', 'register', 'auth_challenge']);

/**
 * Welcome frames already built, per profile and then per {@link welcomeKey}. Every connection of a
 * server announces the same welcome, so it is built once per server and shared: the adapter's
 * encode-once cache (server/chat-server.ts) then serializes it once, not once per handshake
 * (measured in `secchat bench handshake`, docs/performance.md). Shared, so frozen.
 */
const WELCOMES = new WeakMap<Profile, Map<string, Frame>>();

/**
 * The server side of one connection's rules. Push bytes with {@link receive}, then pull actions
 * with {@link next} until it returns null — the adapter may stop pulling (input backpressure) and
 * carry on later; unread frames stay in the decoder. {@link feed} does both for tests.
 * Never throws on peer input: bad frames become `send` error frames, fatal ones `close`.
 */
export class ServerConnectionRules {
  private decoder: FrameDecoder;
  private current: ServerConnectionState = 'open';
  private tls: boolean;
  private readonly opts: ServerConnectionRulesOptions;
  private readonly starttlsOffered: boolean;

  constructor(opts: ServerConnectionRulesOptions) {
    this.opts = opts;
    this.tls = opts.tls;
    this.starttlsOffered = opts.profile.transport === 'starttls' || opts.profile.transport === 'starttls-required';
    this.decoder = new FrameDecoder({ maxFrameBytes: opts.maxFrameBytes });
  }

  /** The current state. */
  get state(): ServerConnectionState {
    return this.current;
  }

  /** True once TLS protects the connection (from the start, or after STARTTLS). */
  get tlsActive(): boolean {
    return this.tls;
  }

  /** Bytes received and not yet decoded into frames. */
  get pendingBytes(): number {
    return this.decoder.pendingBytes;
  }

  /**
   * The welcome frame for the connection as it is now (sent first, and again after STARTTLS). The
   * same frozen object for every connection with the same inputs; never mutate it.
   */
  welcome(): Frame {
    const { profile } = this.opts;
    let byKey = WELCOMES.get(profile);
    if (!byKey) WELCOMES.set(profile, (byKey = new Map()));
    const key = this.welcomeKey();
    let frame = byKey.get(key);
    if (!frame) byKey.set(key, (frame = Object.freeze(this.buildWelcome())));
    return frame;
  }

  /** Every input of {@link buildWelcome}, as a string: two welcomes differ exactly when their keys do. */
  private welcomeKey(): string {
    const { profile, idleTimeoutMs, maxFrameBytes, maxMessageChars, channel } = this.opts;
    return `${profile.transport}|${profile.auth.method}|${profile.channel.keyExchange}|${idleTimeoutMs}|${maxFrameBytes}|${maxMessageChars}|${this.tls}|${channel !== null}`;
  }

  /** The welcome, built. Reads nothing that {@link welcomeKey} does not include. */
  private buildWelcome(): Frame {
    const { profile } = this.opts;
    return {
      type: 'welcome',
      server: 'secchat',
      version: PROTOCOL_VERSION,
      transport: profile.transport,
      auth: profile.auth.method,
      idleTimeoutMs: this.opts.idleTimeoutMs,
      limits: Object.freeze({ maxFrameBytes: this.opts.maxFrameBytes, maxMessageChars: this.opts.maxMessageChars }),
      ...(this.starttlsOffered ? (this.tls ? { tls: true } : { starttls: true }) : {}),
      ...(this.opts.channel ? { channel: profile.channel.keyExchange } : {}),
    };
  }

  /** Appends received bytes; ignored outside `open` (while upgrading they belong to TLS, once closed to no one). */
  receive(bytes: Uint8Array): void {
    if (this.current === 'open') this.decoder.push(bytes);
  }

  /**
   * Decodes and judges the next frame.
   * @returns its actions (possibly none), or null when more bytes are needed or nothing more will be read
   */
  next(): ServerConnectionAction[] | null {
    if (this.current !== 'open') return null;
    let frame: Frame | null;
    try {
      frame = this.decoder.next();
    } catch (err) {
      const e = err as ProtocolError;
      const code = String(e.details.protocolCode);
      const out: ServerConnectionAction[] = [
        { type: 'send', frame: errorFrame(code as never, e.message) },
        { type: 'log', entry: { event: 'protocol_error', code } },
      ];
      // A fatal decoder error poisons the stream: stop here, once.
      if (e.details.fatal) out.push(...this.close(code));
      return out;
    }
    if (!frame) return null;
    return this.judge(frame);
  }

  /** {@link receive} then every action {@link next} yields — for tests and simple callers. */
  feed(bytes: Uint8Array): ServerConnectionAction[] {
    this.receive(bytes);
    const out: ServerConnectionAction[] = [];
    for (let a = this.next(); a; a = this.next()) out.push(...a);
    return out;
  }

  /** TLS came up after `start_tls`: a fresh decoder (no plaintext byte survives) and a new welcome. */
  tlsEstablished(): ServerConnectionAction[] {
    if (this.current !== 'upgrading') return [];
    this.tls = true;
    this.current = 'open';
    this.decoder = new FrameDecoder({ maxFrameBytes: this.opts.maxFrameBytes });
    return [{ type: 'send', frame: this.welcome() }];
  }

  /** The adapter closed the connection (timeout, shutdown, peer gone): nothing more is decoded. */
  closed(): void {
    this.current = 'closed';
    this.decoder = new FrameDecoder({ maxFrameBytes: this.opts.maxFrameBytes });
  }

  /**
   * What an outgoing session frame becomes on the wire: sealed inside an established channel, as is
   * otherwise; `hold` while upgrading (after `starttls_ok` not one plaintext byte may follow, so the
   * frame waits for TLS). Once closed (no more input) the last frames — the error that closed it —
   * still go out; the adapter stops writing when it ends the socket.
   */
  wireFrame(frame: Frame): Frame | 'hold' {
    if (this.current === 'upgrading') return 'hold';
    const channel = this.opts.channel;
    return channel?.established && !isChannelFrame(frame) ? (channel.seal(frame) as unknown as Frame) : frame;
  }

  private close(reason: string): ServerConnectionAction[] {
    this.closed();
    return [{ type: 'close', reason }];
  }

  private judge(frame: Frame): ServerConnectionAction[] {
    const { channel } = this.opts;
    if (frame.type === 'starttls') {
      // STARTTLS belongs before the secure channel: once its handshake began, a plaintext
      // `starttls` can only be an injection trying to tear the session down.
      if (channel && channel.state !== 'wait_client_hello') {
        return [{ type: 'send', frame: errorFrame(PROTOCOL_ERRORS.badRequest, 'starttls after the secure channel handshake began; ignored', frame.id) }];
      }
      return this.upgrade();
    }
    if (channel) {
      if (!isChannelFrame(frame)) {
        // Unprotected chat frames are refused: before the handshake, and (an injection) after it.
        return [{ type: 'send', frame: errorFrame(PROTOCOL_ERRORS.channelError, channel.established ? 'unprotected frame refused inside the secure channel' : 'this server requires the secure channel: start with ch_hello', frame.id) }];
      }
      const actions = channel.handle(frame);
      const out: ServerConnectionAction[] = actions.send.map((f) => ({ type: 'send_channel', frame: f as unknown as Frame }));
      if (actions.established) out.push({ type: 'log', entry: { event: 'channel', ...channel.negotiated } });
      if (actions.error) {
        out.push({ type: 'log', entry: { event: 'channel_error', code: actions.error.details.channelCode, message: actions.error.message } });
        return [...out, ...this.close('channel error')];
      }
      for (const app of actions.deliver) out.push(...this.gate(app as Frame));
      return out;
    }
    return this.gate(frame);
  }

  /** `starttls-required`: no credentials before TLS. */
  private gate(frame: Frame): ServerConnectionAction[] {
    if (this.opts.profile.transport === 'starttls-required' && !this.tls && CREDENTIAL_FRAMES.has(frame.type)) {
      return [{ type: 'send', frame: errorFrame(PROTOCOL_ERRORS.tlsRequired, `send starttls before ${frame.type}: this server requires TLS`, frame.id) }];
    }
    return [{ type: 'dispatch', frame }];
  }

  private upgrade(): ServerConnectionAction[] {
    if (!this.starttlsOffered || this.tls) {
      return [{ type: 'send', frame: errorFrame(PROTOCOL_ERRORS.badRequest, this.tls ? 'TLS is already active' : 'this server does not offer STARTTLS') }];
    }
    if (this.decoder.pendingBytes > 0) {
      // Plaintext pipelined after STARTTLS would be treated as if it came over TLS
      // (the CVE-2011-0411 command-injection class): refuse and close.
      return [{ type: 'send', frame: errorFrame(PROTOCOL_ERRORS.badRequest, 'bytes after starttls before the TLS handshake; closing') }, ...this.close('starttls injection')];
    }
    this.current = 'upgrading';
    return [{ type: 'start_tls', frame: { type: 'starttls_ok' } }];
  }
}
