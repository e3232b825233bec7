/**
 * The proxy engine every attack shares: it sits between a victim client and the real server,
 * relays bytes, and — when an addon asks — terminates TLS with a certificate of the attacker's
 * choosing and opens its own TLS connection to the real server. It records everything it sees.
 *
 * Like mitmproxy's addons, attacks never touch sockets: they implement {@link ProxyAddon} hooks
 * and act through {@link ProxyConnection}. The engine knows no attack by name.
 *
 * This file is the engine (listening, accepting, recording, replay on a new connection); the
 * pieces it is built from are in attacks/proxy/: `types.ts` (directions, layers, records, addon
 * hooks), `connection.ts` (one victim connection), `frame-layer.ts` (chat frames per direction),
 * `tls-termination.ts` (the attacker's TLS on both hops).
 */
import net from 'node:net';
import { ProxyConnection } from './proxy/connection.ts';
import type { Direction, Layer, ProxyAddon, ProxyConnectionRecord, TrafficChunk } from './proxy/types.ts';

export type { Direction, HelloDecision, Layer, ProxyAddon, ProxyConnectionRecord, TrafficChunk } from './proxy/types.ts';
export { ProxyConnection } from './proxy/connection.ts';
export { PROXY_MAX_FRAME_BYTES } from './proxy/frame-layer.ts';
export { attackerSecureContext } from './proxy/tls-termination.ts';

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

/**
 * One recorded chunk to send again. `awaitAnswer`: in the recording the server spoke between the
 * previous chunk and this one (a welcome line, a STARTTLS answer, a TLS ServerHello flight), so
 * the replay waits for the server's answer before sending it, as the victim did. Without that wait
 * a slow server reads two flights at once and refuses them for arriving together — a refusal the
 * victim never met, which would make the verdict depend on the machine's load.
 */
export interface ReplayChunk {
  data: Buffer;
  awaitAnswer: boolean;
}

/** Options of {@link ProxyEngine.replayOnNewConnection}. */
export interface NewConnectionOptions {
  /** pause after each chunk, ms */
  paceMs?: number;
  /** longest wait for the server's answer before a chunk marked `awaitAnswer`, ms (default 1000) */
  answerWaitMs?: number;
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
   * Sends recorded bytes to the real server on a fresh TCP connection of the engine's own, paced
   * (and, for a chunk marked `awaitAnswer`, after the server's answer, as in the recording), and collects the answer until `opts.settled` says the server's reaction was seen (or
   * `opts.timeoutMs` passed); then closes it. Attacks replay through this and never hold a socket.
   */
  async replayOnNewConnection(chunks: Array<Buffer | ReplayChunk>, opts: NewConnectionOptions): Promise<NewConnectionResult> {
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
    const answered = () => response.reduce((n, d) => n + d.length, 0);
    let answeredAtLastWrite = 0;
    for (const c of chunks) {
      if (sock.destroyed) break;
      const chunk = Buffer.isBuffer(c) ? { data: c, awaitAnswer: false } : c;
      if (chunk.awaitAnswer) {
        const until = performance.now() + (opts.answerWaitMs ?? 1000);
        while (answered() === answeredAtLastWrite && !sock.destroyed && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
        if (sock.destroyed) break;
      }
      answeredAtLastWrite = answered();
      sock.write(chunk.data);
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
