/**
 * The chat client library used by the CLI client, the attack scenarios, the labs and the tests:
 * connect (plain or TLS, verifying the server per the profile), register, login, send, dm, and
 * events for what the server pushes.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { FrameDecoder, encodeFrame, type Frame } from '../core/frames.ts';
import { ERROR_CODES, SecchatError, describeError } from '../core/errors.ts';
import type { Profile } from '../core/profile.ts';
import { clientTlsOptions, negotiatedOf, verifyServerCertificate, type ClientTrust, type NegotiatedTls } from '../core/tls-options.ts';
import { startKeepalive } from './keepalive.ts';

/** Default time to connect, handshake and receive the welcome frame, in ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Default time to wait for the answer to one request, in ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Options of {@link ChatClient.connect}. */
export interface ChatClientOptions {
  profile: Profile;
  host: string;
  port: number;
  /** CA certificates and pin the client trusts (see core/tls-options.ts resolveTrust). */
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
  /** Every frame received, in order (tests and scenarios read it). */
  readonly received: Frame[] = [];
  private socket!: net.Socket;
  private readonly decoder = new FrameDecoder();
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (f: Frame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly requestTimeoutMs: number;
  private closedErr: Error | null = null;
  private keepalive: NodeJS.Timeout | null = null;

  private constructor(requestTimeoutMs: number) {
    super();
    this.requestTimeoutMs = requestTimeoutMs;
    this.on('error', () => {}); // errors are also delivered through rejected requests
  }

  /**
   * Connects, completes TLS (verifying the certificate per the profile) and waits for `welcome`.
   * @throws CertificateError when the certificate is refused (code says why);
   *   SecchatError TLS_HANDSHAKE / NETWORK / TIMEOUT otherwise
   */
  static async connect(opts: ChatClientOptions): Promise<ChatClient> {
    const client = new ChatClient(opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
    await client.open(opts);
    return client;
  }

  private open(opts: ChatClientOptions): Promise<void> {
    const timeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const name = opts.servername ?? opts.host;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.socket?.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new SecchatError(ERROR_CODES.TIMEOUT, `no welcome from ${opts.host}:${opts.port} within ${timeoutMs} ms`)), timeoutMs);
      const onWelcome = (f: Frame) => {
        if (f.type !== 'welcome' || settled) return;
        settled = true;
        clearTimeout(timer);
        this.welcome = f;
        this.off('frame', onWelcome);
        // Keeps a reading-only client under the server's idle timeout (client/keepalive.ts).
        this.keepalive = startKeepalive(() => {
          if (!this.closed && !this.socket.writableEnded) this.sendFrame({ type: 'ping' });
        }, f.idleTimeoutMs);
        resolve();
      };
      this.on('frame', onWelcome);

      if (opts.profile.transport === 'plain') {
        this.socket = net.connect({ host: opts.host, port: opts.port });
      } else if (opts.profile.transport === 'tls') {
        const s = tls.connect({ host: opts.host, port: opts.port, ...clientTlsOptions(opts.profile, name, opts.trust) });
        if (opts.keylog) s.on('keylog', opts.keylog);
        s.once('secureConnect', () => {
          try {
            verifyServerCertificate(s, opts.profile, name, opts.trust);
          } catch (err) {
            fail(err as Error);
            return;
          }
          this.negotiated = negotiatedOf(s);
        });
        this.socket = s;
      } else {
        fail(new SecchatError(ERROR_CODES.USAGE, `transport ${opts.profile.transport} is not supported by this client yet`));
        return;
      }
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
      this.socket.on('error', (err) => {
        const wrapped = wrapSocketError(err, !this.welcome);
        this.closedErr ??= wrapped;
        fail(wrapped);
        this.emit('error', wrapped);
      });
      this.socket.on('close', () => {
        if (this.keepalive) clearInterval(this.keepalive);
        const err = this.closedErr ?? new SecchatError(ERROR_CODES.NETWORK, 'connection closed by the server');
        fail(err);
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(err);
        }
        this.pending.clear();
        this.emit('close');
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      let frame: Frame | null;
      try {
        frame = this.decoder.next();
      } catch (err) {
        this.emit('error', err);
        if ((err as SecchatError).details?.fatal) this.socket.destroy();
        continue;
      }
      if (!frame) return;
      this.received.push(frame);
      const re = typeof frame.re === 'number' ? this.pending.get(frame.re) : undefined;
      if (re) {
        this.pending.delete(frame.re as number);
        clearTimeout(re.timer);
        if (frame.type === 'error') re.reject(serverError(frame));
        else re.resolve(frame);
      }
      this.emit('frame', frame);
      if (!re) this.emit(frame.type, frame);
    }
  }

  /** Sends a frame without waiting for an answer. */
  sendFrame(frame: Frame): void {
    if (this.socket.destroyed) throw this.closedErr ?? new SecchatError(ERROR_CODES.NETWORK, 'connection is closed');
    this.socket.write(encodeFrame(frame));
  }

  /**
   * Sends a request with a fresh `id` and waits for the frame that answers it.
   * @throws SecchatError SERVER (details.code = the protocol error code), TIMEOUT or NETWORK
   */
  request(frame: Frame): Promise<Frame> {
    const id = this.nextId++;
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SecchatError(ERROR_CODES.TIMEOUT, `no answer to ${frame.type} within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        this.sendFrame({ ...frame, id });
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      }
    });
  }

  /** Creates an account. @throws SecchatError SERVER username_taken, invalid_username... */
  async register(username: string, password: string): Promise<void> {
    await this.request({ type: 'register', username, password });
  }

  /** Logs in. @returns the users online. @throws SecchatError SERVER bad_credentials... */
  async login(username: string, password: string): Promise<string[]> {
    const ok = await this.request({ type: 'login', username, password });
    this.username = String(ok.username ?? username);
    return Array.isArray(ok.users) ? (ok.users as string[]) : [];
  }

  /** Broadcasts a message to the room. */
  async send(text: string): Promise<void> {
    await this.request({ type: 'msg', text });
  }

  /**
   * Sends a direct message.
   * @returns `stored: true` when the recipient is offline and the server kept it for their next login (docs/protocol.md)
   * @throws SecchatError SERVER unknown_user, mailbox_full, message_too_long
   */
  async dm(to: string, text: string): Promise<{ stored: boolean }> {
    const ok = await this.request({ type: 'dm', to, text });
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
  waitFor(match: (f: Frame) => boolean, timeoutMs = this.requestTimeoutMs): Promise<Frame> {
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

  /** True once the connection is closed. */
  get closed(): boolean {
    return !this.socket || this.socket.destroyed;
  }
}

function serverError(frame: Frame): SecchatError {
  return new SecchatError(ERROR_CODES.SERVER, `server refused: ${String(frame.code)}: ${String(frame.message ?? '')}`, { code: frame.code });
}

/** Maps a socket error to a SecchatError; errors before the welcome are handshake failures. */
function wrapSocketError(err: Error, duringHandshake: boolean): Error {
  if (err instanceof SecchatError) return err;
  const d = describeError(err);
  if (duringHandshake && /SSL|TLS|alert|handshake|wrong version|protocol/i.test(`${d.code} ${d.message}`)) {
    return new SecchatError(ERROR_CODES.TLS_HANDSHAKE, `TLS handshake failed: ${d.message}`, { opensslCode: d.code }, { cause: err });
  }
  return new SecchatError(ERROR_CODES.NETWORK, `connection failed: ${d.message}`, { errno: d.code }, { cause: err });
}
