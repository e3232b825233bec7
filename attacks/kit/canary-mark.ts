/**
 * The moment alice is about to send the canary, as an attacker watching the wire would learn it
 * by traffic analysis: attacks that act on "alice's message" arm themselves with it instead of
 * each keeping its own flags.
 */
import type { ProxyConnection } from '../proxy.ts';
import type { LiveConversation } from '../types.ts';

/** Pass `mark.beforeCanary` to runConversation; then ask `mark.isAlice(conn)` from a hook. */
export class CanaryMark {
  /** alice's address:port as the proxy names it, once marked */
  alicePeer: string | null = null;
  /** proxy time (ms) at the mark, or null before it */
  atMs: number | null = null;

  /** The conversation hook that sets the mark. */
  readonly beforeCanary = (live: LiveConversation): void => {
    this.alicePeer = live.alicePeer;
    this.atMs = live.proxy?.elapsedMs() ?? 0;
  };

  /** True for alice's connection once she is about to send the canary. */
  isAlice(conn: ProxyConnection): boolean {
    return this.atMs !== null && conn.record.clientPeer === this.alicePeer;
  }
}
