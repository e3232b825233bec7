/**
 * Output backpressure: a fast sender is slowed, a reading recipient is never dropped, and only a
 * recipient that takes no bytes at all is cut (slow_consumer).
 *
 * Each connection's output is watched by an {@link OutputWatch}. When more than half of
 * `maxQueueBytes` is queued to a recipient it is *behind*; while any recipient is behind, the
 * {@link RoomBackpressure} holds every connection's input (the adapter stops pulling frames and
 * pauses its socket, so TCP flow control pushes back on the sender), and releases them all once
 * every recipient caught up (the socket's 'drain'). A recipient that stays behind with no byte
 * taken for `slowConsumerStallMs` is cut. This is the shape of Node's own stream backpressure
 * (writable.write() returning false, 'drain') applied across connections.
 *
 * Memory bound: a recipient's queue stays under maxQueueBytes / 2 plus what the senders' frames in
 * flight add before they are held (maxPendingFramesPerConnection frames each); past
 * {@link HARD_QUEUE_FACTOR} × maxQueueBytes the recipient is cut at once.
 */
import type net from 'node:net';

/** Past this many times maxQueueBytes queued to one recipient, it is cut without waiting for the stall time. */
export const HARD_QUEUE_FACTOR = 4;

/** Limits an {@link OutputWatch} needs (fields of ServerLimits). */
export interface OutputLimits {
  /** Bytes queued to one client; half of it is the high-water mark, in bytes. */
  maxQueueBytes: number;
  /** Time a recipient over the high-water mark may take no byte before it is cut, in ms. */
  slowConsumerStallMs: number;
}

/**
 * Watches one connection's output queue (`writableLength` of the stream it writes to).
 * Calls `onBehind(true)` when the queue passes the high-water mark and `onBehind(false)` once it
 * drained; `onStalled(queuedBytes)` once when it made no progress for `slowConsumerStallMs` while
 * behind, or passed the hard cap.
 */
export class OutputWatch {
  onBehind: (behind: boolean) => void = () => {};
  onStalled: (queuedBytes: number) => void = () => {};
  private queuedTotal = 0;
  private behind = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private lastDrained = 0;
  private lastProgressAt = 0;
  /** The stream a 'drain' listener waits on, so each stream gets at most one (the timer polls meanwhile). */
  private drainOn: net.Socket | null = null;
  private readonly highWater: number;
  private readonly limits: OutputLimits;
  private readonly stream: () => net.Socket;
  private readonly now: () => number;

  /**
   * @param stream the stream written to now (it changes after STARTTLS)
   * @param now clock in ms, injectable for tests
   */
  constructor(limits: OutputLimits, stream: () => net.Socket, now: () => number = Date.now) {
    this.limits = limits;
    this.highWater = Math.floor(limits.maxQueueBytes / 2);
    this.stream = stream;
    this.now = now;
  }

  /** Bytes handed to the stream, not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.stream().writableLength;
  }

  /** Call after each write of `bytes` bytes. */
  wrote(bytes: number): void {
    if (this.stopped) return;
    this.queuedTotal += bytes;
    const queued = this.queuedBytes;
    if (queued > HARD_QUEUE_FACTOR * this.limits.maxQueueBytes) return this.stall(queued);
    if (this.behind || queued <= this.highWater) return;
    this.behind = true;
    this.lastDrained = this.drained();
    this.lastProgressAt = this.now();
    // write() returned false above the stream's own (smaller) high-water mark, so 'drain' comes.
    this.armDrain();
    this.timer = setInterval(() => this.check(), Math.max(1, Math.floor(this.limits.slowConsumerStallMs / 4)));
    this.timer.unref();
    this.onBehind(true);
  }

  /** Stops watching (connection closed). */
  stop(): void {
    this.stopped = true;
    this.clear();
  }

  /** Bytes the kernel has taken so far. */
  private drained(): number {
    return this.queuedTotal - this.queuedBytes;
  }

  private check(): void {
    if (!this.behind || this.stopped) return;
    const queued = this.queuedBytes;
    if (queued <= this.highWater) {
      this.clear();
      this.onBehind(false);
      return;
    }
    const drained = this.drained();
    if (drained !== this.lastDrained) {
      this.lastDrained = drained;
      this.lastProgressAt = this.now();
      this.armDrain();
      return;
    }
    if (this.now() - this.lastProgressAt >= this.limits.slowConsumerStallMs) this.stall(queued);
  }

  /** Waits for the current stream's 'drain', unless a listener already waits on it. */
  private armDrain(): void {
    const s = this.stream();
    if (this.drainOn === s) return;
    this.drainOn = s;
    s.once('drain', () => {
      if (this.drainOn === s) this.drainOn = null;
      this.check();
    });
  }

  private stall(queued: number): void {
    this.stopped = true;
    this.clear();
    this.onStalled(queued);
  }

  private clear(): void {
    this.behind = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * The server's recipients that are behind, and the senders waiting for them. Keys are opaque
 * per-connection objects (the adapter's ports).
 */
export class RoomBackpressure {
  private readonly behindSet = new Set<object>();
  private readonly waiting = new Map<object, () => void>();

  /** True while any recipient is behind: no connection's input should be read. */
  get congested(): boolean {
    return this.behindSet.size > 0;
  }

  /** A recipient passed its high-water mark. */
  behind(who: object): void {
    this.behindSet.add(who);
  }

  /** A recipient drained. When none is behind any more, every held sender resumes. */
  caughtUp(who: object): void {
    this.behindSet.delete(who);
    this.releaseIfClear();
  }

  /** `who` stopped reading its input; `resume` is called once when the room is clear. */
  hold(who: object, resume: () => void): void {
    this.waiting.set(who, resume);
  }

  /** A connection closed: it is neither behind nor waiting. */
  forget(who: object): void {
    this.waiting.delete(who);
    this.behindSet.delete(who);
    this.releaseIfClear();
  }

  private releaseIfClear(): void {
    if (this.behindSet.size > 0 || this.waiting.size === 0) return;
    const resumes = [...this.waiting.values()];
    this.waiting.clear();
    for (const r of resumes) r();
  }
}
