/**
 * One victim connection through the proxy, as addons see it: the relay of raw bytes, the
 * ClientHello gathered whole (RFC 8446 §4.1.2; it may span TCP segments and records) before the
 * addon decides to relay, terminate or kill, and — where chat frames are readable — the frame
 * layer. Addons act through it (notes, injection, kill); they never hold its sockets.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { describeError } from '../../core/errors.ts';
import { encodeFrame, type Frame } from '../../core/frames.ts';
import { peekClientHello } from '../../core/tls/peek-client-hello.ts';
import { negotiatedOf, type CertKeyPem } from '../../core/tls/node-options.ts';
import { serverFlightGroup } from '../../core/tls/flight-group.ts';
import type { ProxyEngine } from '../proxy.ts';
import { FrameLayer } from './frame-layer.ts';
import { terminateHops } from './tls-termination.ts';
import type { Direction, HelloDecision, Layer, ProxyConnectionRecord } from './types.ts';

const TLS_HANDSHAKE_RECORD = 0x16;
/** Largest ClientHello the proxy gathers before giving up on parsing it, in bytes. */
const MAX_HELLO_BYTES = 64 * 1024;

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
  /** the chat-frame layer per direction, made at its first readable bytes */
  private readonly frameLayer: Record<Direction, FrameLayer | null> = { c2s: null, s2c: null };

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
      forwardedHello: null,
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
    if (this.engine.addon.onFrame && this.framesReadableAt(layer)) {
      const onFrame = this.engine.addon.onFrame;
      const fl = (this.frameLayer[dir] ??= new FrameLayer(dir, { onFrame: (f) => onFrame(this, f, dir, layer), note: (t) => this.note(t), kill: (r) => this.kill(r) }));
      data = fl.push(data);
    }
    if (data.length && !to.destroyed) to.write(data);
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
    if (decision.action === 'rewrite') {
      // What the victim sent stays the client-wire record; what the server got is the server-wire one.
      this.record.mode = 'rewrite';
      this.record.forwardedHello = Buffer.from(decision.hello);
      if (decision.note) this.note(decision.note);
      this.engine.capture(this.record.id, 'c2s', 'client-wire', hello);
      this.engine.capture(this.record.id, 'c2s', 'server-wire', decision.hello);
      this.forward(this.serverRaw, decision.hello, 'c2s', 'client-wire');
      this.clientRaw.resume();
      return;
    }
    this.terminate(decision.identity, hello, decision.maxVersion, decision.ciphers);
  }

  /** Terminates TLS on both hops: the victim gets `identity`; the server gets our own client. */
  private terminate(identity: CertKeyPem, hello: Buffer, maxVersion?: tls.SecureVersion, ciphers?: string): void {
    this.terminated = true;
    this.record.mode = 'terminate';
    const id = this.record.id;
    const eng = this.engine;
    this.clientRaw.removeAllListeners('data');
    this.serverRaw.removeAllListeners('data');
    const { clientTls, serverTls } = terminateHops(this.clientRaw, this.serverRaw, hello, identity, eng.upstreamServername, {
      clientRead: (d) => eng.capture(id, 'c2s', 'client-wire', d),
      clientWrite: (d) => eng.capture(id, 's2c', 'client-wire', d),
      serverRead: (d) => eng.capture(id, 's2c', 'server-wire', d),
      serverWrite: (d) => eng.capture(id, 'c2s', 'server-wire', d),
    }, maxVersion, ciphers);
    if (eng.keylog) {
      clientTls.on('keylog', eng.keylog);
      serverTls.on('keylog', eng.keylog);
    }
    this.clientEnd = clientTls;
    this.serverEnd = serverTls;
    clientTls.on('secure', () => {
      const hop = negotiatedOf(clientTls);
      // Node answers getEphemeralKeyInfo() on a client only: on this hop the attacker is the
      // server, so the group is read from the flight it sent the victim.
      this.record.clientHop = hop.group === null ? { ...hop, group: serverFlightGroup(eng.bytes({ conn: id, dir: 's2c', layer: 'client-wire' }))?.group ?? null } : hop;
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
