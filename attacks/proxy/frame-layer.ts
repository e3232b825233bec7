/**
 * The proxy's chat-frame layer for one connection and direction: the JSON Lines frames of
 * docs/protocol.md decoded with the one incremental parser (core/frames.ts), handed to the addon
 * one by one, and re-encoded as the addon keeps, replaces or drops them. One error policy: a line
 * that is not a chat frame is dropped and noted; a fatal error (an oversized or poisoned stream)
 * is noted once, the layer stops, and the connection is killed after a short grace.
 */
import { describeError, ProtocolError } from '../../core/errors.ts';
import { encodeFrame, FrameDecoder, type Frame } from '../../core/frames.ts';
import type { Direction } from './types.ts';

/** Largest chat frame the engine's frame layer buffers, in bytes (the server's own limit is lower). */
export const PROXY_MAX_FRAME_BYTES = 1 << 20;
/** Time a connection whose frame layer failed fatally stays up before the engine kills it, ms. */
const FATAL_GRACE_MS = 50;

/** What the frame layer needs from its connection. */
export interface FrameLayerHooks {
  /** the addon's verdict on one frame: undefined keeps it, null drops it, frames replace it */
  onFrame(frame: Frame): Frame | Frame[] | null | undefined;
  /** adds a line to the connection's notes */
  note(text: string): void;
  /** ends the connection */
  kill(reason: string): void;
}

/** The frame layer of one direction of one connection. */
export class FrameLayer {
  private readonly dec = new FrameDecoder({ maxFrameBytes: PROXY_MAX_FRAME_BYTES });
  private failed = false;

  constructor(
    private readonly dir: Direction,
    private readonly hooks: FrameLayerHooks,
  ) {}

  /**
   * Takes the next bytes of this direction's stream; returns the bytes to forward (the re-encoded
   * whole frames the addon kept), possibly empty while a frame is incomplete or after a fatal error.
   */
  push(data: Buffer): Buffer {
    const { dir } = this;
    if (this.failed) return Buffer.alloc(0);
    this.dec.push(data);
    const out: Buffer[] = [];
    for (;;) {
      let frame: Frame | null;
      try {
        frame = this.dec.next();
      } catch (err) {
        if (err instanceof ProtocolError && err.details?.fatal === false) {
          this.hooks.note(`frame layer (${dir}): dropped a line that is not a chat frame (${String(err.details?.protocolCode)})`);
          continue;
        }
        // A poisoned decoder throws on every call: stop here, once, and end the connection.
        this.failed = true;
        this.hooks.note(`frame layer (${dir}): ${describeError(err).message}; the connection is killed`);
        setTimeout(() => this.hooks.kill(`fatal frame error (${dir})`), FATAL_GRACE_MS).unref();
        break;
      }
      if (!frame) break;
      const r = this.hooks.onFrame(frame);
      if (r === undefined) out.push(encodeFrame(frame));
      else if (r !== null) for (const f of Array.isArray(r) ? r : [r]) out.push(encodeFrame(f));
    }
    return Buffer.concat(out);
  }
}
