/**
 * The proxy engine's vocabulary, shared by the engine, its connections and every addon: the two
 * directions and three layers traffic is recorded at, a connection's record, and the addon hooks
 * (mitmproxy's addon model: an attack implements hooks, it never holds a socket).
 */
import type tls from 'node:tls';
import type { Frame } from '../../core/frames.ts';
import type { ClientHello } from '../../core/tls/client-hello.ts';
import type { CertKeyPem, NegotiatedTls } from '../../core/tls/node-options.ts';
import type { ProxyConnection } from './connection.ts';

/** c2s: victim client → server; s2c: server → victim client. */
export type Direction = 'c2s' | 's2c';

/**
 * Where bytes were seen: `client-wire` on the victim's TCP connection (what a network tap sees),
 * `server-wire` on the proxy's own connection to the server (differs only once TLS is terminated,
 * or where a `rewrite` decision forwarded a different ClientHello),
 * `plaintext` inside TLS the proxy terminated.
 */
export type Layer = 'client-wire' | 'server-wire' | 'plaintext';

/** One chunk of traffic as the proxy saw it (before any addon changed it). */
export interface TrafficChunk {
  conn: number;
  dir: Direction;
  layer: Layer;
  /** ms since the proxy started */
  t: number;
  data: Buffer;
}

/** What the engine does with a connection whose client just sent a TLS ClientHello. */
export type HelloDecision =
  | { action: 'relay' }
  // maxVersion caps the version the attacker's hop towards the victim agrees to: a victim that
  // accepts the attacker's certificate gets whatever version the attacker picks (downgrade-fallback).
  // ciphers (an OpenSSL cipher string, TLS 1.3 names included as node takes them) narrows what the
  // attacker's hop towards the victim accepts: the attacker picks the victim's suite (downgrade-suite).
  | { action: 'terminate'; identity: CertKeyPem; maxVersion?: tls.SecureVersion; ciphers?: string }
  // rewrite: forward `hello` (whole TLS records, e.g. from core/tls/client-hello-rewrite.ts) to the
  // server instead of the victim's ClientHello, then relay the rest untouched. The victim's own
  // bytes stay recorded at `client-wire`; the forwarded ones are recorded at `server-wire`.
  | { action: 'rewrite'; hello: Buffer; note?: string }
  | { action: 'kill'; reason: string };

/** A record of one proxied connection, kept for the verdict and the report. */
export interface ProxyConnectionRecord {
  id: number;
  /** victim's address:port */
  clientPeer: string;
  /** proxy's local address:port towards the server */
  upstreamLocal: string | null;
  startedAtMs: number;
  endedAtMs: number | null;
  mode: 'relay' | 'rewrite' | 'terminate' | 'kill';
  /** the ClientHello record bytes as first seen (null if the client never sent TLS) */
  clientHello: Buffer | null;
  /** the ClientHello decoded (offered versions, suites, groups, SNI), or null */
  clientHelloInfo: ClientHello | null;
  /** mode `rewrite`: the ClientHello the attacker forwarded to the server instead, else null */
  forwardedHello: Buffer | null;
  /** TLS negotiated between victim and proxy (terminate mode) */
  clientHop: NegotiatedTls | null;
  /** TLS negotiated between proxy and server (terminate mode) */
  serverHop: NegotiatedTls | null;
  /** errors on either hop, in order */
  errors: Array<{ side: 'client' | 'server'; code: string; message: string }>;
  /** free-form notes addons add (what they changed, injected, killed) */
  notes: string[];
}

/** Hooks an attack implements. Every hook is optional. */
export interface ProxyAddon {
  name: string;
  /**
   * The victim sent a TLS ClientHello: `raw` holds the whole record(s), `hello` the decoded
   * message (null if it could not be parsed). Decide how to carry the connection.
   */
  onClientHello?(conn: ProxyConnection, raw: Buffer, hello: ClientHello | null): HelloDecision | Promise<HelloDecision>;
  /**
   * Bytes about to be forwarded. Return replacement bytes, null to drop them, or undefined to
   * forward unchanged. `layer` is `client-wire` in relay mode and `plaintext` after termination.
   */
  onData?(conn: ProxyConnection, data: Buffer, dir: Direction, layer: Layer): Buffer | null | undefined;
  /**
   * A whole chat frame (JSON Lines, core/frames.ts) the engine decoded where the attacker can
   * read them: `client-wire` before any TLS, `plaintext` inside TLS it terminated. Runs after
   * `onData`. Return replacement frames (an array may be empty), null to drop it, undefined to
   * forward it unchanged. The engine owns the decoder (one per connection and direction) and its
   * error policy: an unparsable line is dropped and noted; a fatal error (a line over
   * {@link PROXY_MAX_FRAME_BYTES} without a newline) is noted once and the connection is killed —
   * it never spins on a poisoned decoder.
   */
  onFrame?(conn: ProxyConnection, frame: Frame, dir: Direction, layer: Layer): Frame | Frame[] | null | undefined;
  /** The connection ended (both sides closed). */
  onClose?(conn: ProxyConnection): void;
}
