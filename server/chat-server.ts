/**
 * The chat server's network adapter: listens (plain TCP or TLS per the profile), frames bytes
 * with core/frames.ts, and hands frames to server/session.ts. Event-driven: one process serves
 * many clients; a broken client gets an error frame and a close while the others carry on.
 * This module listens, admits (per-address cap) and shuts down; each accepted socket is served by
 * `connection-adapter.ts`, upgraded by `starttls-upgrade.ts`, written through `output-batching.ts`.
 */
import net from 'node:net';
import tls from 'node:tls';
import { encodeFrame, type Frame } from '../core/frames.ts';
import { describeError } from '../core/errors.ts';
import { PROTOCOL_ERRORS, errorFrame } from '../core/protocol.ts';
import type { Profile } from '../core/profile.ts';
import { negotiatedOf, serverTlsOptions, type CertKeyPem, type NegotiatedTls } from '../core/tls/node-options.ts';
import { ChatHub, type ConnectionPort } from './session.ts';
import { UserStore, type PassedLoginCache } from './user-store.ts';
import { ConnectionCounter, addressKey, peerOf } from './connection-limits.ts';
import { ChallengeAuth, type AccountLookup } from './challenge-auth.ts';
import { CLOSE_GRACE_MS, DEFAULT_LIMITS, validateLimits, type ServerLimits } from './limits.ts';

export { CLOSE_GRACE_MS, DEFAULT_LIMITS, SLOW_CONSUMER_GRACE_MS, validateLimits, type ServerLimits } from './limits.ts';
import { RoomBackpressure } from './backpressure.ts';
import { serveConnection, type ServerLogEntry } from './connection-adapter.ts';
import { createStartTls, type StartTls } from './starttls-upgrade.ts';

export type { ServerLogEntry } from './connection-adapter.ts';

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

/** Peers that reset mid-handshake must not crash the server (one listener shared by every socket). */
function ignoreError(): void {}

/** Sends `frame` through a served connection's port and closes it. */
function closeWithNotice(port: ConnectionPort, frame: Frame): void {
  port.send(frame);
  port.close('shutdown');
}

function requireIdentity(opts: ChatServerOptions): CertKeyPem {
  if (!opts.identity) throw new Error(`startChatServer: transport ${opts.profile.transport} needs an identity (certificate and key)`);
  return opts.identity;
}
