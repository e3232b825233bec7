/**
 * The chat client's requests in flight: each request frame gets a fresh `id`, and the frame whose
 * `re` names it answers it (docs/protocol.md) — an `error` frame rejects, anything else resolves.
 * Each request has its own timeout; a closed connection rejects them all.
 * @module
 */
import { ERROR_CODES, SecchatError } from '../core/errors.ts';
import type { Frame } from '../core/frames.ts';

/** Requests awaiting their answer, keyed by id. */
export class PendingRequests {
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (f: Frame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  /** @param timeoutMs how long each request waits for its answer, in ms */
  constructor(readonly timeoutMs: number) {}

  /**
   * Sends `frame` with a fresh `id` through `send` and waits for its answer.
   * @returns the answering frame
   * @throws SecchatError SERVER (details.code = the protocol error code) for an `error` answer,
   *         TIMEOUT after {@link timeoutMs}; whatever `send` throws; the error of {@link rejectAll}
   */
  request(frame: Frame, send: (frame: Frame) => void): Promise<Frame> {
    const id = this.#nextId++;
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new SecchatError(ERROR_CODES.TIMEOUT, `no answer to ${frame.type} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        send({ ...frame, id });
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(err);
      }
    });
  }

  /**
   * Settles the request `frame.re` names, if one waits.
   * @returns true when the frame answered a request (it is then not a push from the server)
   */
  answer(frame: Frame): boolean {
    const re = typeof frame.re === 'number' ? this.#pending.get(frame.re) : undefined;
    if (!re) return false;
    this.#pending.delete(frame.re as number);
    clearTimeout(re.timer);
    if (frame.type === 'error') re.reject(serverError(frame));
    else re.resolve(frame);
    return true;
  }

  /** Rejects every request in flight with `err` (the connection closed). */
  rejectAll(err: Error): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
  }
}

/** The error a request rejects with when the server answers it with an `error` frame. */
function serverError(frame: Frame): SecchatError {
  return new SecchatError(ERROR_CODES.SERVER, `server refused: ${String(frame.code)}: ${String(frame.message ?? '')}`, { code: frame.code });
}
