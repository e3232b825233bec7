/**
 * Reading evidence out of observations: where (if anywhere) the attacker saw the canary, and
 * what stopped a victim. Shared by attacks so every verdict is built the same measured way.
 */
import { FrameDecoder, type Frame } from '../../core/frames.ts';
import { ProtocolError } from '../../core/errors.ts';
import type { Direction, Layer, ProxyEngine } from '../proxy.ts';
import type { Evidence, Observations } from '../types.ts';

/** Where the canary was found in what the attacker captured. */
export interface CanarySighting {
  conn: number;
  dir: Direction;
  layer: Layer;
  /** how it was encoded where found: raw bytes, or inside a base64 JSON field */
  encoding: 'raw' | 'base64-field';
  /** the captured bytes around the canary, printable */
  excerpt: string;
}

function printable(buf: Buffer): string {
  return buf.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
}

/** Bytes either side of a sighting kept in an excerpt. */
const EXCERPT_CONTEXT_BYTES = 40;

/**
 * The bytes around the first occurrence of `needle` in `haystack`, printable (non-ASCII as '.'),
 * or null when it does not occur.
 */
export function excerptAround(haystack: Buffer, needle: string | Buffer): string | null {
  // Buffer.from: a string as UTF-8 (node's default), a Buffer copied as it is.
  const n = Buffer.from(needle);
  const at = haystack.indexOf(n);
  if (at < 0) return null;
  return printable(haystack.subarray(Math.max(0, at - EXCERPT_CONTEXT_BYTES), at + n.length + EXCERPT_CONTEXT_BYTES));
}

/**
 * The excerpt around `needle` in the first string of a parsed JSON value (depth-first) that holds
 * it base64-encoded, or null.
 */
function base64Sighting(v: unknown, needle: Buffer): string | null {
  if (typeof v === 'string') return excerptAround(Buffer.from(v, 'base64'), needle);
  // objects and arrays; null and other primitives hold no strings
  if (!(v instanceof Object)) return null;
  for (const x of Object.values(v)) {
    const hit = base64Sighting(x, needle);
    if (hit !== null) return hit;
  }
  return null;
}

/**
 * The excerpt around `needle` in the first string, in the first JSON line of `text` holding it
 * base64-encoded, or null. Every line is tried: a line that is not JSON (ciphertext, a partial
 * frame) fails to parse at once.
 */
function base64InJsonLines(text: string, needle: Buffer): string | null {
  for (const line of text.split('\n')) {
    try {
      const hit = base64Sighting(JSON.parse(line), needle);
      if (hit !== null) return hit;
    } catch {
      /* not a whole JSON line */
    }
  }
  return null;
}

/**
 * Searches everything the proxy captured for the canary: raw bytes first, then every string
 * inside JSON lines decoded as base64 (how an unencrypted but encoded payload would travel; node's
 * decoder takes the standard and URL-safe alphabets, padded or not). A string that is not base64
 * decodes to bytes that cannot hold the canary unless its base64 is in it, so decoding every
 * string costs no false sighting. Returns the first sighting per connection/direction/layer,
 * in the order the connections were first seen, or an empty list.
 */
export function findCanary(engine: ProxyEngine, canary: string, layers: Layer[] = ['client-wire', 'server-wire', 'plaintext']): CanarySighting[] {
  const needle = Buffer.from(canary);
  const keys = new Map<string, { conn: number; dir: Direction; layer: Layer }>();
  for (const c of engine.traffic) if (layers.includes(c.layer)) keys.set(`${c.conn}/${c.dir}/${c.layer}`, { conn: c.conn, dir: c.dir, layer: c.layer });
  const sightings: CanarySighting[] = [];
  for (const k of keys.values()) {
    const bytes = engine.bytes(k);
    const raw = excerptAround(bytes, needle);
    if (raw !== null) {
      sightings.push({ ...k, encoding: 'raw', excerpt: raw });
      continue;
    }
    const decoded = base64InJsonLines(bytes.toString('latin1'), needle);
    if (decoded !== null) sightings.push({ ...k, encoding: 'base64-field', excerpt: decoded });
  }
  return sightings;
}

/** Evidence lines for canary sightings (the detail contains the recovered canary). */
export function sightingEvidence(s: CanarySighting[], canary: string): Evidence[] {
  return s.map((x) => ({
    kind: 'canary-recovered',
    detail: `canary ${canary} read by the attacker on connection ${x.conn} (${x.dir}, ${x.layer}${x.encoding === 'base64-field' ? ', decoded from a base64 field' : ''}): …${x.excerpt}…`,
  }));
}

/** The first client error of the run (alice's, else bob's), if any. */
export function firstClientError(obs: Observations): { who: 'alice' | 'bob'; code: string; message: string; details?: Record<string, unknown> } | null {
  if (obs.clients.alice.error) return { who: 'alice', ...obs.clients.alice.error };
  if (obs.clients.bob.error) return { who: 'bob', ...obs.clients.bob.error };
  return null;
}

/** Evidence summarising how the conversation went (who connected, what bob received). */
export function conversationEvidence(obs: Observations): Evidence[] {
  const ev: Evidence[] = [];
  for (const who of ['alice', 'bob'] as const) {
    const c = obs.clients[who];
    const tlsHop = c.negotiated ? `${c.negotiated.protocol ?? '?'} ${c.negotiated.cipher ?? '?'}${c.negotiated.group ? ' ' + c.negotiated.group : ''}` : 'no TLS';
    const hop = c.channel ? `${tlsHop}; secure channel ${c.channel.keyExchange} ${c.channel.cipher}, replay protection ${c.channel.replayProtection}` : tlsHop;
    ev.push({
      kind: `client-${who}`,
      detail: c.error ? `${who} stopped: ${c.error.code}: ${c.error.message}` : `${who} connected (${hop})${c.loggedIn ? ' and logged in' : ''}`,
    });
  }
  ev.push({
    kind: 'delivery',
    detail: obs.bobReceived === null ? 'bob received no message from alice' : obs.bobReceived === obs.canaryMessage ? 'bob received alice\'s message unaltered' : `bob received an ALTERED message: ${JSON.stringify(obs.bobReceived)}`,
  });
  return ev;
}

/** Notes and errors the proxy recorded on each connection, as evidence. */
export function proxyEvidence(obs: Observations): Evidence[] {
  const ev: Evidence[] = [];
  for (const c of obs.proxy?.connections ?? []) {
    for (const n of c.notes) ev.push({ kind: 'proxy-note', detail: `connection ${c.id}: ${n}` });
    if (c.mode === 'terminate') {
      ev.push({
        kind: 'proxy-tls',
        detail: `connection ${c.id}: attacker terminated TLS — victim hop ${c.clientHop ? `${c.clientHop.protocol} ${c.clientHop.cipher}` : 'did not complete'}, server hop ${c.serverHop ? `${c.serverHop.protocol} ${c.serverHop.cipher}` : 'did not complete'}`,
      });
    }
  }
  return ev;
}

/**
 * Server log events that say why the server refused something: all of them (`peer` undefined),
 * those of one peer, or none when the peer is unknown (`null`) — an unrelated refusal must never
 * stand in for the reason an attack failed.
 */
export function serverRefusals(obs: Observations, peer?: string | null): Array<{ event: string; peer?: string; code?: unknown; message?: unknown }> {
  // A log entry's peer is a string or absent: a null peer matches none of them.
  const kinds = new Set(['channel_error', 'socket_error', 'tls_error', 'protocol_error']);
  return obs.server.log.filter((e) => kinds.has(e.event) && (peer === undefined || e.peer === peer)) as Array<{ event: string; peer?: string; code?: unknown; message?: unknown }>;
}

/** One sentence naming what the server's refusal was, e.g. "TLS record MAC (ERR_SSL_...)". */
export function describeRefusal(r: { event: string; code?: unknown; message?: unknown }): string {
  const code = String(r.code ?? '');
  const msg = String(r.message ?? '');
  if (r.event === 'channel_error') return `the secure channel refused it (${code}): ${msg}`;
  if (isMacFailure(r)) return `the TLS record MAC check failed (${code || msg.slice(0, 80)})`;
  if (r.event === 'tls_error') return `the TLS handshake failed (${code}: ${msg.slice(0, 120)})`;
  return `${r.event} ${code}: ${msg.slice(0, 120)}`.trim();
}

/**
 * Whether a refusal is a failed TLS record integrity check (OpenSSL's `bad record mac` alert or
 * `DECRYPTION_FAILED`, node's `CIPHER_OPERATION_FAILED`), whichever log event carried it and
 * whether the code or the message names it.
 */
export function isMacFailure(r: { code?: unknown; message?: unknown }): boolean {
  return /BAD_RECORD_MAC|DECRYPTION_FAILED|bad record mac|CIPHER_OPERATION_FAILED/i.test(`${r.code} ${r.message}`);
}

/**
 * The most telling refusal: a channel error, then a TLS MAC failure, then a handshake error, then
 * anything else; the first of equally telling ones. undefined for an empty list.
 */
export function primaryRefusal<T extends { event: string; code?: unknown; message?: unknown }>(refusals: T[]): T | undefined {
  const rank = (r: T) => (r.event === 'channel_error' ? 0 : isMacFailure(r) ? 1 : r.event === 'tls_error' ? 2 : 3);
  return [...refusals].sort((a, b) => rank(a) - rank(b))[0];
}

/**
 * The chat frames readable in `bytes` (e.g. a server's answer to a replay), in order: lines that
 * are not frames are skipped; a fatal decoder error (a line of `maxFrameBytes` or more without a
 * newline, or encrypted bytes that never contain one) ends the reading there — it never spins.
 */
export function framesIn(bytes: Buffer, maxFrameBytes = 1 << 20): Frame[] {
  const dec = new FrameDecoder({ maxFrameBytes });
  dec.push(bytes);
  const out: Frame[] = [];
  for (;;) {
    let f: Frame | null;
    try {
      f = dec.next();
    } catch (err) {
      if (err instanceof ProtocolError && err.details.fatal === false) continue;
      return out;
    }
    if (!f) return out;
    out.push(f);
  }
}

/** Error frames readable in a plaintext answer, as "code: message" (none when the answer is encrypted). */
export function readableErrors(bytes: Buffer): string[] {
  return framesIn(bytes)
    .filter((f) => f.type === 'error')
    .map((f) => `${String(f.code)}: ${String(f.message)}`);
}
