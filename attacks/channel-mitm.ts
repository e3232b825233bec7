/**
 * A man in the middle of the application-layer secure channel (docs/channel.md). Wherever the
 * attacker can read the chat frames — plain transport, or TLS it terminated — it answers the
 * victim's `ch_hello` itself (its own X25519 share, and its own certificate for `rsa` and
 * `ecdhe-signed`) and runs a second channel to the real server, re-sealing every frame. Whether
 * the victim goes along is decided by the victim's own certificate check, exactly as for TLS.
 */
import { ChannelClient, ChannelServer, isChannelFrame } from '../core/channel/index.ts';
import { FrameDecoder, encodeFrame, type Frame } from '../core/frames.ts';
import { CHANNEL_CIPHERS, type ChannelCipher, type Profile } from '../core/profile.ts';
import type { CertKeyPem } from '../core/tls/node-options.ts';
import type { Direction, Layer, ProxyConnection } from './proxy.ts';

/** What the interceptor lets an attack do with each opened chat frame. */
export interface ChannelMitmOptions {
  /** the attacker's certificate for `rsa` / `ecdhe-signed` (null: it has none to offer) */
  identity: CertKeyPem | null;
  /** called with each chat frame the attacker opened; return a replacement to alter it */
  onAppFrame?: (conn: ProxyConnection, dir: Direction, frame: Frame) => Frame | void;
}

interface ConnState {
  decoders: Record<Direction, FrameDecoder>;
  victimSide: ChannelServer | null;
  serverSide: ChannelClient | null;
  /** stop interpreting once the stream turned into something that is not JSON Lines (TLS) */
  opaque: boolean;
  /** opened frames waiting for the other side's channel to be established, per direction */
  queued: Record<Direction, Frame[]>;
}

const encodeAll = (frames: unknown[]) => Buffer.concat(frames.map((f) => encodeFrame(f as Frame)));

/** Channel settings mirrored from the victim's ch_hello (the real server insists on the same). */
function settingsFromHello(hello: Frame): Profile['channel'] {
  const ciphers = (Array.isArray(hello.ciphers) ? hello.ciphers : []).filter((c): c is ChannelCipher => CHANNEL_CIPHERS.includes(c as ChannelCipher));
  return {
    keyExchange: hello.keyExchange as Profile['channel']['keyExchange'],
    ciphers: ciphers.length ? ciphers : ['aes-256-gcm'],
    transcriptMac: hello.transcriptMac === true,
    replayProtection: (hello.replayProtection as Profile['channel']['replayProtection']) ?? 'sequence',
    replayWindowMs: 30_000,
  };
}

/**
 * Builds an `onData` hook that runs the channel MITM on every connection.
 * Frames it cannot interpret pass through unchanged.
 */
export function channelMitm(opts: ChannelMitmOptions): (conn: ProxyConnection, data: Buffer, dir: Direction, layer: Layer) => Buffer | null | undefined {
  const states = new WeakMap<ProxyConnection, ConnState>();
  return (conn, data, dir, layer) => {
    // Only chat frames the attacker can read: plaintext inside TLS it terminated, or a wire
    // that has carried no TLS so far.
    if (layer === 'server-wire' || (layer === 'client-wire' && conn.record.clientHello)) return undefined;
    let st = states.get(conn);
    if (!st) {
      st = { decoders: { c2s: new FrameDecoder(), s2c: new FrameDecoder() }, victimSide: null, serverSide: null, opaque: false, queued: { c2s: [], s2c: [] } };
      states.set(conn, st);
    }
    if (st.opaque) return undefined;
    const dec = st.decoders[dir];
    dec.push(data);
    const out: unknown[] = [];
    for (;;) {
      let frame: Frame | null;
      try {
        frame = dec.next();
      } catch {
        st.opaque = true; // not JSON Lines (or broken): stop interfering, forward as is
        return undefined;
      }
      if (!frame) break;
      out.push(...handleFrame(conn, st, dir, frame, opts));
    }
    return encodeAll(out);
  };
}

function handleFrame(conn: ProxyConnection, st: ConnState, dir: Direction, frame: Frame, opts: ChannelMitmOptions): unknown[] {
  if (!isChannelFrame(frame)) {
    const altered = opts.onAppFrame?.(conn, dir, frame);
    return [altered ?? frame];
  }
  if (dir === 'c2s' && frame.type === 'ch_hello' && !st.victimSide) {
    const settings = settingsFromHello(frame);
    const needsCert = settings.keyExchange === 'rsa' || settings.keyExchange === 'ecdhe-signed';
    if (needsCert && !opts.identity) return [frame];
    st.victimSide = new ChannelServer({ profileChannel: settings, serverCert: opts.identity ?? undefined });
    st.serverSide = new ChannelClient({ profileChannel: settings, verifyCertificate: () => ({ ok: true }) });
    conn.note(`channel MITM: answered the victim's ch_hello (${settings.keyExchange}) with the attacker's own ${needsCert ? 'certificate and ' : ''}key share, and opened its own channel to the server`);
    const toVictim = st.victimSide.handle(frame);
    conn.inject('s2c', encodeAll(toVictim.send));
    return st.serverSide.start();
  }
  if (!st.victimSide || !st.serverSide) return [frame];
  const [from, to] = dir === 'c2s' ? [st.victimSide, st.serverSide] : [st.serverSide, st.victimSide];
  const backDir: Direction = dir === 'c2s' ? 's2c' : 'c2s';
  if (frame.type === 'ch_error') return [frame];
  const actions = from.handle(frame);
  if (actions.send.length) conn.inject(backDir, encodeAll(actions.send));
  if (actions.error) {
    conn.note(`channel MITM: the ${dir === 'c2s' ? 'victim' : 'server'} side failed: ${actions.error.message}`);
    return [];
  }
  // Our side towards `backDir` just came up: release what the other end sent meanwhile.
  if (actions.established && st.queued[backDir].length) {
    conn.inject(backDir, encodeAll(st.queued[backDir].splice(0).map((f) => from.seal(f))));
  }
  const out: unknown[] = [];
  for (const app of actions.deliver) {
    const plain = app as Frame;
    conn.capture(dir, 'plaintext', encodeFrame(plain));
    const altered = opts.onAppFrame?.(conn, dir, plain) ?? plain;
    // The victim may finish its handshake with us before ours with the server: hold frames until then.
    if (to.established) out.push(to.seal(altered));
    else st.queued[dir].push(altered);
  }
  return out;
}
