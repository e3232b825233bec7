/**
 * The proxy engine every attack shares: it sits between a victim client and the real server,
 * relays bytes, and — when an addon asks — terminates TLS with a certificate of the attacker's
 * choosing and opens its own TLS connection to the real server. It records everything it sees.
 *
 * Like mitmproxy's addons, attacks never touch sockets: they implement {@link ProxyAddon} hooks
 * and act through {@link ProxyConnection}. The engine knows no attack by name.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import { describeError } from '../core/errors.ts';
import { negotiatedOf, type CertKeyPem, type NegotiatedTls } from '../core/tls/node-options.ts';
import type { ClientHello } from '../core/tls/client-hello.ts';
import { peekClientHello } from '../core/tls/peek-client-hello.ts';
import { encodeFrame, FrameDecoder, type Frame } from '../core/frames.ts';
import { ProtocolError } from '../core/errors.ts';

/** c2s: victim client → server; s2c: server → victim client. */
export type Direction = 'c2s' | 's2c';

/**
 * Where bytes were seen: `client-wire` on the victim's TCP connection (what a network tap sees),
 * `server-wire` on the proxy's own connection to the server (differs only once TLS is terminated),
 * `plaintext` inside TLS the proxy terminated.
 */
export type Layer = 'client-wire' | 'server-wire' | 'plaintext';

/** One chunk of traffic as the proxy saw it (before any addon changed it). */
export interface TrafficChunk {
  conn: number;
  dir: Direction;
  layer: Layer;
  /** ms since the proxy started */
  t: number;
  data: Buffer;
}

/** What the engine does with a connection whose client just sent a TLS ClientHello. */
export type HelloDecision =
  | { action: 'relay' }
  // maxVersion caps the version the attacker's hop towards the victim agrees to: a victim that
  // accepts the attacker's certificate gets whatever version the attacker picks (downgrade-fallback).
  | { action: 'terminate'; identity: CertKeyPem; maxVersion?: tls.SecureVersion }
  | { action: 'kill'; reason: string };

/** A record of one proxied connection, kept for the verdict and the report. */
export interface ProxyConnectionRecord {
  id: number;
  /** victim's address:port */
  clientPeer: string;
  /** proxy's local address:port towards the server */
  upstreamLocal: string | null;
  startedAtMs: number;
  endedAtMs: number | null;
  mode: 'relay' | 'terminate' | 'kill';
  /** the ClientHello record bytes as first seen (null if the client never sent TLS) */
  clientHello: Buffer | null;
  /** the ClientHello decoded (offered versions, suites, groups, SNI), or null */
  clientHelloInfo: ClientHello | null;
  /** TLS negotiated between victim and proxy (terminate mode) */
  clientHop: NegotiatedTls | null;
  /** TLS negotiated between proxy and server (terminate mode) */
  serverHop: NegotiatedTls | null;
  /** errors on either hop, in order */
  errors: Array<{ side: 'client' | 'server'; code: string; message: string }>;
  /** free-form notes addons add (what they changed, injected, killed) */
  notes: string[];
}

/** Hooks an attack implements. Every hook is optional. */
export interface ProxyAddon {
  name: string;
  /**
   * The victim sent a TLS ClientHello: `raw` holds the whole record(s), `hello` the decoded
   * message (null if it could not be parsed). Decide how to carry the connection.
   */
  onClientHello?(conn: ProxyConnection, raw: Buffer, hello: ClientHello | null): HelloDecision | Promise<HelloDecision>;
  /**
   * Bytes about to be forwarded. Return replacement bytes, null to drop them, or undefined to
   * forward unchanged. `layer` is `client-wire` in relay mode and `plaintext` after termination.
   */
  onData?(conn: ProxyConnection, data: Buffer, dir: Direction, layer: Layer): Buffer | null | undefined;
  /**
   * A whole chat frame (JSON Lines, core/frames.ts) the engine decoded where the attacker can
   * read them: `client-wire` before any TLS, `plaintext` inside TLS it terminated. Runs after
   * `onData`. Return replacement frames (an array may be empty), null to drop it, undefined to
   * forward it unchanged. The engine owns the decoder (one per connection and direction) and its
   * error policy: an unparsable line is dropped and noted; a fatal error (a line over
   * {@link PROXY_MAX_FRAME_BYTES} without a newline) is noted once and the connection is killed —
   * it never spins on a poisoned decoder.
   */
  onFrame?(conn: ProxyConnection, frame: Frame, dir: Direction, layer: Layer): Frame | Frame[] | null | undefined;
  /** The connection ended (both sides closed). */
  onClose?(conn: ProxyConnection): void;
}

/** Options of {@link ProxyEngine.start}. */
export interface ProxyOptions {
  /** The real server. */
  upstream: { host: string; port: number };
  addon?: ProxyAddon;
  /** Interface to listen on; loopback unless asked otherwise. */
  host?: string;
  port?: number;
  /** SNI the proxy sends to the server when it opens its own TLS connection. */
  upstreamServername?: string;
  /** Receives NSS key log lines of both hops the proxy terminates. */
  keylog?: (line: Buffer) => void;
}

const TLS_HANDSHAKE_RECORD = 0x16;
/** Largest chat frame the engine's frame layer buffers, in bytes (the server's own limit is lower). */
export const PROXY_MAX_FRAME_BYTES = 1 << 20;
/** Time a connection whose frame layer failed fatally stays up before the engine kills it, ms. */
const FATAL_GRACE_MS = 50;
/** Options of {@link ProxyEngine.replayOnNewConnection}. */
export interface NewConnectionOptions {
  /** pause between chunks, ms (lets the server answer each flight as it did live) */
  paceMs?: number;
  /** called with the new connection's local address:port and the answer so far; true ends the wait */
  settled: (peer: string, answer: Buffer) => boolean;
  /** longest wait for `settled`, ms */
  timeoutMs: number;
}
/** What {@link ProxyEngine.replayOnNewConnection} observed. */
export interface NewConnectionResult {
  /** the new connection's address:port, as the server's log names it */
  peer: string;
  /** every byte the server sent back */
  response: Buffer;
  /** chunks sent */
  chunks: number;
  /** whether `settled` returned true before the timeout */
  settled: boolean;
}
/** Largest ClientHello the proxy gathers before giving up on parsing it, in bytes. */
const MAX_HELLO_BYTES = 64 * 1024;

/**
 * The attacker's server-side TLS context for `identity`: any version down to TLS 1.0 and any
 * suite. The security level is lowered *before* the certificate is loaded, because OpenSSL checks
 * a certificate against the level when it is set: a SHA-1-signed or RSA-1024 certificate (the
 * certificate gallery) is refused by a context built in one step ("ca md too weak").
 */
export function attackerSecureContext(identity: CertKeyPem, maxVersion?: tls.SecureVersion): tls.SecureContext {
  const ctx = tls.createSecureContext({ minVersion: 'TLSv1', ...(maxVersion ? { maxVersion } : {}), ciphers: 'ALL:eNULL:@SECLEVEL=0' });
  const native = (ctx as unknown as { context: { setKey(key: string, pass?: string): void; setCert(cert: string): void } }).context;
  native.setKey(identity.keyPem, undefined);
  native.setCert(identity.certPem);
  return ctx;
}

/** Wraps a socket as a Duplex whose readable side starts with `head` — so a TLS layer can be put
 * on a stream after we have already read its first bytes — and reports every raw chunk read and
 * written, so the wire stays observable under TLS. */
function tappedDuplex(raw: net.Socket, head: Buffer | null, onRead: (d: Buffer) => void, onWrite: (d: Buffer) => void): Duplex {
  const d = new Duplex({
    read() {
      raw.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      onWrite(chunk);
      raw.write(chunk, cb);
    },
    final(cb) {
      raw.end();
      cb();
    },
    destroy(err, cb) {
      raw.destroy();
      cb(err);
    },
  });
  if (head?.length) {
    onRead(head);
    d.push(head);
  }
  raw.removeAllListeners('data');
  raw.on('data', (chunk: Buffer) => {
    onRead(chunk);
    if (!d.push(chunk)) raw.pause();
  });
  raw.on('end', () => d.push(null));
  raw.on('close', () => d.destroy());
  raw.on('error', (e) => d.destroy(e));
  return d;
}

/** One victim connection through the proxy, as addons see it. */
export class ProxyConnection {
  readonly record: ProxyConnectionRecord;
  private readonly engine: ProxyEngine;
  private clientEnd: Duplex | net.Socket;
  private serverEnd: Duplex | net.Socket;
  private readonly clientRaw: net.Socket;
  private readonly serverRaw: net.Socket;
  private terminated = false;
  private sawHello = false;
  private helloPending: Promise<void> | null = null;
  private helloBuffer: Buffer | null = null;
  /** the engine's chat-frame decoders, per direction; `failed` once a fatal error ended that layer */
  private readonly frameLayer: Record<Direction, { dec: FrameDecoder; failed: boolean } | null> = { c2s: null, s2c: null };

  constructor(engine: ProxyEngine, id: number, clientRaw: net.Socket, serverRaw: net.Socket) {
    this.engine = engine;
    this.clientRaw = clientRaw;
    this.serverRaw = serverRaw;
    this.clientEnd = clientRaw;
    this.serverEnd = serverRaw;
    this.record = {
      id,
      clientPeer: `${clientRaw.remoteAddress}:${clientRaw.remotePort}`,
      upstreamLocal: null,
      startedAtMs: engine.elapsedMs(),
      endedAtMs: null,
      mode: 'relay',
      clientHello: null,
      clientHelloInfo: null,
      clientHop: null,
      serverHop: null,
      errors: [],
      notes: [],
    };
    serverRaw.once('connect', () => {
      this.record.upstreamLocal = `${serverRaw.localAddress}:${serverRaw.localPort}`;
    });
    this.relayRaw();
  }

  /** Adds a note to this connection's record (shown as evidence). */
  note(text: string): void {
    this.record.notes.push(text);
  }

  /** Records bytes an addon recovered itself (e.g. opened from a secure channel) as evidence. */
  capture(dir: Direction, layer: Layer, data: Buffer): void {
    this.engine.capture(this.record.id, dir, layer, data);
  }

  /** True once TLS is terminated on both hops. */
  get isTerminated(): boolean {
    return this.terminated;
  }

  /**
   * Writes bytes the attacker made up, to the server (`c2s`) or the victim (`s2c`), at the
   * innermost layer (inside TLS when terminated).
   */
  inject(dir: Direction, data: Buffer): void {
    const end = dir === 'c2s' ? this.serverEnd : this.clientEnd;
    if (!end.destroyed) end.write(data);
  }

  /** Writes one chat frame at the innermost layer (see {@link inject}). */
  injectFrame(dir: Direction, frame: Frame): void {
    this.inject(dir, encodeFrame(frame));
  }

  /** True when chat frames at `layer` are readable: before any TLS on the wire, or inside terminated TLS. */
  framesReadableAt(layer: Layer): boolean {
    return layer === 'plaintext' || (layer === 'client-wire' && !this.record.clientHello);
  }

  /** Drops the connection on both sides (an attacker resetting it). */
  kill(reason: string): void {
    this.record.mode = 'kill';
    this.note(`killed: ${reason}`);
    this.clientRaw.destroy();
    this.serverRaw.destroy();
  }

  private relayRaw(): void {
    const { clientRaw, serverRaw } = this;
    clientRaw.on('data', (incoming: Buffer) => {
      let chunk = incoming;
      if (this.helloPending) {
        // Still deciding what to do with the ClientHello: hold later bytes until we know.
        clientRaw.pause();
        this.helloPending.then(() => clientRaw.emit('data', chunk));
        return;
      }
      if (!this.sawHello && (this.helloBuffer || (chunk[0] === TLS_HANDSHAKE_RECORD && chunk[1] === 0x03))) {
        // Gather the whole ClientHello (it may span TCP segments or records) before deciding.
        const bytes = this.helloBuffer ? Buffer.concat([this.helloBuffer, chunk]) : chunk;
        const peek = peekClientHello(bytes);
        if (peek.isTls && !peek.complete && bytes.length < MAX_HELLO_BYTES) {
          this.helloBuffer = bytes;
          return;
        }
        this.helloBuffer = null;
        this.sawHello = true;
        this.record.clientHello = Buffer.from(bytes);
        this.record.clientHelloInfo = peek.hello ?? null;
        if (this.engine.addon.onClientHello && peek.isTls) {
          clientRaw.pause();
          this.helloPending = Promise.resolve(this.engine.addon.onClientHello(this, bytes, peek.hello ?? null))
            .catch((err): HelloDecision => ({ action: 'kill', reason: `addon failed: ${describeError(err).message}` }))
            .then((decision) => {
              this.helloPending = null;
              this.applyDecision(decision, bytes);
            });
          return;
        }
        chunk = bytes;
      }
      this.engine.capture(this.record.id, 'c2s', 'client-wire', chunk);
      this.forward(serverRaw, chunk, 'c2s', 'client-wire');
    });
    serverRaw.on('data', (chunk: Buffer) => {
      this.engine.capture(this.record.id, 's2c', 'client-wire', chunk);
      this.forward(clientRaw, chunk, 's2c', 'client-wire');
    });
    this.wireClose(clientRaw, serverRaw, 'client');
    this.wireClose(serverRaw, clientRaw, 'server');
  }

  private wireClose(a: net.Socket, b: net.Socket, side: 'client' | 'server'): void {
    a.on('error', (err) => {
      const d = describeError(err);
      this.record.errors.push({ side, ...d });
      b.destroy();
    });
    a.on('end', () => {
      if (!this.terminated) b.end();
    });
    a.on('close', () => {
      b.destroy();
      if (this.record.endedAtMs === null) {
        this.record.endedAtMs = this.engine.elapsedMs();
        this.engine.addon.onClose?.(this);
        this.engine.connectionClosed(this);
      }
    });
  }

  private forward(to: Duplex | net.Socket, chunk: Buffer, dir: Direction, layer: Layer): void {
    const out = this.engine.addon.onData ? this.engine.addon.onData(this, chunk, dir, layer) : undefined;
    if (out === null) return;
    let data = out ?? chunk;
    if (this.engine.addon.onFrame && this.framesReadableAt(layer)) data = this.frames(data, dir, layer);
    if (data.length && !to.destroyed) to.write(data);
  }

  /** The frame layer: decodes whole frames, lets the addon act on each, re-encodes what it keeps. */
  private frames(data: Buffer, dir: Direction, layer: Layer): Buffer {
    const st = (this.frameLayer[dir] ??= { dec: new FrameDecoder({ maxFrameBytes: PROXY_MAX_FRAME_BYTES }), failed: false });
    if (st.failed) return Buffer.alloc(0);
    st.dec.push(data);
    const out: Buffer[] = [];
    for (;;) {
      let frame: Frame | null;
      try {
        frame = st.dec.next();
      } catch (err) {
        if (err instanceof ProtocolError && err.details?.fatal === false) {
          this.note(`frame layer (${dir}): dropped a line that is not a chat frame (${String(err.details?.protocolCode)})`);
          continue;
        }
        // A poisoned decoder throws on every call: stop here, once, and end the connection.
        st.failed = true;
        this.note(`frame layer (${dir}): ${describeError(err).message}; the connection is killed`);
        setTimeout(() => this.kill(`fatal frame error (${dir})`), FATAL_GRACE_MS).unref();
        break;
      }
      if (!frame) break;
      const r = this.engine.addon.onFrame!(this, frame, dir, layer);
      if (r === undefined) out.push(encodeFrame(frame));
      else if (r !== null) for (const f of Array.isArray(r) ? r : [r]) out.push(encodeFrame(f));
    }
    return Buffer.concat(out);
  }

  private applyDecision(decision: HelloDecision, hello: Buffer): void {
    if (decision.action === 'kill') {
      this.kill(decision.reason);
      return;
    }
    if (decision.action === 'relay') {
      this.engine.capture(this.record.id, 'c2s', 'client-wire', hello);
      this.forward(this.serverRaw, hello, 'c2s', 'client-wire');
      this.clientRaw.resume();
      return;
    }
    this.terminate(decision.identity, hello, decision.maxVersion);
  }

  /** Terminates TLS on both hops: the victim gets `identity`; the server gets our own client. */
  private terminate(identity: CertKeyPem, hello: Buffer, maxVersion?: tls.SecureVersion): void {
    this.terminated = true;
    this.record.mode = 'terminate';
    const id = this.record.id;
    const eng = this.engine;
    this.clientRaw.removeAllListeners('data');
    this.serverRaw.removeAllListeners('data');
    const clientDuplex = tappedDuplex(
      this.clientRaw,
      hello,
      (d) => eng.capture(id, 'c2s', 'client-wire', d),
      (d) => eng.capture(id, 's2c', 'client-wire', d),
    );
    const serverDuplex = tappedDuplex(
      this.serverRaw,
      null,
      (d) => eng.capture(id, 's2c', 'server-wire', d),
      (d) => eng.capture(id, 'c2s', 'server-wire', d),
    );
    // The attacker accepts any version or cipher the victim offers, down to TLS 1.0 (and, when
    // the addon caps it, no higher than maxVersion).
    const clientTls = new tls.TLSSocket(clientDuplex, { isServer: true, secureContext: attackerSecureContext(identity, maxVersion) });
    const serverTls = tls.connect({
      socket: serverDuplex,
      servername: eng.upstreamServername,
      rejectUnauthorized: false, // the attacker does not care who the server is
      minVersion: 'TLSv1',
      ciphers: 'ALL:eNULL:@SECLEVEL=0',
    });
    if (eng.keylog) {
      clientTls.on('keylog', eng.keylog);
      serverTls.on('keylog', eng.keylog);
    }
    this.clientEnd = clientTls;
    this.serverEnd = serverTls;
    clientTls.on('secure', () => {
      this.record.clientHop = negotiatedOf(clientTls);
    });
    serverTls.on('secureConnect', () => {
      this.record.serverHop = negotiatedOf(serverTls);
    });
    clientTls.on('data', (d: Buffer) => {
      eng.capture(id, 'c2s', 'plaintext', d);
      this.forward(serverTls, d, 'c2s', 'plaintext');
    });
    serverTls.on('data', (d: Buffer) => {
      eng.capture(id, 's2c', 'plaintext', d);
      this.forward(clientTls, d, 's2c', 'plaintext');
    });
    const onErr = (side: 'client' | 'server', other: tls.TLSSocket) => (err: Error) => {
      this.record.errors.push({ side, ...describeError(err) });
      other.destroy();
    };
    clientTls.on('error', onErr('client', serverTls));
    serverTls.on('error', onErr('server', clientTls));
    clientTls.on('end', () => serverTls.end());
    serverTls.on('end', () => clientTls.end());
    clientTls.on('close', () => serverTls.destroy());
    serverTls.on('close', () => clientTls.destroy());
    this.clientRaw.resume();
  }
}

/**
 * A listening MITM proxy. Start one per scenario; `traffic` and `connections` hold what it saw.
 */
export class ProxyEngine {
  readonly addon: ProxyAddon;
  readonly traffic: TrafficChunk[] = [];
  readonly connections: ProxyConnectionRecord[] = [];
  readonly upstream: { host: string; port: number };
  readonly upstreamServername: string | undefined;
  readonly keylog?: (line: Buffer) => void;
  /** Wall-clock time the proxy started, ms since the epoch: `TrafficChunk.t` counts from here. */
  readonly startedAtEpochMs = Date.now();
  private server!: net.Server;
  private readonly startedAt = performance.now();
  private readonly live = new Set<ProxyConnection>();
  private readonly byId = new Map<number, ProxyConnection>();
  private readonly sockets = new Set<net.Socket>();
  private nextId = 1;
  private closeWaiters: Array<() => void> = [];
  port = 0;
  host = '127.0.0.1';

  private constructor(opts: ProxyOptions) {
    this.addon = opts.addon ?? { name: 'relay' };
    this.upstream = opts.upstream;
    this.upstreamServername = opts.upstreamServername ?? (net.isIP(opts.upstream.host) ? undefined : opts.upstream.host);
    this.keylog = opts.keylog;
  }

  /** Starts listening. @returns the engine, with `port` set */
  static async start(opts: ProxyOptions): Promise<ProxyEngine> {
    const eng = new ProxyEngine(opts);
    eng.server = net.createServer((client) => eng.accept(client));
    await new Promise<void>((resolve, reject) => {
      eng.server.once('error', reject);
      eng.server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
    });
    const addr = eng.server.address() as net.AddressInfo;
    eng.port = addr.port;
    eng.host = addr.address;
    return eng;
  }

  /** ms since the proxy started (timestamps of traffic and records). */
  elapsedMs(): number {
    return Math.round((performance.now() - this.startedAt) * 1000) / 1000;
  }

  /** @internal records a chunk */
  capture(conn: number, dir: Direction, layer: Layer, data: Buffer): void {
    this.traffic.push({ conn, dir, layer, t: this.elapsedMs(), data: Buffer.from(data) });
  }

  /** @internal */
  connectionClosed(c: ProxyConnection): void {
    this.live.delete(c);
    if (this.live.size === 0) for (const w of this.closeWaiters.splice(0)) w();
  }

  /** The connection whose victim is at `peer` (address:port), if any. */
  connectionByPeer(peer: string | null): ProxyConnection | undefined {
    return peer ? [...this.byId.values()].find((c) => c.record.clientPeer === peer) : undefined;
  }

  /**
   * Sends recorded bytes to the real server on a fresh TCP connection of the engine's own, paced,
   * and collects the answer until `opts.settled` says the server's reaction was seen (or
   * `opts.timeoutMs` passed); then closes it. Attacks replay through this and never hold a socket.
   */
  async replayOnNewConnection(chunks: Buffer[], opts: NewConnectionOptions): Promise<NewConnectionResult> {
    const sock = net.connect(this.upstream);
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    const response: Buffer[] = [];
    sock.on('data', (d: Buffer) => response.push(d));
    sock.on('error', () => {});
    await new Promise<void>((resolve) => {
      sock.once('connect', resolve);
      sock.once('error', () => resolve());
    });
    const peer = `${sock.localAddress}:${sock.localPort}`;
    for (const c of chunks) {
      if (sock.destroyed) break;
      sock.write(c);
      await new Promise((r) => setTimeout(r, opts.paceMs ?? 10));
    }
    const end = performance.now() + opts.timeoutMs;
    let settled = false;
    while (!(settled = opts.settled(peer, Buffer.concat(response))) && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
    sock.destroy();
    return { peer, response: Buffer.concat(response), chunks: chunks.length, settled };
  }

  /** Resolves when no proxied connection is open any more (or after `timeoutMs`). */
  idle(timeoutMs = 2000): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Bytes seen in one direction at one layer, concatenated per connection in order. */
  bytes(filter: { dir?: Direction; layer?: Layer; conn?: number } = {}): Buffer {
    return Buffer.concat(
      this.traffic.filter((c) => (!filter.dir || c.dir === filter.dir) && (!filter.layer || c.layer === filter.layer) && (filter.conn === undefined || c.conn === filter.conn)).map((c) => c.data),
    );
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect(this.upstream);
    // Relay each chunk as it arrives: with Nagle's algorithm on, a small chat frame can wait for
    // the peer's delayed ACK (~40 ms) at every hop, which no real on-path attacker would add.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.on('close', () => this.sockets.delete(client));
    upstream.on('close', () => this.sockets.delete(upstream));
    const conn = new ProxyConnection(this, this.nextId++, client, upstream);
    this.live.add(conn);
    this.byId.set(conn.record.id, conn);
    this.connections.push(conn.record);
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
