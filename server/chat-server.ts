/**
 * The chat server's network adapter: listens (plain TCP or TLS per the profile), frames bytes
 * with core/frames.ts, and hands frames to server/session.ts. Event-driven: one process serves
 * many clients; a broken client gets an error frame and a close while the others carry on.
 */
import net from 'node:net';
import tls from 'node:tls';
import { encodeFrame, type Frame } from '../core/frames.ts';
import { describeError } from '../core/errors.ts';
import { PROTOCOL_ERRORS, errorFrame } from '../core/protocol.ts';
import type { Profile } from '../core/profile.ts';
import { negotiatedOf, serverTlsOptions, type CertKeyPem, type NegotiatedTls } from '../core/tls/node-options.ts';
import { ChatHub, ChatSession, type ConnectionPort } from './session.ts';
import { UserStore, type PassedLoginCache } from './user-store.ts';
import { ConnectionCounter, addressKey } from './connection-limits.ts';
import { ChallengeAuth, type AccountLookup } from './challenge-auth.ts';
import { CLOSE_GRACE_MS, DEFAULT_LIMITS, validateLimits, type ServerLimits } from './limits.ts';

export { CLOSE_GRACE_MS, DEFAULT_LIMITS, SLOW_CONSUMER_GRACE_MS, validateLimits, type ServerLimits } from './limits.ts';
import { ChannelServer } from '../core/channel/index.ts';
import { ServerConnectionRules, type ServerConnectionAction } from './connection-rules.ts';
import { OutputWatch, RoomBackpressure } from './backpressure.ts';

/** "address:port" of a socket for logs, read through a TLS socket to the TCP one beneath it. */
function peerOf(s: net.Socket): string {
  const raw = (s as net.Socket & { _parent?: net.Socket })._parent;
  const address = s.remoteAddress ?? raw?.remoteAddress;
  return address === undefined ? 'unknown' : `${address}:${s.remotePort ?? raw?.remotePort}`;
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
  /** Password checks already passed, shared across servers by a test harness (server/user-store.ts); default: none. */
  passedLogins?: PassedLoginCache;
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
  const users = new UserStore(opts.dbPath, {
    storage: profile.auth.storage,
    scrypt: profile.auth.scrypt,
    // The pepper lives beside the database, never in it: a stolen database file alone cannot be cracked.
    pepperFile: profile.auth.pepper ? (opts.dbPath === ':memory:' ? null : `${opts.dbPath}.pepper`) : null,
    policy: profile.auth.passwordPolicy ?? null,
    passedLogins: opts.passedLogins ?? null,
  });
  // auth.method: challenge — logins carry a proof instead of the password (server/challenge-auth.ts).
  // Challenges look accounts up through the hub's AccountStore, so a locked database never blocks.
  const accounts: AccountLookup = { get: (name) => hub.accounts.get(name) };
  const challenges = profile.auth.method === 'challenge' ? new ChallengeAuth(accounts, profile.auth.storage, { ttlMs: limits.challengeTtlMs }) : null;
  const hub: ChatHub = new ChatHub(users, limits, challenges);
  const perAddress = new ConnectionCounter(limits.maxConnectionsPerIp);
  const accepted = new Set<net.Socket>(); // raw TCP sockets, including those still handshaking
  hub.onEvent = (event, detail) => log({ event, ...detail });
  // Served sockets and their ports, so shutdown can reach connections that never logged in.
  const sockets = new Map<net.Socket, ConnectionPort>();
  const room = new RoomBackpressure();
  const refused = new WeakSet<net.Socket>(); // closed at accept by a limit

  // STARTTLS upgrades go through a tls.Server that never listens: emitting 'connection' with the
  // plaintext socket gives the upgraded socket the server's full semantics (handshake timeout,
  // tlsClientError, and TLS errors surfacing as 'error' once the session is up).
  const starttls: StartTls | null =
    profile.transport === 'starttls' || profile.transport === 'starttls-required' ? createStartTls(profile, requireIdentity(opts), limits, opts.keylog) : null;
  const onSocket = (socket: net.Socket, secure: boolean, tlsInfo: NegotiatedTls | null) => {
    sockets.set(socket, serveConnection(socket, hub, limits, profile, secure, tlsInfo, log, starttls, room, opts.identity));
    socket.on('close', () => sockets.delete(socket)); // 'close' comes once: no once() wrapper to build and remove
  };

  // Per-address cap, counted at TCP accept before any TLS work (server/connection-limits.ts).
  // Returns false, having closed the socket, when the address is over its cap.
  const admit = (s: net.Socket, notice: boolean): boolean => {
    const key = addressKey(s.remoteAddress);
    if (!perAddress.tryAdd(key)) {
      refused.add(s);
      log({ event: 'too_many_connections', peer: peerOf(s), limit: limits.maxConnectionsPerIp });
      // Over TLS nothing can be said before a handshake we refuse to spend CPU on: just close.
      if (notice) {
        s.end(encodeFrame(errorFrame(PROTOCOL_ERRORS.tooManyConnections, `more than ${limits.maxConnectionsPerIp} connections from your address`)));
        setTimeout(() => s.destroy(), CLOSE_GRACE_MS).unref();
      } else s.destroy();
      return false;
    }
    // Chat is interactive: Nagle's algorithm with delayed ACKs holds small frames up to ~40 ms.
    s.setNoDelay(true);
    accepted.add(s);
    s.on('close', () => {
      perAddress.remove(key);
      accepted.delete(s);
    });
    return true;
  };

  let server: net.Server;
  if (profile.transport !== 'tls') {
    server = net.createServer((s) => admit(s, true) && onSocket(s, false, null));
  } else {
    const tlsServer = tls.createServer({ ...serverTlsOptions(profile, requireIdentity(opts)), handshakeTimeout: limits.handshakeTimeoutMs });
    // The negotiated parameters only feed the log; reading them costs ~30 µs a handshake (measured).
    tlsServer.on('secureConnection', (s: tls.TLSSocket) => onSocket(s, true, opts.log ? negotiatedOf(s) : null));
    tlsServer.on('tlsClientError', (err, s) => {
      // A socket refused at accept is already logged (too_many_connections) and destroyed: its
      // address is gone, and the "error" is our own refusal.
      const raw = (s as tls.TLSSocket & { _parent?: net.Socket })._parent;
      if (raw && refused.has(raw)) return s.destroy();
      log({ event: 'tls_error', peer: peerOf(s), ...describeError(err) });
      s.destroy();
    });
    if (opts.keylog) tlsServer.on('keylog', (line) => opts.keylog!(line));
    // Prepended: runs before node wraps the socket in TLS, so a refused one costs no handshake.
    tlsServer.prependListener('connection', (s: net.Socket) => void admit(s, false));
    server = tlsServer;
  }
  server.on('connection', (s: net.Socket) => void s.on('error', ignoreError));
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
        // server.close() calls back only once every connection is gone, so this timer is what
        // ends the wait, and it must stay ref'd: a connection already finished is paused (it
        // reads nothing more), so its socket neither sees the peer's close nor keeps the event
        // loop alive. With the timer unref'd, nothing did, and a caller awaiting close() with no
        // other work pending exited with code 13 (an unsettled top-level await).
        const forceClose = setTimeout(() => {
          for (const s of sockets.keys()) s.destroy();
          for (const s of accepted) s.destroy(); // still handshaking: would hold close() for handshakeTimeoutMs
        }, 200);
        server.close(() => {
          clearTimeout(forceClose);
          resolve();
        });
        hub.closeAll(errorFrame(PROTOCOL_ERRORS.serverShutdown, 'server is shutting down'), 'shutdown');
        // Connections not logged in get the notice too (closeAll reached only the logged-in ones).
        for (const port of sockets.values()) closeWithNotice(port, errorFrame(PROTOCOL_ERRORS.serverShutdown, 'server is shutting down'));
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

/** Peers that reset mid-handshake must not crash the server (one listener shared by every socket). */
function ignoreError(): void {}

/** Sends `frame` through a served connection's port and closes it. */
function closeWithNotice(port: ConnectionPort, frame: Frame): void {
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
 * Wires one accepted socket to a session: the connection's rules (server/connection-rules.ts)
 * judge every frame; this function only carries their actions out on the socket — writes, the
 * STARTTLS hand-over, timers, input pausing and closing.
 * @param secure true when the socket is TLS from its first byte (transport tls)
 * @param tlsInfo what TLS negotiated, when read (only for the log); null otherwise
 * @returns the connection's port (shutdown sends its notice through it)
 */
function serveConnection(
  socket: net.Socket,
  hub: ChatHub,
  limits: ServerLimits,
  profile: Profile,
  secure: boolean,
  tlsInfo: NegotiatedTls | null,
  log: (e: ServerLogEntry) => void,
  starttls: StartTls | null,
  room: RoomBackpressure,
  identity?: CertKeyPem,
): ConnectionPort {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  let stream: net.Socket = socket; // becomes the TLSSocket after STARTTLS
  let closed = false;
  let batchOutput = false; // the welcome leaves at once: there is nothing to batch it with
  // The application-layer secure channel, when the profile asks for one.
  const channel = profile.channel.keyExchange === 'none' ? null : new ChannelServer({ profileChannel: profile.channel, serverCert: identity });
  const rules = new ServerConnectionRules({ profile, maxFrameBytes: limits.maxFrameBytes, idleTimeoutMs: limits.idleTimeoutMs, maxMessageChars: limits.maxMessageChars, tls: secure, channel });
  // Frames the session sent while STARTTLS was in progress: after starttls_ok nothing leaves in
  // plaintext, so they wait for TLS (bounded: over maxQueueBytes the connection is closed).
  let held: Array<{ frame: Frame; onWritten?: (written: boolean) => void }> = [];
  let heldBytes = 0;
  const output = new OutputWatch(limits, () => stream);
  const writeRaw = (frame: Frame) => {
    if (stream.destroyed) return;
    const buf = encodeFrame(frame);
    stream.write(buf);
    output.wrote(buf.length);
  };

  /** Ends the connection: no more input is read or decoded, and the socket is destroyed after {@link CLOSE_GRACE_MS}. */
  const finish = (reason: string, event: string = 'close', detail: Record<string, unknown> = {}) => {
    if (closed) return;
    closed = true;
    rules.closed();
    session.end(); // leave the room now: dms to it are stored from here on, not dropped
    output.stop();
    room.forget(port);
    log({ event, peer, reason, ...detail });
    stream.pause(); // a closed connection reads (and decrypts) nothing more
    stream.end();
    const s = stream;
    setTimeout(() => {
      s.destroy();
      socket.destroy();
    }, CLOSE_GRACE_MS).unref();
  };

  let address: string | undefined;
  const port: ConnectionPort = {
    peer,
    // Read at logins only. `peer` above made node cache the socket's address, so this is the same
    // address however late it is first read (even after the socket closed).
    get address() {
      return (address ??= addressKey(socket.remoteAddress));
    },
    send(frame: Frame, onWritten?: (written: boolean) => void) {
      if (closed || stream.destroyed) return void onWritten?.(false);
      const wire = rules.wireFrame(frame);
      if (wire === 'hold') {
        held.push({ frame, onWritten });
        heldBytes += encodeOnce(frame).length;
        if (heldBytes > limits.maxQueueBytes) finish('slow_consumer', 'slow_consumer', { queuedBytes: heldBytes });
        return;
      }
      // Sealing is per connection, so a sealed frame cannot share the broadcast's cached bytes.
      const buf = wire === frame ? encodeOnce(frame) : encodeFrame(wire);
      if (batchOutput) corkUntilTurnEnds(stream);
      if (onWritten) stream.write(buf, (err) => onWritten(!err));
      else stream.write(buf);
      output.wrote(buf.length);
    },
    close(reason: string) {
      finish(reason);
    },
  };
  const session = new ChatSession(hub, port);
  // Output backpressure (server/backpressure.ts): a recipient over the high-water mark pauses the
  // room's senders until it drains; one that takes no byte for slowConsumerStallMs is cut.
  output.onBehind = (behind) => (behind ? room.behind(port) : room.caughtUp(port));
  output.onStalled = (queuedBytes) => {
    if (closed) return;
    // Told why, then ended; the socket is destroyed after the grace whether or not it drained.
    const notice = rules.wireFrame(errorFrame(PROTOCOL_ERRORS.slowConsumer, `no progress for ${limits.slowConsumerStallMs} ms with ${queuedBytes} bytes queued; disconnecting`));
    if (notice !== 'hold') stream.write(encodeFrame(notice)); // sealed inside a channel, like every frame
    finish('slow_consumer', 'slow_consumer', { queuedBytes });
  };
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

  // Input backpressure: session.handle queues frames behind async work (password hashing), and a
  // recipient may be behind: stop pulling frames (and reading the socket) while either holds, so
  // a flood is held by TCP flow control, not by our memory. Unread frames wait in the decoder.
  let pendingFrames = 0;
  let waitingForRoom = false;
  const frameHandled = () => {
    pendingFrames--;
    if (pendingFrames === Math.floor(limits.maxPendingFramesPerConnection / 2)) pump();
  };
  const resumeFromRoom = () => {
    waitingForRoom = false;
    pump();
  };
  const pump = () => {
    while (!closed) {
      if (pendingFrames >= limits.maxPendingFramesPerConnection) return void stream.pause();
      if (room.congested) {
        // A recipient is behind: this sender waits (TCP pushes back on it) until the room drains.
        if (!waitingForRoom) {
          waitingForRoom = true;
          room.hold(port, resumeFromRoom);
        }
        return void stream.pause();
      }
      const actions = rules.next();
      if (!actions) break;
      run(actions);
    }
    if (!closed && rules.state === 'open') stream.resume();
  };

  const run = (actions: ServerConnectionAction[]) => {
    for (const a of actions) {
      if (closed) return;
      switch (a.type) {
        case 'send':
          port.send(a.frame);
          break;
        case 'send_channel':
          writeRaw(a.frame);
          break;
        case 'log':
          log({ ...a.entry, peer });
          break;
        case 'close':
          port.close(a.reason);
          return;
        case 'dispatch':
          idleTimer.refresh();
          pendingFrames++;
          void session.handle(a.frame).then(frameHandled);
          break;
        case 'start_tls':
          idleTimer.refresh();
          startUpgrade(a.frame);
          return;
      }
    }
  };

  const startUpgrade = (ok: Frame) => {
    if (!starttls) return;
    socket.write(encodeFrame(ok));
    socket.uncork(); // starttls_ok must leave before the TLS layer takes the socket over
    socket.removeListener('data', onData);
    starttls(socket, (err, secure) => {
      if (err || !secure) {
        log({ event: 'tls_error', peer, ...describeError(err) });
        socket.destroy();
        return;
      }
      if (closed) return void secure.destroy();
      tlsInfo = negotiatedOf(secure);
      log({ event: 'starttls', peer, protocol: tlsInfo.protocol, cipher: tlsInfo.cipher });
      stream = secure;
      secure.setNoDelay(true);
      secure.on('data', onData);
      secure.on('error', (e) => {
        // A failed record (MAC) poisons the stream; the raw socket's handle belongs to TLS now.
        log({ event: 'socket_error', peer, ...describeError(e) });
        secure.destroy();
      });
      secure.on('close', () => socket.destroy());
      run(rules.tlsEstablished());
      const waiting = held;
      held = [];
      heldBytes = 0;
      for (const h of waiting) port.send(h.frame, h.onWritten);
      pump();
    });
  };

  const onData = (chunk: Buffer) => {
    if (closed) return;
    rules.receive(chunk);
    pump();
  };

  port.send(rules.welcome());
  batchOutput = true;
  socket.on('data', onData);
  socket.on('error', (err) => {
    // A stream that failed (TLS record MAC, reset) cannot be trusted for another byte.
    log({ event: 'socket_error', peer, ...describeError(err) });
    socket.destroy();
  });
  socket.on('close', () => {
    closed = true;
    rules.closed();
    output.stop();
    room.forget(port);
    clearTimeout(loginTimer);
    clearTimeout(idleTimer);
    session.end();
    for (const h of held) h.onWritten?.(false);
    held = [];
  });
  return port;
}
