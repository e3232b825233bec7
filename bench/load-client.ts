/**
 * One connection of the load generator's fleet (bench/load.ts): a TLS or TCP socket with a
 * core/frames.ts decoder, a greeting wait, one request at a time during setup, then every frame
 * handed to the fleet. The same client code for both servers, so their figures compare servers.
 * @module
 */
import net from 'node:net';
import tls from 'node:tls';
import { FrameDecoder, encodeFrame, type Frame } from '../core/frames.ts';
import type { LoadTarget } from './load.ts';

/** How long a new connection waits for the server's greeting, in ms. */
const HELLO_TIMEOUT_MS = 30_000;

/** One connection of the fleet. */
export class LoadClient {
  readonly index: number;
  readonly name: string;
  socket!: net.Socket;
  closed = false;
  /** Called for every frame once setup is done. */
  onFrame: (f: Frame) => void = () => {};
  private readonly decoder = new FrameDecoder({ maxFrameBytes: 4 * 1024 * 1024 });
  private waiter: ((f: Frame) => boolean) | null = null;
  private onClose: (() => void) | null = null;

  constructor(index: number, name: string) {
    this.index = index;
    this.name = name;
  }

  /** Connects and waits for the server's first frame (`welcome`, or the baseline's `hello`). */
  open(target: LoadTarget): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`client ${this.index}: no greeting within ${HELLO_TIMEOUT_MS} ms`)), HELLO_TIMEOUT_MS);
      const fail = (err: Error) => {
        clearTimeout(timer);
        this.socket.destroy();
        reject(err);
      };
      this.socket = target.tls ? tls.connect({ ...target.tls, host: target.host, port: target.port }) : net.connect({ host: target.host, port: target.port });
      this.socket.setNoDelay(true);
      this.socket.on('error', (err) => fail(err));
      this.socket.on('close', () => {
        this.closed = true;
        this.onClose?.();
      });
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
      this.waiter = (f) => {
        if (f.type !== 'welcome' && f.type !== 'hello') return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
    });
  }

  /** Sends a request and waits for the frame answering it (`re` = id). */
  request(frame: Frame, id: number): Promise<Frame> {
    return new Promise<Frame>((resolve, reject) => {
      this.onClose = () => reject(new Error(`client ${this.index}: connection closed during ${frame.type}`));
      this.waiter = (f) => {
        if (f.re !== id) return false;
        this.onClose = null;
        resolve(f);
        return true;
      };
      this.socket.write(encodeFrame({ ...frame, id }));
    });
  }

  /** Routes frames to `onFrame` from now on; `closed` tells the fleet when this client drops. */
  ready(onClose: () => void): void {
    this.waiter = null;
    this.onClose = onClose;
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      let f: Frame | null;
      try {
        f = this.decoder.next();
      } catch (err) {
        // A bad line from the server shows up as loss; an oversized one ends the stream.
        if ((err as { details?: { fatal?: boolean } }).details?.fatal) {
          this.socket.destroy();
          return;
        }
        continue;
      }
      if (!f) return;
      if (this.waiter) {
        if (this.waiter(f)) this.waiter = null;
        continue;
      }
      this.onFrame(f);
    }
  }
}
