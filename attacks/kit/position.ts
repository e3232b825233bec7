/**
 * The attacker's position: how far into the victim's protection an attacker on the network path
 * gets using only what the victim accepts without a premise, climbed rung by rung before any
 * attack's own technique runs (issue 9):
 *
 *   1. on-path bytes (always);
 *   2. STARTTLS stripped (opportunistic `starttls`: the client carries on in plaintext);
 *   3. TLS terminated with an attacker certificate the victim accepts (self-signed, or the lab-CA
 *      certificate issued to the wrong host — whichever the client takes);
 *   4. secure channel taken over (unsigned ECDHE key swap, or a channel certificate it accepts);
 *   5. inside a channel whose cipher authenticates nothing (null, aes-128-cbc) — the profile's own
 *      choice, or reached by rewriting the cipher offer when nothing authenticates it (probed).
 *
 * Rungs 2–4 are discovered by trying: {@link probePosition} runs the victim's own client (its
 * profile, its trust — never a rogue root, which stays a premise of `mitm-rogue-ca` only) through
 * a proxy that attempts each step, and keeps the steps after which the client proceeded. Nothing
 * is read from the profile's verify settings. {@link positionAddon} then takes that position on the
 * scenario's connections and hands every chat frame at the innermost layer reached to the attack's
 * {@link Technique}.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { ChatClient } from '../../client/chat-client.ts';
import { describeError } from '../../core/errors.ts';
import { makeScratchDir } from '../../core/scratch-dir.ts';
import type { Frame } from '../../core/frames.ts';
import type { PkiMaterial } from '../../core/pki.ts';
import type { Profile } from '../../core/profile.ts';
import { connectLabClient } from './lab-client.ts';
import type { CertKeyPem } from '../../core/tls/node-options.ts';
import { startChatServer } from '../../server/chat-server.ts';
import { ProxyEngine, type Direction, type ProxyAddon, type ProxyConnection } from '../proxy.ts';
import { ChannelTakeover, UNAUTHENTICATED_CIPHERS } from './channel-takeover.ts';

/** The attacker's own certificates that need no premise (the rogue-CA one does). */
export type AttackerCert = 'self-signed' | 'wrong-host';
/** Tried in this order: the self-signed certificate needs the weakest client to be accepted. */
const ATTACKER_CERTS: readonly AttackerCert[] = ['self-signed', 'wrong-host'];

/** Where the attacker stands for one profile (rungs 1–4; rung 5 is observed per connection). */
export interface Position {
  /** rung 2: the STARTTLS offer is stripped and the client carried on in plaintext */
  strippedStarttls: boolean;
  /** rung 3: TLS terminated with this certificate, which the client accepted */
  tls: { cert: AttackerCert } | null;
  /** the chat frames are readable: plain transport, stripped STARTTLS, or terminated TLS */
  framesReadable: boolean;
  /** rung 4: the secure channel taken over (cert null: unsigned ECDHE, no certificate needed) */
  channel: { keyExchange: string; cert: AttackerCert | null } | null;
  /**
   * rung 5 reached by rewriting the cipher offer: the channel could not be taken over, but the
   * client accepted a cipher that authenticates nothing after the attacker rewrote its offer
   * (nothing authenticates the offer: no transcript MAC). null when not reached this way.
   */
  weakCipher: { cipher: string } | null;
  /** the chain, one sentence per rung climbed, e.g. "terminated TLS with the wrong-host certificate (…)" */
  steps: string[];
  /** what each probe attempt observed, in order */
  probes: string[];
  /** ms the probe took (0 when taken from the cache) */
  probeMs: number;
}

/** Time a probe waits for the victim client to connect through the attacker, ms. */
const PROBE_CONNECT_TIMEOUT_MS = 3000;

/** The attacker's certificate and key for `cert`. */
export function attackerIdentity(pki: PkiMaterial, cert: AttackerCert): CertKeyPem {
  return cert === 'self-signed' ? pki.attackerSelfSigned : pki.attackerWrongHost;
}

/**
 * Why a client that took `cert` took it, as the probe showed it. The wrong-host certificate is
 * only ever tried after the self-signed one was refused, so `refused` holds that refusal.
 */
function acceptedBecause(cert: AttackerCert, refused: ReadonlyMap<AttackerCert | null, string>): string {
  if (cert === 'self-signed') return 'the client accepted a certificate no trusted CA issued: it does not verify the chain';
  return `the client does not check the hostname (it refused the self-signed one: ${refused.get('self-signed')})`;
}

/** A plan the probe tries: which rungs to attempt. */
export interface ProbePlan {
  strip: boolean;
  tls: AttackerCert | null;
  channel: { cert: AttackerCert | null } | null;
  /** rewrite the victim's channel cipher offer to the ciphers that authenticate nothing */
  downgradeOffer?: boolean;
}

/** The proxy addon for a plan with no technique (what the probe runs). */
function planAddon(plan: Pick<ProbePlan, 'strip' | 'tls' | 'downgradeOffer'>, pki: PkiMaterial, technique: Technique, takeover: ChannelTakeover | null, onServerHello?: (conn: ProxyConnection, cipher: string) => void): ProxyAddon {
  const tlsIdentity = plan.tls ? attackerIdentity(pki, plan.tls) : null;
  return {
    name: technique.name,
    onClientHello: () => (tlsIdentity ? { action: 'terminate', identity: tlsIdentity } : { action: 'relay' }),
    onData(conn, data, dir, layer) {
      if (conn.framesReadableAt(layer)) return undefined;
      return technique.onOpaque?.(conn, data, dir);
    },
    onFrame(conn, frame, dir) {
      let f = frame;
      if (plan.strip && dir === 's2c' && f.type === 'welcome' && f.starttls === true) {
        const { starttls: _removed, ...rest } = f;
        f = rest as Frame;
        conn.note('removed "starttls": true from the server\'s plaintext welcome');
      }
      if (dir === 's2c' && f.type === 'ch_server_hello' && typeof f.cipher === 'string') onServerHello?.(conn, f.cipher);
      if (plan.downgradeOffer && dir === 'c2s' && f.type === 'ch_hello' && Array.isArray(f.ciphers) && !f.ciphers.every((c) => UNAUTHENTICATED_CIPHERS.includes(c as never))) {
        conn.note(`rewrote the channel cipher offer ${JSON.stringify(f.ciphers)} to ${JSON.stringify(UNAUTHENTICATED_CIPHERS)}`);
        f = { ...f, ciphers: [...UNAUTHENTICATED_CIPHERS] };
      }
      const act = (x: Frame, at: AppLayer) => technique.onFrame?.(conn, dir, x, at);
      const asList = (r: Frame | Frame[] | null | undefined, x: Frame): Frame[] => (r === undefined ? [x] : r === null ? [] : Array.isArray(r) ? r : [r]);
      if (!takeover) return asList(act(f, 'frames'), f);
      // Outside the channel (greeting, handshake frames) the technique sees the frame first; sealed
      // frames it sees opened, inside the channel the attacker took over.
      const pre = f.type === 'sealed' ? [f] : asList(act(f, 'frames'), f);
      return pre.flatMap((x) => takeover.handle(conn, dir, x, ({ frame: inner }) => asList(act(inner, 'channel'), inner)));
    },
  };
}

/** What one probe attempt observed: the client proceeded (with TLS or not, and which channel cipher), or why it stopped. */
export type ProbeOutcome = { ok: true; tls: boolean; channel: string | null } | { ok: false; why: string };

/** What a victim client that connected through a probe's proxy showed. */
export interface ProbeSeen {
  /** the client negotiated TLS on its hop */
  negotiatedTls: boolean;
  /** the attacker answered the victim's ch_hello itself (its note on the connection) */
  channelAnswered: boolean;
  /** the secure channel cipher the client negotiated, or null (no channel) */
  channelCipher: string | null;
}

/**
 * Whether a client that connected through `plan` proceeded *with the plan's step taken*: a plan
 * that strips must see no TLS, a plan that takes the channel must have answered the victim's
 * ch_hello itself, a plan that rewrites the cipher offer must end on a cipher that authenticates
 * nothing. Pure: the probe's judgement, apart from its sockets.
 */
export function judgeProbe(plan: ProbePlan, seen: ProbeSeen): ProbeOutcome {
  if (plan.strip && seen.negotiatedTls) return { ok: false, why: 'the client negotiated TLS anyway' };
  if (plan.channel && !seen.channelAnswered) return { ok: false, why: 'the attacker could not answer the channel handshake' };
  if (plan.downgradeOffer && !UNAUTHENTICATED_CIPHERS.includes(seen.channelCipher as never)) return { ok: false, why: `the channel still negotiated ${seen.channelCipher}` };
  return { ok: true, tls: seen.negotiatedTls, channel: seen.channelCipher };
}

/** Longest refusal kept in a probe line, characters: room for a hostname refusal with the names it checked (a TLS error can carry a whole certificate chain, so there is a limit). */
const PROBE_REFUSAL_MAX_CHARS = 320;

/**
 * `text` in at most `max` characters, cut between clauses ("; ") so no field is left half
 * printed (a subject ending in "O=", a "fix:" with its hint cut off): whole clauses, then " …"
 * when any was left out. A first clause longer than `max` is cut after its last whole word (or
 * inside one token that alone fills most of the room).
 * @param max characters, ≥ 2 (room for the mark)
 */
export function cutAtClause(text: string, max: number): string {
  if (text.length <= max) return text;
  const room = max - 2; // " …"
  let kept = '';
  for (const clause of text.split('; ')) {
    const next = kept ? `${kept}; ${clause}` : clause;
    if (next.length > room) break;
    kept = next;
  }
  if (!kept) {
    const head = text.slice(0, room + 1);
    const space = head.lastIndexOf(' ');
    // After the last whole word, unless that would throw most of the room away (one long token).
    kept = (space > room / 2 ? head.slice(0, space) : head.slice(0, room)).replace(/[\s,;:=(]+$/, '');
  }
  return `${kept} …`;
}

/** A probe attempt the victim's client gave up on: its error as `CODE: message`, cut at a clause to {@link PROBE_REFUSAL_MAX_CHARS}. */
export function probeRefusal(err: unknown): ProbeOutcome {
  const d = describeError(err);
  return { ok: false, why: cutAtClause(`${d.code}: ${d.message}`, PROBE_REFUSAL_MAX_CHARS) };
}

/** Tries the victim's client through `plan` (a proxy and the client, both closed after). */
async function tryPlan(profile: Profile, pki: PkiMaterial, upstream: { host: string; port: number }, plan: ProbePlan): Promise<ProbeOutcome> {
  const takeover = plan.channel ? new ChannelTakeover({ identity: plan.channel.cert ? attackerIdentity(pki, plan.channel.cert) : null }) : null;
  const proxy = await ProxyEngine.start({ upstream, addon: planAddon(plan, pki, { name: 'position-probe' }, takeover), upstreamServername: 'localhost' });
  let client: ChatClient | null = null;
  try {
    client = await connectLabClient(profile, pki, proxy.port, { timeoutMs: { connectMs: PROBE_CONNECT_TIMEOUT_MS, requestMs: PROBE_CONNECT_TIMEOUT_MS } });
    const notes = proxy.connections.flatMap((c) => c.notes);
    return judgeProbe(plan, {
      negotiatedTls: !!client.negotiated,
      channelAnswered: notes.some((n) => n.startsWith('channel MITM: answered')),
      channelCipher: client.channelNegotiated?.cipher ?? null,
    });
  } catch (err) {
    return probeRefusal(err);
  } finally {
    client?.close();
    await proxy.close();
  }
}

const cache = new Map<string, Promise<Position>>();

/**
 * Climbs the ladder for `profile` by trying each step with the victim's own client against a
 * fresh server, and returns the strongest position reached. Only transport, TLS, client and
 * channel settings matter to it, so it is computed once per set of those per process (a matrix
 * run shares it between its cells).
 * @returns the position; never throws for a refused step (a refusal is an observation)
 */
export function probePosition(profile: Profile, pki: PkiMaterial): Promise<Position> {
  const key = JSON.stringify([profile.transport, profile.tls, profile.client, profile.channel, pki.dir, pki.server.certPem.length]);
  let p = cache.get(key);
  if (!p) {
    p = climb(profile, pki);
    cache.set(key, p);
  } else {
    p = p.then((pos) => ({ ...pos, probeMs: 0 }));
  }
  return p;
}

async function climb(profile: Profile, pki: PkiMaterial): Promise<Position> {
  const started = performance.now();
  const dir = makeScratchDir('secchat-probe-');
  const server = await startChatServer({ profile, identity: pki.server, dbPath: path.join(dir, 'users.db'), log: () => {} });
  try {
    const pos = await climbLadder(profile, (plan) => tryPlan(profile, pki, { host: server.host, port: server.port }, plan));
    return { ...pos, probeMs: Math.round(performance.now() - started) };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true });
  }
}

/**
 * The ladder itself, apart from sockets: which plans to try in which order, given what each
 * attempt showed. `attempt` runs the victim's client through a plan ({@link tryPlan} in a probe;
 * a script in tests). Only `transport` and `channel.keyExchange` of the profile are read here.
 * @returns the position reached, `probeMs` 0 (the caller times the probe)
 */
export async function climbLadder(profile: Pick<Profile, 'transport' | 'channel'>, attempt: (plan: ProbePlan) => Promise<ProbeOutcome>): Promise<Position> {
  const pos: Position = { strippedStarttls: false, tls: null, framesReadable: profile.transport === 'plain', channel: null, weakCipher: null, steps: ['on the path between the victim and the server'], probes: [], probeMs: 0 };
  let plan: ProbePlan = { strip: false, tls: null, channel: null };
  if (profile.transport === 'starttls' || profile.transport === 'starttls-required') {
    const r = await attempt({ ...plan, strip: true });
    pos.probes.push(r.ok ? 'stripping the STARTTLS offer: the client carried on in plaintext' : `stripping the STARTTLS offer: the client refused (${r.why})`);
    if (r.ok) {
      plan = { ...plan, strip: true };
      pos.strippedStarttls = true;
      pos.framesReadable = true;
      pos.steps.push('stripped the STARTTLS offer (the client carried on in plaintext)');
    }
  }
  if (!pos.framesReadable) {
    const refused = new Map<AttackerCert, string>();
    for (const cert of ATTACKER_CERTS) {
      const r = await attempt({ ...plan, tls: cert });
      pos.probes.push(r.ok ? `TLS terminated with the ${cert} certificate: the client proceeded` : `TLS terminated with the ${cert} certificate: the client refused (${r.why})`);
      if (r.ok) {
        plan = { ...plan, tls: cert };
        pos.tls = { cert };
        pos.framesReadable = true;
        pos.steps.push(`terminated TLS with the ${cert} certificate (${acceptedBecause(cert, refused)})`);
        break;
      }
      refused.set(cert, r.why);
    }
  }
  if (pos.framesReadable && profile.channel.keyExchange !== 'none') {
    const unsigned = profile.channel.keyExchange === 'ecdhe';
    // The attacker does not know how the client checks the channel's certificate: it tries
    // without one first (accepted only when nothing is signed), then each of its certificates.
    const certs: Array<AttackerCert | null> = [null, ...ATTACKER_CERTS];
    const refused = new Map<AttackerCert | null, string>();
    for (const cert of certs) {
      const r = await attempt({ ...plan, channel: { cert } });
      const what = cert ? `the ${cert} certificate` : 'its own unsigned key share';
      pos.probes.push(r.ok ? `secure channel answered with ${what}: the client proceeded` : `secure channel answered with ${what}: the client refused (${r.why})`);
      if (r.ok) {
        pos.channel = { keyExchange: profile.channel.keyExchange, cert };
        pos.steps.push(
          cert === null
            ? `took over the secure channel by swapping the ${unsigned ? 'unsigned ECDHE ' : ''}key shares (nothing authenticates them)`
            : `took over the secure channel with the ${cert} certificate (${acceptedBecause(cert, refused)})`,
        );
        break;
      }
      refused.set(cert, r.why);
    }
    if (!pos.channel) {
      const r = await attempt({ ...plan, downgradeOffer: true });
      pos.probes.push(r.ok ? `cipher offer rewritten to ${UNAUTHENTICATED_CIPHERS.join('/')}: the channel ran ${r.channel}` : `cipher offer rewritten to ${UNAUTHENTICATED_CIPHERS.join('/')}: refused (${r.why})`);
      if (r.ok) {
        pos.weakCipher = { cipher: r.channel! };
        pos.steps.push(`rewrote the channel cipher offer (nothing authenticates it: the client accepted ${r.channel}, which authenticates nothing)`);
      }
    }
  }
  return pos;
}

/** The layer a technique sees a chat frame at: the chat stream itself, or opened from a channel the attacker took over. */
export type AppLayer = 'frames' | 'channel';

/** What an attack does once the position is taken. Every hook is optional. */
export interface Technique {
  name: string;
  /**
   * A chat frame at the innermost layer the position reaches: `frames` (the readable stream,
   * sealed channel frames included when the channel was not taken) or `channel` (opened inside a
   * channel the attacker took over; what it returns is re-sealed). Return replacements (e.g. the
   * frame twice, to replay it), null to drop it, undefined to forward it.
   */
  onFrame?(conn: ProxyConnection, dir: Direction, frame: Frame, at: AppLayer): Frame | Frame[] | null | undefined;
  /** Bytes the attacker cannot read (inside TLS it did not terminate). Same return as ProxyAddon.onData. */
  onOpaque?(conn: ProxyConnection, data: Buffer, dir: Direction): Buffer | null | undefined;
  /** Once the victim's side of the channel is the attacker's, pick the weakest cipher the victim offers. */
  preferWeakCipher?: boolean;
}

/** The addon that takes `pos` on every connection and runs `technique` inside, plus what it observed. */
export interface PositionedAddon {
  addon: ProxyAddon;
  /** the secure channel cipher the server chose on `conn` (seen in ch_server_hello), if readable */
  channelCipher(conn: ProxyConnection): string | null;
  /** the cipher on the victim's side of a channel the attacker took over, if any */
  victimChannelCipher(conn: ProxyConnection): string | null;
  /** true when the attacker took the channel over on `conn` */
  tookChannel(conn: ProxyConnection): boolean;
}

/** Builds the proxy addon that takes the position and runs the technique at the innermost layer. */
export function positionAddon(pos: Position, pki: PkiMaterial, technique: Technique): PositionedAddon {
  const takeover = pos.channel ? new ChannelTakeover({ identity: pos.channel.cert ? attackerIdentity(pki, pos.channel.cert) : null, preferWeakCipher: technique.preferWeakCipher }) : null;
  const ciphers = new WeakMap<ProxyConnection, string>();
  // The channel step is the takeover itself, handed to planAddon apart from the plan.
  const plan = { strip: pos.strippedStarttls, tls: pos.tls?.cert ?? null, downgradeOffer: !!pos.weakCipher };
  return {
    addon: planAddon(plan, pki, technique, takeover, (conn, cipher) => ciphers.set(conn, cipher)),
    channelCipher: (conn) => ciphers.get(conn) ?? null,
    victimChannelCipher: (conn) => takeover?.victimCipher(conn) ?? null,
    tookChannel: (conn) => !!takeover?.active(conn),
  };
}

/** The position as evidence lines: the chain, then what the probe observed. */
export function positionEvidence(pos: Position): Array<{ kind: string; detail: string }> {
  return [
    { kind: 'position', detail: pos.steps.join(' → ') },
    { kind: 'position-probe', detail: pos.probes.length ? `${pos.probes.join('; ')}${pos.probeMs ? ` (probed in ${pos.probeMs} ms)` : ''}` : 'nothing to probe: the chat frames cross the path readable' },
  ];
}

/** The chain as a prefix for a verdict's reason, e.g. "stripped the STARTTLS offer (…) → ". Empty at rung 1. */
export function chainPrefix(pos: Position): string {
  return pos.steps.length > 1 ? `${pos.steps.slice(1).join(' → ')} → ` : '';
}

/** The last rung climbed, in a few words for a table cell. */
export function shortStep(pos: Pick<Position, 'strippedStarttls' | 'tls' | 'channel' | 'weakCipher'>): string {
  return pos.channel ? 'channel taken over' : pos.weakCipher ? `weak cipher ${pos.weakCipher.cipher}` : pos.tls ? 'TLS terminated' : pos.strippedStarttls ? 'STARTTLS stripped' : 'on-path';
}
