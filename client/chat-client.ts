/**
 * The chat client library used by the CLI client, the attack scenarios, the labs and the tests:
 * connect (plain or TLS, verifying the server per the profile), register, login, send, dm, and
 * events for what the server pushes. This class is the socket adapter: the connection's rules are
 * `connection-rules.ts`, requests in flight `pending-requests.ts`, socket errors
 * `socket-errors.ts`, logging in `auth-login.ts`.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { encodeFrame, type Frame } from '../core/frames.ts';
import { ERROR_CODES, SecchatError } from '../core/errors.ts';
import { TLS_VERSIONS, versionRank, type Profile, type TlsVersion } from '../core/profile.ts';
import { authenticate } from './auth-login.ts';
import { verifyCertificatePem, verifyServerCertificate, type ClientTrust } from '../core/tls/certificate-verification.ts';
import { clientTlsOptions, negotiatedOf, type NegotiatedTls } from '../core/tls/node-options.ts';
import { ChannelClient, type Negotiated as ChannelNegotiated } from '../core/channel/index.ts';
import { startKeepalive } from './keepalive.ts';
import { ClientConnectionRules } from './connection-rules.ts';
import { PendingRequests } from './pending-requests.ts';
import { CLOSED_BEFORE_TLS, wrapSocketError } from './socket-errors.ts';

export { CLOSED_BEFORE_TLS } from './socket-errors.ts';

/** Default time to connect, handshake and receive the welcome frame, in ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Frames {@link ChatClient.received} keeps (the newest); older ones are dropped in batches. */
export const MAX_RECEIVED_FRAMES = 10_000;

/** Default time to wait for the answer to one request, in ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Options of {@link ChatClient.connect}. */
export interface ChatClientOptions {
  profile: Profile;
  host: string;
  port: number;
  /** CA certificates and pin the client trusts (see core/tls/certificate-verification.ts resolveTrust). */
  trust: ClientTrust;
  /** Name checked against the certificate; defaults to `host`. */
  servername?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Receives NSS key log lines for Wireshark. */
  keylog?: (line: Buffer) => void;
}

/**
 * A connected chat client. Events: `frame` (every frame from the server), `msg`, `dm`, `joined`,
 * `left`, `error` (SecchatError), `close`.
 */
export class ChatClient extends EventEmitter {
  /** Negotiated TLS parameters, or null over plaintext. */
  negotiated: NegotiatedTls | null = null;
  /** The server's welcome frame. */
  welcome: Frame | null = null;
  username: string | null = null;
  /** Handshakes that failed before a fallback retry (maxVersion tried, error). */
  readonly fallbackAttempts: Array<{ maxVersion: TlsVersion; error: string }> = [];
  /** The secure channel's negotiated parameters, or null when the profile has none. */
  channelNegotiated: ChannelNegotiated | null = null;
  /** Unprotected frames dropped because they arrived inside the established secure channel. */
  droppedUnprotected = 0;
  private channel: ChannelClient | null = null;
  /** The current connection attempt's rules: welcome, STARTTLS, the trust gate (client/connection-rules.ts). */
  private rules!: ClientConnectionRules;
  /** While opening: what the rules' start_tls, ready and fail actions do. */
  private opening: { startTls: () => void; ready: (welcome: Frame) => void; fail: (err: Error) => void } | null = null;
  /** Frames received, in order — the newest {@link MAX_RECEIVED_FRAMES} at least (tests and scenarios read it). */
  readonly received: Frame[] = [];
  private socket!: net.Socket;
  /** Requests awaiting their answer (client/pending-requests.ts). */
  private readonly requests: PendingRequests;
  private closedErr: Error | null = null;
  /** The profile's auth section: login() never goes below it (client/auth-login.ts). */
  private authPolicy: Profile['auth'] = { storage: 'scrypt', method: 'password' };
  private keepalive: NodeJS.Timeout | null = null;
  /** The current TLS socket finished its handshake (a close before that is a refusal, not a hang-up). */
  private tlsUp = false;
  /** The current TLS socket was opened on a new TCP connection (transport tls), not after STARTTLS. */
  private tlsOnFreshTcp = false;

  private constructor(requestTimeoutMs: number) {
    super();
    this.requests = new PendingRequests(requestTimeoutMs);
    this.on('error', () => {}); // errors are also delivered through rejected requests
  }

  /**
   * Connects, completes TLS (verifying the certificate per the profile) and waits for `welcome`.
   * @throws CertificateError when the certificate is refused (code says why);
   *   SecchatError TLS_HANDSHAKE / NETWORK / TIMEOUT otherwise
   */
  static async connect(opts: ChatClientOptions): Promise<ChatClient> {
    const client = new ChatClient(opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    client.authPolicy = opts.profile.auth;
    await client.open(opts);
    return client;
  }

  /**
   * Opens the transport the profile asks for. With `client.fallback`, a failed TLS handshake is
   * retried with the next lower maximum version down to `tls.minVersion` — the browser
   * "fallback dance" that POODLE exploited (node's client cannot send TLS_FALLBACK_SCSV).
   */
  private async open(opts: ChatClientOptions): Promise<void> {
    const p = opts.profile;
    let maxVersion = p.tls.maxVersion;
    for (;;) {
      try {
        await this.openOnce(opts, maxVersion);
        if (p.channel.keyExchange !== 'none') await this.openChannel(opts);
        return;
      } catch (err) {
        const canFallBack = p.transport !== 'plain' && p.client.fallback && versionRank(maxVersion) > versionRank(p.tls.minVersion);
        if (!canFallBack || !(err instanceof SecchatError) || (err.code !== ERROR_CODES.TLS_HANDSHAKE && err.code !== ERROR_CODES.NETWORK) || this.welcome) throw err;
        this.fallbackAttempts.push({ maxVersion, error: err.message });
        maxVersion = TLS_VERSIONS[versionRank(maxVersion) - 1];
        this.closedErr = null;
      }
    }
  }

  /** One connection attempt: TCP, TLS or STARTTLS, verification, and the welcome frame. */
  private openOnce(opts: ChatClientOptions, maxVersion: TlsVersion): Promise<void> {
    const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const name = opts.servername ?? opts.host;
    const profile = maxVersion === opts.profile.tls.maxVersion ? opts.profile : { ...opts.profile, tls: { ...opts.profile.tls, maxVersion } };
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.opening = null;
        this.socket?.destroy();
        reject(err);
      };
      // A plaintext client at a TLS port waits for a welcome while the server waits for a
      // ClientHello: neither says anything, so the silence itself is the hint.
      const hint = opts.profile.transport === 'tls' ? '' : ` (the server said nothing: if it runs transport tls, this profile's transport ${opts.profile.transport} cannot talk to it — use a profile with transport: tls)`;
      const timer = setTimeout(() => fail(new SecchatError(ERROR_CODES.TIMEOUT, `no welcome from ${opts.host}:${opts.port} within ${timeoutMs} ms${hint}`)), timeoutMs);

      // TLS on a fresh connection (transport tls) or on the existing one (after STARTTLS).
      const startTls = (raw?: net.Socket) => {
        const s = tls.connect({ ...(raw ? { socket: raw } : { host: opts.host, port: opts.port }), ...clientTlsOptions(profile, name, opts.trust) });
        if (opts.keylog) s.on('keylog', opts.keylog);
        this.tlsUp = false;
        // Only a fresh connection can have been refused at accept: a STARTTLS server has spoken.
        this.tlsOnFreshTcp = !raw;
        s.once('secureConnect', () => {
          this.tlsUp = true;
          try {
            verifyServerCertificate(s, profile, name, opts.trust);
          } catch (err) {
            fail(err as Error);
            return;
          }
          this.negotiated = negotiatedOf(s);
          this.rules.tlsEstablished();
        });
        this.attach(s, fail);
      };

      this.opening = {
        startTls: () => {
          // The raw socket belongs to TLS from here; its plaintext was dropped with the rules' decoder.
          const raw = this.socket;
          raw.removeAllListeners('data');
          startTls(raw);
        },
        ready: (welcome) => {
          if (settled) return;
          this.welcome = welcome;
          // Keeps a reading-only client under the server's idle timeout (client/keepalive.ts).
          this.keepalive ??= startKeepalive(() => {
            if (!this.closed && !this.socket.writableEnded && (!this.channel || this.channel.established)) this.sendFrame({ type: 'ping' });
          }, welcome.idleTimeoutMs);
          settled = true;
          clearTimeout(timer);
          this.opening = null;
          resolve();
        },
        fail,
      };

      this.rules = new ClientConnectionRules({ profile: opts.profile, tls: opts.profile.transport === 'tls' });
      if (opts.profile.transport === 'tls') startTls();
      else this.attach(net.connect({ host: opts.host, port: opts.port }), fail);
    });
  }

  /**
   * Runs the secure channel handshake (docs/channel.md) over the open connection. The server's
   * channel certificate is checked with the same rules as a TLS certificate.
   * @throws SecchatError CHANNEL (details.channelCode; certificate refusals name the reason), TIMEOUT
   */
  private openChannel(opts: ChatClientOptions): Promise<void> {
    const name = opts.servername ?? opts.host;
    const channel = new ChannelClient({
      profileChannel: opts.profile.channel,
      verifyCertificate: (pem) => verifyCertificatePem(pem, opts.profile, name, opts.trust),
    });
    this.channel = channel;
    const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new SecchatError(ERROR_CODES.TIMEOUT, `secure channel handshake did not finish within ${timeoutMs} ms`)), timeoutMs);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.off('channel', onEvent);
        this.off('close', onClose);
        if (err) {
          this.socket.destroy();
          reject(err);
        } else resolve();
      };
      const onEvent = (e: { established?: boolean; error?: Error }) => {
        if (e.error) finish(e.error);
        else if (e.established) {
          this.channelNegotiated = channel.negotiated ?? null;
          finish();
        }
      };
      const onClose = () => finish(this.closedErr ?? new SecchatError(ERROR_CODES.CHANNEL, 'the connection closed during the secure channel handshake', { channelCode: 'closed' }));
      this.on('channel', onEvent);
      this.on('close', onClose);
      for (const f of this.rules.startChannel(channel)) this.socket.write(encodeFrame(f));
    });
  }

  /** Makes `s` the connection: frames from it, errors and close from it. */
  private attach(s: net.Socket, failOpen: (err: Error) => void): void {
    this.socket = s;
    s.on('data', (chunk: Buffer) => {
      if (this.socket === s) this.onData(chunk);
    });
    s.on('error', (err) => {
      const wrapped = wrapSocketError(err, !this.welcome, s instanceof tls.TLSSocket && this.tlsOnFreshTcp && !this.tlsUp);
      this.closedErr ??= wrapped;
      failOpen(wrapped);
      this.emit('error', wrapped);
    });
    s.on('close', () => {
      if (this.socket !== s && !s.destroyed) return;
      if (this.keepalive) clearInterval(this.keepalive);
      const beforeTls = s instanceof tls.TLSSocket && this.tlsOnFreshTcp && !this.tlsUp;
      const err =
        this.closedErr ??
        new SecchatError(this.welcome ? ERROR_CODES.NETWORK : ERROR_CODES.TLS_HANDSHAKE, this.welcome ? 'connection closed by the server' : beforeTls ? CLOSED_BEFORE_TLS : 'connection closed before the welcome (handshake refused or reset)');
      failOpen(err);
      this.requests.rejectAll(err);
      if (this.welcome) this.emit('close');
    });
  }

  /** Carries out the connection rules' actions for the bytes received (client/connection-rules.ts). */
  private onData(chunk: Buffer): void {
    const rules = this.rules;
    rules.receive(chunk);
    for (let actions = rules.next(); actions; actions = rules.next()) {
      for (const a of actions) {
        switch (a.type) {
          case 'frame':
            this.onFrame(a.frame);
            break;
          case 'send':
            this.socket.write(encodeFrame(a.frame));
            break;
          case 'dropped':
            this.droppedUnprotected++;
            break;
          case 'start_tls':
            this.opening?.startTls();
            return;
          case 'ready':
            this.opening?.ready(a.welcome);
            break;
          case 'fail':
            this.opening?.fail(a.error);
            return;
          case 'error':
            this.emit('error', a.error);
            break;
          case 'fatal':
            // Reported once; the stream is unusable, so the connection ends now.
            this.closedErr ??= a.error;
            this.emit('error', a.error);
            this.socket.destroy();
            return;
          case 'channel':
            if (a.error) {
              this.closedErr ??= a.error;
              this.emit('channel', { error: a.error });
              this.emit('error', a.error);
              this.socket.destroy();
              return;
            }
            this.emit('channel', { established: true });
            break;
        }
      }
    }
  }

  /** A chat frame arrived (opened from the channel when there is one). */
  private onFrame(frame: Frame): void {
    this.received.push(frame);
    // A long interactive session must not grow without bound: keep the newest frames only.
    if (this.received.length > 2 * MAX_RECEIVED_FRAMES) this.received.splice(0, this.received.length - MAX_RECEIVED_FRAMES);
    const answered = this.requests.answer(frame);
    this.emit('frame', frame);
    if (!answered) this.emit(frame.type, frame);
  }

  /** Sends a frame without waiting for an answer. */
  sendFrame(frame: Frame): void {
    if (this.socket.destroyed) throw this.closedErr ?? new SecchatError(ERROR_CODES.NETWORK, 'connection is closed');
    if (this.channel && !this.channel.established) {
      throw new SecchatError(ERROR_CODES.CHANNEL, 'the secure channel is not established yet: nothing is sent in the clear', { channelCode: 'not_established' });
    }
    const wire = this.channel ? (this.channel.seal(frame) as unknown as Frame) : frame;
    this.socket.write(encodeFrame(wire));
  }

  /**
   * Sends a request with a fresh `id` and waits for the frame that answers it.
   * @throws SecchatError SERVER (details.code = the protocol error code), TIMEOUT or NETWORK
   */
  request(frame: Frame): Promise<Frame> {
    return this.requests.request(frame, (f) => this.sendFrame(f));
  }

  /** Creates an account. @throws SecchatError SERVER username_taken, invalid_username... */
  async register(username: string, password: string): Promise<void> {
    await this.request({ type: 'register', username, password });
  }

  /**
   * Logs in, with the password or by challenge–response as the welcome's `auth` says (never below
   * the profile's own auth settings; see client/auth-login.ts).
   * Frames the server pushes right behind the login ok (stored offline dms) are emitted before
   * this promise resumes its caller: attach `dm`/`msg` listeners before calling, or read {@link received}.
   * @returns the users online. @throws SecchatError SERVER bad_credentials...; PROTOCOL on a downgrade
   */
  async login(username: string, password: string): Promise<string[]> {
    const ok = await authenticate((f) => this.request(f), this.welcome, this.authPolicy, username, password);
    this.username = String(ok.username ?? username);
    return Array.isArray(ok.users) ? (ok.users as string[]) : [];
  }

  /**
   * Refuses locally a message the server would refuse (its limit comes in `welcome.limits`), so
   * an over-long line never costs the connection.
   * @throws SecchatError USAGE naming both lengths
   */
  private checkLength(text: string): void {
    const max = (this.welcome?.limits as { maxMessageChars?: number } | undefined)?.maxMessageChars;
    if (typeof max === 'number' && text.length > max) {
      throw new SecchatError(ERROR_CODES.USAGE, `message of ${text.length} characters is longer than the server's limit of ${max}; not sent`, { maxMessageChars: max });
    }
  }

  /**
   * Broadcasts a message to the room.
   * @throws SecchatError USAGE (over the server's length limit), SERVER (e.g. not_logged_in), TIMEOUT
   */
  async send(text: string): Promise<void> {
    this.checkLength(text);
    await this.request({ type: 'msg', text });
  }

  /**
   * Sends a direct message.
   * @returns `stored: true` when the recipient is offline and the server kept it for their next login (docs/protocol.md)
   * @throws SecchatError SERVER unknown_user, mailbox_full, message_too_long, accounts_busy (the server could not store it for an offline recipient; retry)
   */
  async dm(to: string, text: string): Promise<{ stored: boolean }> {
    this.checkLength(text);
    // Field order is part of the wire format: text first (docs/protocol.md).
    const ok = await this.request({ text, to, type: 'dm' } as Frame);
    return { stored: ok.stored === true }; // true: `to` is offline and gets it at their next login
  }

  /** Lists users online. */
  async users(): Promise<string[]> {
    const f = await this.request({ type: 'users' });
    return (f.users as string[]) ?? [];
  }

  /**
   * Resolves with the first frame (already received or future) that matches.
   * @throws SecchatError TIMEOUT after `timeoutMs`, NETWORK if the connection closes first
   */
  waitFor(match: (f: Frame) => boolean, timeoutMs = this.requests.timeoutMs): Promise<Frame> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<Frame>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.off('frame', onFrame);
        this.off('close', onClose);
      };
      const onFrame = (f: Frame) => {
        if (match(f)) {
          cleanup();
          resolve(f);
        }
      };
      const onClose = () => {
        cleanup();
        reject(this.closedErr ?? new SecchatError(ERROR_CODES.NETWORK, 'connection closed while waiting'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new SecchatError(ERROR_CODES.TIMEOUT, `nothing matching arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('frame', onFrame);
      this.on('close', onClose);
    });
  }

  /** Says goodbye and closes; never throws. */
  async quit(): Promise<void> {
    try {
      await this.request({ type: 'quit' });
    } catch {
      /* the server may close first */
    }
    this.close();
  }

  /** Closes the connection at once. */
  close(): void {
    this.socket?.end();
    setTimeout(() => this.socket?.destroy(), 500).unref();
  }

  /** Local address:port of the connection (what a proxy or the server sees as the peer). */
  get localAddress(): string | null {
    return this.socket?.localPort ? `${this.socket.localAddress}:${this.socket.localPort}` : null;
  }

  /** True once the connection is closed. */
  get closed(): boolean {
    return !this.socket || this.socket.destroyed;
  }
}
