/**
 * Client keepalive: the server closes a connection that sends no frame for `idleTimeoutMs`
 * (announced in its welcome frame), so a client that only reads — a quiet lurker — sends a
 * `ping` a few times per idle period. A server that announces nothing gets no pings.
 */

/** Pings per idle period: three, so one late timer or one slow round trip never costs the connection. */
export const PINGS_PER_IDLE_PERIOD = 3;

/**
 * Starts pinging.
 * @param ping          sends one `{type:"ping"}` frame; must not throw
 * @param idleTimeoutMs the server's announced idle timeout in ms (any value: non-numbers disable it)
 * @returns the interval timer (unref'd, so it never keeps a process alive), or null when disabled
 */
export function startKeepalive(ping: () => void, idleTimeoutMs: unknown): NodeJS.Timeout | null {
  if (typeof idleTimeoutMs !== 'number' || !Number.isFinite(idleTimeoutMs) || idleTimeoutMs <= 0) return null;
  // The interval comes from the server's unauthenticated welcome: never faster than 10 pings a second.
  const timer = setInterval(ping, Math.max(100, Math.floor(idleTimeoutMs / PINGS_PER_IDLE_PERIOD)));
  timer.unref();
  return timer;
}
