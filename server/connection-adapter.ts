/**
 * One served connection of the chat server: the socket adapter between a socket and its session.
 * The connection's rules (server/connection-rules.ts) judge every frame; this module only carries
 * their actions out on the socket — writes (batched, `output-batching.ts`), the STARTTLS hand-over
 * (`starttls-upgrade.ts`), timers, input pausing and closing with a bounded grace.
 * @module
 */
import type net from 'node:net';
import { describeError } from '../core/errors.ts';
import { encodeFrame, type Frame } from '../core/frames.ts';
import { PROTOCOL_ERRORS, errorFrame } from '../core/protocol.ts';
import type { Profile } from '../core/profile.ts';
import { negotiatedOf, type CertKeyPem, type NegotiatedTls } from '../core/tls/node-options.ts';
import { ChannelServer } from '../core/channel/index.ts';
import { OutputWatch, type RoomBackpressure } from './backpressure.ts';
import { ServerConnectionRules, type ServerConnectionAction } from './connection-rules.ts';
import { addressKey, peerOf, tcpSocketOf } from './connection-limits.ts';
import { CLOSE_GRACE_MS, type ServerLimits } from './limits.ts';
import { corkUntilTurnEnds, encodeOnce } from './output-batching.ts';
import { ChatSession, type ChatHub, type ConnectionPort } from './session.ts';
import type { StartTls } from './starttls-upgrade.ts';

/** One structured log entry. Never contains passwords or keys. */
export interface ServerLogEntry {
  event: string;
  peer?: string;
  [field: string]: unknown;
}

/**
 * Wires one accepted socket to a session: the connection's rules (server/connection-rules.ts)
 * judge every frame; this function only carries their actions out on the socket — writes, the
 * STARTTLS hand-over, timers, input pausing and closing.
 * @param secure true when the socket is TLS from its first byte (transport tls)
 * @param tlsInfo what TLS negotiated, when read (only for the log); null otherwise
 * @returns the connection's port (shutdown sends its notice through it)
 */
export function serveConnection(
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
  const peer = peerOf(socket);
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
    // Read at logins only, from the TCP socket whose address node cached at accept: the same
    // address however late it is first read (even after the socket closed).
    get address() {
      return (address ??= addressKey(tcpSocketOf(socket).remoteAddress));
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

