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
import { negotiatedOf, serverTlsOptions, type CertKeyPem, type NegotiatedTls } from '../core/tls-options.ts';
import { ChatHub, ChatSession, type ConnectionPort } from './session.ts';
import { ChannelServer, isChannelFrame } from '../core/channel/index.ts';
import { UserStore } from './user-store.ts';
import { ChallengeAuth, DEFAULT_CHALLENGE_TTL_MS } from './challenge-auth.ts';

/** Limits and timeouts, with units in the names. Every field has the documented default below. */
export interface ServerLimits {
  /** Largest frame accepted, in bytes including the newline. */
  maxFrameBytes: number;
  /** Longest chat message, in characters. */
  maxMessageChars: number;
  /** Shortest password at registration, in characters. */
  minPasswordChars: number;
  /** Time allowed for the TLS handshake, in ms. */
  handshakeTimeoutMs: number;
  /** Time allowed between connecting and logging in, in ms. */
  loginTimeoutMs: number;
  /** A connection with no frame for this long is closed, in ms. */
  idleTimeoutMs: number;
  /** Bytes queued to one client before it is disconnected as a slow consumer. */
  maxQueueBytes: number;
  /** Lifetime of a login challenge (auth.method: challenge), in ms. */
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
  challengeTtlMs: DEFAULT_CHALLENGE_TTL_MS,
};

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
  readonly hub: ChatHub;
  /** The SQLite file of the accounts (what the password-crack attack steals). */
  readonly dbPath: string;
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
  const log = opts.log ?? (() => {});
  const users = new UserStore(opts.dbPath, profile.auth.storage);
  // auth.method: challenge — logins carry a proof instead of the password (server/challenge-auth.ts).
  const challenges = profile.auth.method === 'challenge' ? new ChallengeAuth(users, profile.auth.storage, { ttlMs: limits.challengeTtlMs }) : null;
  const hub = new ChatHub(users, { maxMessageChars: limits.maxMessageChars, minPasswordChars: limits.minPasswordChars }, challenges);
  hub.onEvent = (event, detail) => log({ event, ...detail });
  const sockets = new Set<net.Socket>();

  // STARTTLS upgrades reuse one secure context (certificate, versions, ciphers from the profile).
  const starttlsContext =
    profile.transport === 'starttls' || profile.transport === 'starttls-required'
      ? tls.createSecureContext(serverTlsOptions(profile, requireIdentity(opts)))
      : null;
  const onSocket = (socket: net.Socket, tlsInfo: NegotiatedTls | null) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, hub, limits, profile, tlsInfo, log, starttlsContext, opts.keylog, opts.identity);
  };

  let server: net.Server;
  if (profile.transport !== 'tls') {
    server = net.createServer((s) => onSocket(s, null));
  } else {
    const tlsServer = tls.createServer({ ...serverTlsOptions(profile, requireIdentity(opts)), handshakeTimeout: limits.handshakeTimeoutMs });
    tlsServer.on('secureConnection', (s: tls.TLSSocket) => onSocket(s, negotiatedOf(s)));
    tlsServer.on('tlsClientError', (err, s) => {
      log({ event: 'tls_error', peer: `${s.remoteAddress}:${s.remotePort}`, ...describeError(err) });
      s.destroy();
    });
    if (opts.keylog) tlsServer.on('keylog', (line) => opts.keylog!(line));
    server = tlsServer;
  }
  server.on('connection', (s: net.Socket) => {
    s.on('error', () => {}); // peers that reset mid-handshake must not crash the server
  });

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
    hub,
    dbPath: opts.dbPath,
    connectionCount: () => sockets.size,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        hub.closeAll(errorFrame(PROTOCOL_ERRORS.serverShutdown, 'server is shutting down'), 'shutdown');
        for (const s of sockets) s.end();
        setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 200).unref();
      }).then(() => users.close());
      return closing;
    },
  };
}

function requireIdentity(opts: ChatServerOptions): CertKeyPem {
  if (!opts.identity) throw new Error(`startChatServer: transport ${opts.profile.transport} needs an identity (certificate and key)`);
  return opts.identity;
}

/**
 * Wires one accepted socket to a session. For STARTTLS transports (`starttlsContext` set), the
 * welcome advertises `starttls: true`; a `starttls` frame is answered with `starttls_ok` and the
 * same socket is then wrapped in TLS server-side.
 */
function serveConnection(
  socket: net.Socket,
  hub: ChatHub,
  limits: ServerLimits,
  profile: Profile,
  tlsInfo: NegotiatedTls | null,
  log: (e: ServerLogEntry) => void,
  starttlsContext: tls.SecureContext | null,
  keylog?: (line: Buffer) => void,
  identity?: CertKeyPem,
): void {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  let decoder = new FrameDecoder({ maxFrameBytes: limits.maxFrameBytes });
  let stream: net.Socket = socket; // becomes the TLSSocket after STARTTLS
  // The application-layer secure channel (docs/channel.md), when the profile asks for one.
  const channel = profile.channel.keyExchange === 'none' ? null : new ChannelServer({ profileChannel: profile.channel, serverCert: identity });
  const writeRaw = (frame: object) => {
    if (!stream.destroyed) stream.write(encodeFrame(frame as Frame));
  };
  let closed = false;
  const port: ConnectionPort = {
    peer,
    send(frame: Frame) {
      if (closed || stream.destroyed) return;
      if (stream.writableLength > limits.maxQueueBytes) {
        // A client that stopped reading: drop it rather than buffer without bound.
        closed = true;
        stream.end(encodeFrame(errorFrame(PROTOCOL_ERRORS.slowConsumer, `more than ${limits.maxQueueBytes} bytes queued; disconnecting`)));
        setTimeout(() => stream.destroy(), 1000).unref();
        log({ event: 'slow_consumer', peer });
        return;
      }
      stream.write(encodeFrame(channel?.established && !isChannelFrame(frame) ? (channel.seal(frame) as unknown as Frame) : frame));
    },
    close(reason: string) {
      if (closed) return;
      closed = true;
      log({ event: 'close', peer, reason });
      stream.end();
    },
  };
  const session = new ChatSession(hub, port);
  log({ event: 'connect', peer, protocol: tlsInfo?.protocol ?? 'plaintext', cipher: tlsInfo?.cipher ?? null, group: tlsInfo?.group ?? null });

  const loginTimer = setTimeout(() => {
    if (!session.username) {
      port.send(errorFrame(PROTOCOL_ERRORS.timeout, `no login within ${limits.loginTimeoutMs} ms`));
      port.close('login timeout');
    }
  }, limits.loginTimeoutMs);
  loginTimer.unref();
  socket.setTimeout(limits.idleTimeoutMs, () => {
    port.send(errorFrame(PROTOCOL_ERRORS.timeout, `idle for ${limits.idleTimeoutMs} ms`));
    port.close('idle timeout');
  });

  const welcome = () => ({
    type: 'welcome',
    server: 'secchat',
    version: PROTOCOL_VERSION,
    transport: profile.transport,
    auth: profile.auth.method,
    ...(starttlsContext ? (tlsInfo ? { tls: true } : { starttls: true }) : {}),
    ...(channel ? { channel: profile.channel.keyExchange } : {}),
  });
  port.send(welcome());

  const upgrade = () => {
    if (!starttlsContext || tlsInfo) {
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
    port.send({ type: 'starttls_ok' });
    socket.removeListener('data', onData);
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: starttlsContext });
    if (keylog) secure.on('keylog', keylog);
    const timer = setTimeout(() => secure.destroy(), limits.handshakeTimeoutMs);
    timer.unref();
    secure.once('secure', () => {
      clearTimeout(timer);
      tlsInfo = negotiatedOf(secure);
      log({ event: 'starttls', peer, protocol: tlsInfo.protocol, cipher: tlsInfo.cipher, group: tlsInfo.group });
      decoder = new FrameDecoder({ maxFrameBytes: limits.maxFrameBytes });
      stream = secure;
      secure.on('data', onData);
      port.send(welcome());
    });
    secure.on('error', (err) => {
      log({ event: 'tls_error', peer, ...describeError(err) });
      socket.destroy();
    });
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
      if (frame.type === 'starttls') {
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
  const dispatch = (frame: Frame) => {
    if (profile.transport === 'starttls-required' && !tlsInfo && (frame.type === 'login' || frame.type === 'register' || frame.type === 'auth_challenge')) {
      port.send(errorFrame(PROTOCOL_ERRORS.tlsRequired, `send starttls before ${frame.type}: this server requires TLS`, frame.id));
      return;
    }
    void session.handle(frame);
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
    session.end();
  });
}
