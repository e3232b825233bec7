/**
 * The small interface every attack implements, and the shapes of what a run observes and
 * concludes. Attacks are listed in attacks/registry.ts; they never import each other.
 */
import type { Profile } from '../core/profile.ts';
import type { PkiMaterial } from '../core/pki.ts';
import type { Frame } from '../core/frames.ts';
import type { NegotiatedTls } from '../core/tls/node-options.ts';
import type { Negotiated as ChannelNegotiated } from '../core/channel/index.ts';
import type { ProxyAddon, ProxyConnectionRecord, ProxyEngine } from './proxy.ts';
import type { Position } from './kit/position.ts';
import type { ChatServer, ServerLogEntry } from '../server/chat-server.ts';
import type { ChatClient } from '../client/chat-client.ts';
import type { AttackPremise, Evidence, Impact, Outcome } from '../reports/results.ts';

// The result model (reports/results.ts) owns these; re-exported so attacks name them from here.
export type { AttackPremise, Evidence, Impact, Outcome };

/** An attack's conclusion, before the runner adds timing and identity. */
export interface Verdict {
  outcome: Outcome;
  /** One sentence: what the attacker achieved, or what stopped it (naming the exact error). */
  reason: string;
  /** A few words for table cells (≤ 40 characters), e.g. "refused: pin mismatch". */
  summary: string;
  /** What the attack broke (empty unless succeeded). */
  impact: Impact[];
  evidence: Evidence[];
  /** TLS parameters the victim negotiated (on its hop), or null. */
  negotiated: NegotiatedTls | null;
  /** Files the run kept (captures, key logs), relative to the report folder or absolute. */
  artifacts?: Record<string, string>;
  /** Extra measured data specific to the attack (e.g. guesses per second). */
  data?: Record<string, unknown>;
  /**
   * Premise attacks only: false when the attacker measured that it reached its result without the
   * premise (reports/results.ts `CellResult.premiseUsed`); true when the premise was set up for
   * the run this verdict comes from. Left unset by attacks without a premise.
   */
  premiseUsed?: boolean;
}

/** What one scripted client saw. */
export interface ClientObservation {
  /** the client completed TLS (if any) and got the server's welcome */
  connected: boolean;
  /** logged in */
  loggedIn: boolean;
  negotiated: NegotiatedTls | null;
  /** the secure channel's negotiated parameters, or null when there is none */
  channel: ChannelNegotiated | null;
  /** handshakes the client itself gave up on before falling back (client.fallback), in order */
  fallbackAttempts: Array<{ maxVersion: string; error: string }>;
  /** the client's local address:port (how the proxy's records name its connection) */
  localAddress: string | null;
  /** the first error the client raised (certificate refusal, handshake failure...), if any */
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
  /** every frame the client received, in order */
  received: Frame[];
}

/** Everything a scenario run observed: the material verdicts are built from. */
export interface Observations {
  /** the random secret alice sent bob */
  canary: string;
  /** exact text alice sent */
  canaryMessage: string;
  proxy: { connections: ProxyConnectionRecord[]; engine: ProxyEngine } | null;
  clients: { alice: ClientObservation; bob: ClientObservation };
  server: { log: ServerLogEntry[]; port: number };
  /** the dm text bob received from alice, or null if none arrived */
  bobReceived: string | null;
  /** how many direct messages from alice carrying the canary bob received in all (replays count) */
  bobCanaryCopies: number;
  /** the reply text alice received from bob, or null */
  aliceReceived: string | null;
  /** ms the conversation took */
  durationMs: number;
}

/** Options for one scripted conversation. */
export interface ConversationOptions {
  /** proxy addon; default a plain relay. `null`: no proxy, clients talk to the server directly */
  addon?: ProxyAddon | null;
  /** roots the victim clients trust in addition to the lab CA (e.g. a rogue interception CA) */
  extraTrustedCaPems?: string[];
  /** reuse a running server instead of starting one */
  server?: ChatServer;
  /** keep the server running after the conversation (the caller closes it) */
  keepServer?: boolean;
  /** override the canary for this conversation */
  canary?: string;
  /**
   * the profile the victim clients use instead of the run's profile (the server keeps the run's),
   * e.g. a legacy client that offers only static-RSA suites
   */
  clientProfile?: Profile;
  /** receives NSS key log lines of the victims' TLS sessions and of the proxy's own hops */
  keylog?: (line: Buffer) => void;
  /** called just before alice sends the canary (attacks arm their hooks here) */
  beforeCanary?: (live: LiveConversation) => void | Promise<void>;
  /** called after the exchange, before anyone quits (replays happen here) */
  afterExchange?: (live: LiveConversation) => Promise<void>;
}

/** The conversation while it runs, for attacks that act in the middle of it. */
export interface LiveConversation {
  alice: ChatClient;
  bob: ChatClient;
  server: ChatServer;
  proxy: ProxyEngine | null;
  /** alice's address:port as the proxy sees it */
  alicePeer: string | null;
  /** the exact text alice sends */
  canaryMessage: string;
  /** the server's log so far (grows while the conversation runs) */
  serverLog: ServerLogEntry[];
}

/** What the runner gives an attack. */
export interface AttackContext {
  profile: Profile;
  pki: PkiMaterial;
  /** the random secret of this run */
  canary: string;
  /** a private temporary folder for this run (deleted afterwards) */
  tmpDir: string;
  /** folder where the run may keep artifacts (captures, key logs), or null */
  artifactDir: string | null;
  /** the users the scenario registers and their passwords (attacks/scenario.ts labUsers); the lab's knowledge, not the attacker's */
  users: { alice: string; bob: string };
  /** the password thief's budget, in CPU-core seconds (default one core for one day; `--crack-budget`) */
  crackBudgetCoreSeconds: number;
  /** starts a fresh chat server with the profile on a free loopback port and a fresh database */
  startServer(): Promise<ChatServer>;
  /** runs the standard conversation (alice → bob canary dm, bob replies) through a proxy */
  runConversation(opts?: ConversationOptions): Promise<Observations>;
  /** the strongest position an attacker without a premise reaches against this profile (attacks/kit/position.ts), probed once per profile */
  position(): Promise<Position>;
}

/** An attack plugin. */
export interface Attack {
  /** stable id, kebab-case, e.g. `mitm-self-signed` */
  id: string;
  /** short title for tables */
  title: string;
  /** one paragraph: what the attacker does, and what success means */
  description: string;
  /**
   * Set when the attack assumes more than a position on the network — something done to the
   * victim's machine that no setting of a correctly configured profile is expected to survive
   * (e.g. a rogue root CA installed in its trust store). Recorded in results.json, so reports
   * show its cells in their own style with the premise and the per-profile verdicts say "holds
   * against every attack except those that assume …". Attacks whose setting exists to survive
   * the theft they assume (retro-decrypt and forward secrecy, password-crack and password
   * storage) are not premise attacks: their success is the setting's failure.
   */
  premise?: AttackPremise;
  /**
   * Precondition check on the profile. Returns null when the attack applies, or the reason it
   * does not (the run is then `not-applicable`). Must never predict the outcome.
   */
  applicability?(profile: Profile): string | null;
  /**
   * True when the attack's evidence is a recording (captures, key logs): the matrix then keeps
   * its files even without `--capture`, so the report can link them.
   */
  keepsRecordings?: boolean;
  /**
   * True when the verdict does not depend on the chat working (e.g. cracking a stolen database).
   * Otherwise a `blocked` verdict is only kept if the chat works with the profile when no attacker
   * is present — a profile that breaks the chat "blocks" everything and proves nothing.
   */
  independentOfChat?: boolean;
  /**
   * Work the matrix awaits once before any cell runs (e.g. measuring a guess rate while nothing
   * else runs, so the measurement is not skewed by the other cells).
   */
  beforeMatrix?(profiles: Profile[]): Promise<void>;
  /** Performs the attack and concludes from what it observed. */
  run(ctx: AttackContext): Promise<Verdict>;
}
