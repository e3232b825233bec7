/**
 * The chat server's network adapter: listens (plain TCP or TLS per the profile), frames bytes
 * with core/frames.ts, and hands frames to server/session.ts. Event-driven: one process serves
 * many clients; a broken client gets an error frame and a close while the others carry on.
 */
import net from 'node:net';
import tls from 'node:tls';
import { FrameDecoder, encodeFrame, type Frame } from '../core/frames.ts';
import { describeError, ProtocolError } from '../core/errors.ts';
import { PROTOCOL_ERRORS, PROTOCOL_VERSION, errorFrame } from '../core/protocol.ts';
import type { Profile } from '../core/profile.ts';
import { negotiatedOf, serverTlsOptions, type CertKeyPem, type NegotiatedTls } from '../core/tls/node-options.ts';
import { ChatHub, ChatSession, type ConnectionPort } from './session.ts';
import { UserStore } from './user-store.ts';
import { MAX_USERNAME_CHARS } from '../core/usernames.ts';
import { ConnectionCounter, addressKey } from './connection-limits.ts';
import { ChallengeAuth, DEFAULT_CHALLENGE_TTL_MS } from './challenge-auth.ts';
import { ChannelServer, isChannelFrame } from '../core/channel/index.ts';

/**
 * Limits and timeouts, with units in the names. Every field has the documented default below
 * (docs/limits.md explains each one and what a client sees when it hits it).
 *
 * Memory bound: each connection holds at most maxFrameBytes of unparsed input, about
 * maxPendingFramesPerConnection decoded frames, and maxQueueBytes (+ one frame) of output, so
 * the server's buffers stay under maxConnections × (maxFrameBytes + maxQueueBytes + TLS state).
 */
export interface ServerLimits {
  /** Largest frame accepted, in bytes including the newline. Default 65,536 (64 KiB). */
  maxFrameBytes: number;
  /** Longest chat message, in characters (UTF-16 code units). Default 4,096. */
  maxMessageChars: number;
  /** Shortest password at registration, in characters. Default 8. */
  minPasswordChars: number;
  /** Time allowed for the TLS handshake, in ms. Default 10,000. */
  handshakeTimeoutMs: number;
  /** Time allowed between connecting and logging in, in ms. Default 30,000. */
  loginTimeoutMs: number;
  /** A connection that sends no frame for this long is closed, in ms (clients ping; see welcome.idleTimeoutMs). Default 300,000. */
  idleTimeoutMs: number;
  /** Bytes queued to one client before it is disconnected as a slow consumer (slow_consumer). Default 1,048,576 (1 MiB). */
  maxQueueBytes: number;
  /** Open connections in total (TCP, counted from accept); further ones are closed at once. Default 2,048. */
  maxConnections: number;
  /** Open connections per client address (IPv4 address or IPv6 /64), counted from TCP accept. Default 16. */
  maxConnectionsPerIp: number;
  /** Failed logins per account per minute; further attempts get rate_limited until the minute slides. Default 5. */
  maxLoginAttemptsPerAccountPerMinute: number;
  /** Login and register attempts (each costs a password hash) per client address per minute. Default 30. */
  maxLoginAttemptsPerIpPerMinute: number;
  /** Longest username after NFKC and case folding, in characters. Default 32. */
  maxUsernameChars: number;
  /** Direct messages stored for one offline user; further ones get mailbox_full. Default 1,000. */
  maxOfflineMessagesPerUser: number;
  /** Frames read from one connection and not yet handled before the server stops reading from it. Default 64. */
  maxPendingFramesPerConnection: number;
  /** Lifetime of a login challenge (auth.method: challenge), in ms. Default 30,000. */
  challengeTtlMs: number;
}

/** The defaults of {@link ServerLimits}. */
export const DEFAULT_LIMITS: ServerLimits = {
  maxFrameBytes: 64 * 1024,
  maxMessageChars: 4096,
  minPasswordChars: 8,
  handshakeTimeoutMs: 10_000,
  loginTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  maxQueueBytes: 1024 * 1024,
  maxConnections: 2048,
  maxConnectionsPerIp: 16,
  maxLoginAttemptsPerAccountPerMinute: 5,
  maxLoginAttemptsPerIpPerMinute: 30,
  maxUsernameChars: MAX_USERNAME_CHARS,
  maxOfflineMessagesPerUser: 1000,
  maxPendingFramesPerConnection: 64,
  challengeTtlMs: DEFAULT_CHALLENGE_TTL_MS,
};

/** After telling a slow consumer why, how long its socket may drain before it is destroyed, in ms. */
export const SLOW_CONSUMER_GRACE_MS = 1000;

/**
 * Checks a complete limits object.
 * @throws RangeError naming every option that is not a positive integer, and naming both
 *   options when a message of maxMessageChars could not fit in a frame of maxFrameBytes
 */
export function validateLimits(limits: ServerLimits): void {
  const bad = Object.entries(limits).filter(([, v]) => !Number.isSafeInteger(v) || (v as number) < 1).map(([k, v]) => `${k} (got ${String(v)})`);
  if (bad.length) throw new RangeError(`server limits must be positive integers: ${bad.join(', ')}`);
  // JSON escapes a control character as 6 bytes (\u0000); a legal message must never be fatal.
  const worstFrame = limits.maxMessageChars * 6 + 512;
  if (worstFrame > limits.maxFrameBytes) {
    throw new RangeError(`maxMessageChars (${limits.maxMessageChars}) needs maxFrameBytes >= ${worstFrame} (got ${limits.maxFrameBytes}): a message of the allowed length must fit in a frame`);
  }
  // Outgoing frames carry a little more than the incoming one (from, ts): a reading client must
  // never be dropped because one legal frame alone overflowed its queue.
  if (limits.maxQueueBytes < 2 * limits.maxFrameBytes) {
    throw new RangeError(`maxQueueBytes (${limits.maxQueueBytes}) must be at least twice maxFrameBytes (${limits.maxFrameBytes})`);
  }
}

/** One structured log entry. Never contains passwords or keys. */
export interface ServerLogEntry {
  event: string;
  peer?: string;
  [field: string]: unknown;
}

/** Options of {@link startChatServer}. */
export interface ChatServerOptions {
  profile: Profile;
  /** Certificate and key the server presents (required unless transport is plain). */
  identity?: CertKeyPem;
  /** SQLite file of the accounts (created if missing). */
  dbPath: string;
  /** Interface to bind; loopback unless the user asks otherwise. */
  host?: string;
  /** TCP port; 0 picks a free one. */
  port?: number;
  limits?: Partial<ServerLimits>;
  /** Receives log entries; default: none. */
  log?: (entry: ServerLogEntry) => void;
  /** Receives NSS key log lines (node's 'keylog' event) for Wireshark. */
  keylog?: (line: Buffer) => void;
}

/** A running chat server. */
export interface ChatServer {
  readonly host: string;
  readonly port: number;
  /** The SQLite file of the accounts (what an attacker who steals the database copies). */
  readonly dbPath: string;
  readonly hub: ChatHub;
  /** Current open connections. */
  connectionCount(): number;
  /** Tells every client, closes every connection, closes the database. */
  close(): Promise<void>;
}

/**
 * Starts a chat server.
 * @returns once listening; `port` is the bound port
 * @throws SecchatError when the TLS settings or database are unusable; EADDRINUSE etc. from listen
 */
export async function startChatServer(opts: ChatServerOptions): Promise<ChatServer> {
  const { profile } = opts;
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  validateLimits(limits);
  const log = opts.log ?? (() => {});
  const users = new UserStore(opts.dbPath, profile.auth.storage);
  // auth.method: challenge — logins carry a proof instead of the password (server/challenge-auth.ts).
  const challenges = profile.auth.method === 'challenge' ? new ChallengeAuth(users, profile.auth.storage, { ttlMs: limits.challengeTtlMs }) : null;
  const hub = new ChatHub(users, limits, challenges);
  const perAddress = new ConnectionCounter(limits.maxConnectionsPerIp);
  const accepted = new Set<net.Socket>(); // raw TCP sockets, including those still handshaking
  hub.onEvent = (event, detail) => log({ event, ...detail });
  const sockets = new Set<net.Socket>();

  // STARTTLS upgrades go through a tls.Server that never listens: emitting 'connection' with the
  // plaintext socket gives the upgraded socket the server's full semantics (handshake timeout,
  // tlsClientError, and TLS errors surfacing as 'error' once the session is up).
  const starttls: StartTls | null =
    profile.transport === 'starttls' || profile.transport === 'starttls-required' ? createStartTls(profile, requireIdentity(opts), limits, opts.keylog) : null;
  const onSocket = (socket: net.Socket, tlsInfo: NegotiatedTls | null) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, hub, limits, profile, tlsInfo, log, starttls, opts.identity);
  };

  // Per-address cap, counted at TCP accept before any TLS work (server/connection-limits.ts).
  // Returns false, having closed the socket, when the address is over its cap.
  const admit = (s: net.Socket, notice: boolean): boolean => {
    const key = addressKey(s.remoteAddress);
    if (!perAddress.tryAdd(key)) {
      log({ event: 'too_many_connections', peer: `${s.remoteAddress}:${s.remotePort}`, limit: limits.maxConnectionsPerIp });
      // Over TLS nothing can be said before a handshake we refuse to spend CPU on: just close.
      if (notice) s.end(encodeFrame(errorFrame(PROTOCOL_ERRORS.tooManyConnections, `more than ${limits.maxConnectionsPerIp} connections from your address`)));
      else s.destroy();
      return false;
    }
    // Chat is interactive: Nagle's algorithm with delayed ACKs holds small frames up to ~40 ms.
    s.setNoDelay(true);
    accepted.add(s);
    s.once('close', () => {
      perAddress.remove(key);
      accepted.delete(s);
    });
    return true;
  };

  let server: net.Server;
  if (profile.transport !== 'tls') {
    server = net.createServer((s) => admit(s, true) && onSocket(s, null));
  } else {
    const tlsServer = tls.createServer({ ...serverTlsOptions(profile, requireIdentity(opts)), handshakeTimeout: limits.handshakeTimeoutMs });
    // The negotiated parameters only feed the log; reading them costs ~30 µs a handshake (measured).
    tlsServer.on('secureConnection', (s: tls.TLSSocket) => onSocket(s, opts.log ? negotiatedOf(s) : null));
    tlsServer.on('tlsClientError', (err, s) => {
      log({ event: 'tls_error', peer: `${s.remoteAddress}:${s.remotePort}`, ...describeError(err) });
      s.destroy();
    });
    if (opts.keylog) tlsServer.on('keylog', (line) => opts.keylog!(line));
    // Prepended: runs before node wraps the socket in TLS, so a refused one costs no handshake.
    tlsServer.prependListener('connection', (s: net.Socket) => void admit(s, false));
    server = tlsServer;
  }
  server.on('connection', (s: net.Socket) => {
    s.on('error', () => {}); // peers that reset mid-handshake must not crash the server
  });
  server.maxConnections = limits.maxConnections;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as net.AddressInfo;
  log({ event: 'listening', host: addr.address, port: addr.port, transport: profile.transport, profile: profile.name });

  let closing: Promise<void> | null = null;
  return {
    host: addr.address,
    port: addr.port,
    dbPath: opts.dbPath,
    hub,
    connectionCount: () => sockets.size,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        hub.closeAll(errorFrame(PROTOCOL_ERRORS.serverShutdown, 'server is shutting down'), 'shutdown');
        // Connections not logged in get the notice too (closeAll reached only the logged-in ones).
        for (const s of sockets) closeWithNotice(s, errorFrame(PROTOCOL_ERRORS.serverShutdown, 'server is shutting down'));
        setTimeout(() => {
          for (const s of sockets) s.destroy();
          for (const s of accepted) s.destroy(); // still handshaking: would hold close() for handshakeTimeoutMs
        }, 200).unref();
      }).then(() => users.close());
      return closing;
    },
  };
}

/**
 * A broadcast hands the same frame object to every recipient's port: serialize it once and write
 * the same Buffer to every socket (TLS still encrypts per connection; JSON.stringify does not repeat).
 */
const encodedFrames = new WeakMap<Frame, Buffer>();
function encodeOnce(frame: Frame): Buffer {
  let buf = encodedFrames.get(frame);
  if (!buf) {
    buf = encodeFrame(frame);
    encodedFrames.set(frame, buf);
  }
  return buf;
}

/**
 * Output batching: port.send corks a socket and every socket corked during one event-loop turn
 * is uncorked once, in the turn's check phase (setImmediate) — after every connection that was
 * readable this turn has been handled. So a recipient gets all the frames of a turn as one write
 * (one TLS record, one syscall) instead of one per frame: measured on 2 cores at 1,000 clients,
 * about 1.5× the deliveries per second and 0.6× the p99 latency and server CPU per delivery of
 * uncorking after each callback (process.nextTick), at the cost of at most one loop turn of delay.
 */
const corked = new Set<net.Socket>();
let flushScheduled = false;
function flushCorked(): void {
  flushScheduled = false;
  for (const s of corked) if (!s.destroyed) s.uncork();
  corked.clear();
}
function corkUntilTurnEnds(socket: net.Socket): void {
  if (socket.writableCorked) return;
  socket.cork();
  corked.add(socket);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushCorked);
  }
}

/** Each served socket's port, so shutdown can reach connections that never logged in. */
const portOfSocket = new WeakMap<net.Socket, ConnectionPort>();

/** Sends `frame` through the socket's port and closes it (a socket with no port yet is just ended). */
function closeWithNotice(socket: net.Socket, frame: Frame): void {
  const port = portOfSocket.get(socket);
  if (!port) return void socket.end();
  port.send(frame);
  port.close('shutdown');
}

/** Upgrades a plaintext socket to TLS server-side; calls back once with the secure socket or an error. */
type StartTls = (raw: net.Socket, done: (err: Error | null, secure?: tls.TLSSocket) => void) => void;

function createStartTls(profile: Profile, identity: CertKeyPem, limits: ServerLimits, keylog?: (line: Buffer) => void): StartTls {
  const upgrader = tls.createServer({ ...serverTlsOptions(profile, identity), handshakeTimeout: limits.handshakeTimeoutMs });
  const waiting = new Map<string, (err: Error | null, secure?: tls.TLSSocket) => void>();
  const keyOf = (s: net.Socket) => `${s.remoteAddress}:${s.remotePort}`;
  const settle = (s: net.Socket, err: Error | null, secure?: tls.TLSSocket) => {
    const cb = waiting.get(keyOf(s));
    waiting.delete(keyOf(s));
    cb?.(err, secure);
  };
  upgrader.on('secureConnection', (secure: tls.TLSSocket) => settle(secure, null, secure));
  upgrader.on('tlsClientError', (err, secure) => {
    settle(secure, err);
    secure.destroy();
  });
  if (keylog) upgrader.on('keylog', (line) => keylog(line));
  return (raw, done) => {
    waiting.set(keyOf(raw), done);
    upgrader.emit('connection', raw);
  };
}

function requireIdentity(opts: ChatServerOptions): CertKeyPem {
  if (!opts.identity) throw new Error(`startChatServer: transport ${opts.profile.transport} needs an identity (certificate and key)`);
  return opts.identity;
}

/**
 * Wires one accepted socket to a session. For STARTTLS transports (`starttls` set), the welcome
 * advertises `starttls: true`; a `starttls` frame is answered with `starttls_ok` and the same
 * socket is then wrapped in TLS server-side. With a secure channel in the profile, `ch_*` frames
 * run its handshake and every chat frame travels sealed (docs/channel.md).
 */
function serveConnection(
  socket: net.Socket,
  hub: ChatHub,
  limits: ServerLimits,
  profile: Profile,
  tlsInfo: NegotiatedTls | null,
  log: (e: ServerLogEntry) => void,
  starttls: StartTls | null,
  identity?: CertKeyPem,
): void {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  let decoder = new FrameDecoder({ maxFrameBytes: limits.maxFrameBytes });
  let stream: net.Socket = socket; // becomes the TLSSocket after STARTTLS
  let closed = false;
  let batchOutput = false; // the welcome leaves at once: there is nothing to batch it with
  // The application-layer secure channel, when the profile asks for one.
  const channel = profile.channel.keyExchange === 'none' ? null : new ChannelServer({ profileChannel: profile.channel, serverCert: identity });
  const writeRaw = (frame: object) => {
    if (!stream.destroyed) stream.write(encodeFrame(frame as Frame));
  };
  const port: ConnectionPort = {
    peer,
    address: addressKey(socket.remoteAddress),
    send(frame: Frame, onWritten?: (written: boolean) => void) {
      if (closed || stream.destroyed) return void onWritten?.(false);
      // Sealing is per connection, so a sealed frame cannot share the broadcast's cached bytes.
      const buf = channel?.established && !isChannelFrame(frame) ? encodeFrame(channel.seal(frame) as unknown as Frame) : encodeOnce(frame);
      // Backpressure: writableLength counts every byte handed to this socket and not yet taken
      // by the kernel (corked, buffered, or in TLS). A client that stops reading is dropped rather
      // than buffered without bound, so its queue never exceeds maxQueueBytes.
      if (stream.writableLength + buf.length > limits.maxQueueBytes) {
        closed = true;
        session.end(); // leave the room now: dms to it are stored from here on, not dropped
        stream.end(encodeFrame(errorFrame(PROTOCOL_ERRORS.slowConsumer, `more than ${limits.maxQueueBytes} bytes queued; disconnecting`)));
        setTimeout(() => stream.destroy(), SLOW_CONSUMER_GRACE_MS).unref();
        log({ event: 'slow_consumer', peer, queuedBytes: stream.writableLength });
        return void onWritten?.(false);
      }
      if (batchOutput) corkUntilTurnEnds(stream);
      if (onWritten) stream.write(buf, (err) => onWritten(!err));
      else stream.write(buf);
    },
    close(reason: string) {
      if (closed) return;
      closed = true;
      session.end(); // as above: nothing sent to it after this is lost silently
      log({ event: 'close', peer, reason });
      stream.end();
    },
  };
  portOfSocket.set(socket, port);
  const session = new ChatSession(hub, port);
  log({ event: 'connect', peer, protocol: tlsInfo?.protocol ?? 'plaintext', cipher: tlsInfo?.cipher ?? null, ...(tlsInfo?.group ? { group: tlsInfo.group } : {}) });

  const loginTimer = setTimeout(() => {
    if (!session.username) {
      port.send(errorFrame(PROTOCOL_ERRORS.timeout, `no login within ${limits.loginTimeoutMs} ms`));
      port.close('login timeout');
    }
  }, limits.loginTimeoutMs);
  loginTimer.unref();
  // Idle means no frame *from* the client: socket.setTimeout would also count our writes, and a
  // dead peer in a busy room would never time out. Clients keep alive with `ping`.
  const idleTimer = setTimeout(() => {
    port.send(errorFrame(PROTOCOL_ERRORS.timeout, `no frame for ${limits.idleTimeoutMs} ms`));
    port.close('idle timeout');
  }, limits.idleTimeoutMs);
  idleTimer.unref();
  // Input backpressure: session.handle queues frames behind async work (password hashing); stop
  // reading while too many wait, so a flood is held by TCP flow control, not by our memory.
  let pendingFrames = 0;
  let readingPaused = false;
  const frameHandled = () => {
    pendingFrames--;
    if (readingPaused && pendingFrames <= limits.maxPendingFramesPerConnection / 2) {
      readingPaused = false;
      stream.resume();
    }
  };

  const welcome = () => ({
    type: 'welcome',
    server: 'secchat',
    version: PROTOCOL_VERSION,
    transport: profile.transport,
    auth: profile.auth.method,
    idleTimeoutMs: limits.idleTimeoutMs,
    limits: { maxFrameBytes: limits.maxFrameBytes, maxMessageChars: limits.maxMessageChars },
    ...(starttls ? (tlsInfo ? { tls: true } : { starttls: true }) : {}),
    ...(channel ? { channel: profile.channel.keyExchange } : {}),
  });
  port.send(welcome());
  batchOutput = true;

  const upgrade = () => {
    if (!starttls || tlsInfo) {
      port.send(errorFrame(PROTOCOL_ERRORS.badRequest, tlsInfo ? 'TLS is already active' : 'this server does not offer STARTTLS'));
      return;
    }
    if (decoder.pendingBytes > 0) {
      // Plaintext pipelined after STARTTLS would be treated as if it came over TLS
      // (the CVE-2011-0411 command-injection class): refuse and close.
      port.send(errorFrame(PROTOCOL_ERRORS.badRequest, 'bytes after starttls before the TLS handshake; closing'));
      port.close('starttls injection');
      return;
    }
    writeRaw({ type: 'starttls_ok' });
    socket.uncork(); // starttls_ok must leave before the TLS layer takes the socket over
    socket.removeListener('data', onData);
    starttls(socket, (err, secure) => {
      if (err || !secure) {
        log({ event: 'tls_error', peer, ...describeError(err) });
        socket.destroy();
        return;
      }
      tlsInfo = negotiatedOf(secure);
      log({ event: 'starttls', peer, protocol: tlsInfo.protocol, cipher: tlsInfo.cipher });
      decoder = new FrameDecoder({ maxFrameBytes: limits.maxFrameBytes });
      stream = secure;
      secure.setNoDelay(true);
      secure.on('data', onData);
      secure.on('error', (e) => {
        // A failed record (MAC) poisons the stream; the raw socket's handle belongs to TLS now.
        log({ event: 'socket_error', peer, ...describeError(e) });
        secure.destroy();
      });
      secure.on('close', () => socket.destroy());
      port.send(welcome());
    });
  };

  const dispatch = (frame: Frame) => {
    if (profile.transport === 'starttls-required' && !tlsInfo && (frame.type === 'login' || frame.type === 'register' || frame.type === 'auth_challenge')) {
      port.send(errorFrame(PROTOCOL_ERRORS.tlsRequired, `send starttls before ${frame.type}: this server requires TLS`, frame.id));
      return;
    }
    pendingFrames++;
    void session.handle(frame).then(frameHandled);
    if (pendingFrames >= limits.maxPendingFramesPerConnection && !readingPaused) {
      readingPaused = true;
      stream.pause();
    }
  };

  const onData = (chunk: Buffer) => {
    if (closed) return;
    decoder.push(chunk);
    for (;;) {
      let frame: Frame | null;
      try {
        frame = decoder.next();
      } catch (err) {
        const e = err as ProtocolError;
        port.send(errorFrame(e.details.protocolCode as never, e.message));
        log({ event: 'protocol_error', peer, code: e.details.protocolCode });
        if (e.details.fatal) {
          port.close(String(e.details.protocolCode));
          return;
        }
        continue;
      }
      if (!frame) return;
      idleTimer.refresh();
      if (frame.type === 'starttls') {
        // STARTTLS belongs before the secure channel: once its handshake began, a plaintext
        // `starttls` can only be an injection trying to tear the session down.
        if (channel && channel.state !== 'wait_client_hello') {
          port.send(errorFrame(PROTOCOL_ERRORS.badRequest, 'starttls after the secure channel handshake began; ignored', frame.id));
          continue;
        }
        upgrade();
        return;
      }
      if (channel) {
        if (!isChannelFrame(frame)) {
          // Unprotected chat frames are refused: before the handshake, and (an injection) after it.
          port.send(errorFrame(PROTOCOL_ERRORS.channelError, channel.established ? 'unprotected frame refused inside the secure channel' : 'this server requires the secure channel: start with ch_hello', frame.id));
          continue;
        }
        const actions = channel.handle(frame);
        actions.send.forEach(writeRaw);
        if (actions.established) log({ event: 'channel', peer, ...channel.negotiated });
        if (actions.error) {
          log({ event: 'channel_error', peer, code: actions.error.details.channelCode, message: actions.error.message });
          port.close('channel error');
          return;
        }
        for (const app of actions.deliver) dispatch(app as Frame);
        continue;
      }
      dispatch(frame);
    }
  };
  socket.on('data', onData);
  socket.on('error', (err) => {
    // A stream that failed (TLS record MAC, reset) cannot be trusted for another byte.
    log({ event: 'socket_error', peer, ...describeError(err) });
    socket.destroy();
  });
  socket.on('close', () => {
    closed = true;
    clearTimeout(loginTimer);
    clearTimeout(idleTimer);
    session.end();
  });
}
