/**
 * Downgrade attacks: force a weaker setting than both ends support.
 * - `downgrade-fallback`: from the position first (STARTTLS stripped: no TLS at all; TLS terminated
 *   with a certificate the client accepts: the attacker's hop capped at the profile's minimum),
 *   then reset every TLS handshake that offers more than the profile's minimum version, so a
 *   client that "falls back" retries lower (the dance POODLE used, RFC 7507).
 * - `downgrade-starttls`: strip the STARTTLS offer from the plaintext greeting (and keep whatever
 *   else the position gives: a secure channel taken over after the strip).
 * - `downgrade-cipher`: from the strongest position reached (attacks/kit/position.ts), rewrite the
 *   secure channel's cipher offer to the weakest ciphers — after a strip or a TLS termination when
 *   the offer travels inside them — or, owning the victim's side of the channel, choose the
 *   weakest cipher the victim offers.
 * Each is judged by what happened: the version actually negotiated, the canary crossing in
 * plaintext, a weak cipher actually used and exploited.
 */
import { TLS_VERSIONS, usesTls, versionRank, type TlsVersion } from '../../core/profile.ts';
import { versionName } from '../../core/tls/registry.ts';
import { conversationEvidence, describeRefusal, findCanary, primaryRefusal, proxyEvidence, serverRefusals, sightingEvidence } from '../kit/evidence.ts';
import { alterFrame } from '../kit/rewrite.ts';
import { probeFallbackScsv } from '../kit/fallback-probe.ts';
import { attackerIdentity, chainPrefix, positionAddon, positionEvidence, shortStep, type Position } from '../kit/position.ts';
import { UNAUTHENTICATED_CIPHERS } from '../kit/channel-takeover.ts';
import type { ProxyAddon } from '../proxy.ts';
import { CanaryMark } from '../kit/canary-mark.ts';
import type { Attack, AttackContext, Evidence, Verdict } from '../types.ts';

/** Wire value of a TLS version (RFC 8446 §4.2.1): TLSv1 = 0x0301 … TLSv1.3 = 0x0304. */
export function wireVersion(v: TlsVersion): number {
  return 0x0301 + versionRank(v);
}


/**
 * Rung 2 used for a version downgrade: with the STARTTLS offer stripped, the victim's session
 * runs with no TLS at all. Measured: alice connected and her client negotiated no TLS although
 * the profile's transport is STARTTLS.
 * @returns succeeded when that was observed, else null (the caller carries on with the next rung)
 */
async function fallbackByStrip(ctx: AttackContext, pos: Position): Promise<Verdict | null> {
  const runPos: Position = { ...pos, tls: null, channel: null, weakCipher: null };
  const positioned = positionAddon(runPos, ctx.pki, { name: 'downgrade-fallback' });
  const obs = await ctx.runConversation({ addon: positioned.addon });
  const alice = obs.clients.alice;
  const starttls = ctx.profile.transport === 'starttls' || ctx.profile.transport === 'starttls-required';
  if (!starttls || !alice.connected || alice.negotiated !== null) return null;
  const stripped = obs.proxy!.connections.some((c) => c.notes.some((n) => n.startsWith('removed "starttls": true')));
  if (!stripped) return null;
  const evidence: Evidence[] = [
    { kind: 'downgraded-to', detail: `alice's client connected with no TLS at all (negotiated: none) although the profile's transport is ${ctx.profile.transport} with ${ctx.profile.tls.minVersion}–${ctx.profile.tls.maxVersion}` },
    ...positionEvidence(runPos),
    ...proxyEvidence(obs),
    ...conversationEvidence(obs),
  ];
  return {
    outcome: 'succeeded',
    reason: `${chainPrefix(runPos)}alice's session ran with no TLS at all, below any version the profile allows (${ctx.profile.tls.minVersion}–${ctx.profile.tls.maxVersion}): the attacker needed no fallback`,
    summary: 'no TLS: STARTTLS stripped',
    impact: ['confidentiality', 'integrity'],
    evidence,
    negotiated: null,
    data: { via: 'starttls-strip' },
  };
}

/**
 * Rung 3 used for a version downgrade: the attacker terminates TLS with the certificate the
 * victim's client accepted in the probe, its own hop capped at the profile's minimum version.
 * Measured: the version alice's client actually negotiated, below the profile's maximum.
 * @returns succeeded when that was observed, else null (min == max, or the client did not take it)
 */
async function fallbackByTermination(ctx: AttackContext, pos: Position): Promise<Verdict | null> {
  const { minVersion, maxVersion } = ctx.profile.tls;
  // Nothing lower to offer: the existing fallback technique decides (as before).
  if (versionRank(minVersion) >= versionRank(maxVersion) || !pos.tls) return null;
  const cert = pos.tls.cert;
  const identity = attackerIdentity(ctx.pki, cert);
  const addon: ProxyAddon = {
    name: 'downgrade-fallback',
    onClientHello: () => ({ action: 'terminate', identity, maxVersion: minVersion }),
  };
  const obs = await ctx.runConversation({ addon });
  const n = obs.clients.alice.negotiated;
  if (!n?.protocol || !(TLS_VERSIONS as readonly string[]).includes(n.protocol) || versionRank(n.protocol as TlsVersion) >= versionRank(maxVersion)) return null;
  const hop = obs.proxy!.connections.find((c) => c.mode === 'terminate' && c.clientHop)?.clientHop ?? null;
  const evidence: Evidence[] = [
    { kind: 'downgraded-to', detail: `alice's client negotiated ${n.protocol} (${n.cipher}) with the attacker, whose hop was capped at ${minVersion}; the profile allows up to ${maxVersion}${hop ? `; the attacker's side saw ${hop.protocol}` : ''}` },
    { kind: 'accepted-certificate', detail: `alice's client accepted the attacker's ${cert} certificate (${pos.steps.find((s) => s.startsWith('terminated TLS')) ?? 'probed'})` },
    ...positionEvidence(pos),
    ...proxyEvidence(obs),
    ...conversationEvidence(obs),
  ];
  return {
    outcome: 'succeeded',
    reason: `${chainPrefix({ ...pos, steps: pos.steps.filter((s) => !s.startsWith('took over') && !s.startsWith('rewrote')) })}capped its own hop at ${minVersion}: alice's session ran on ${n.protocol} (${n.cipher}), below the profile's maximum ${maxVersion} — the attacker chose the version, no fallback needed`,
    summary: `forced ${n.protocol}: TLS terminated`,
    impact: ['integrity'],
    evidence,
    negotiated: n,
    data: { via: 'tls-termination', cert, victimVersion: n.protocol },
  };
}

export const downgradeFallback: Attack = {
  id: 'downgrade-fallback',
  title: 'Version fallback downgrade',
  description: 'The attacker first climbs its position: where STARTTLS can be stripped the session runs with no TLS at all; where it can terminate TLS with a certificate the client accepts it caps its own hop at the profile\'s minimum version. Otherwise it resets every TLS handshake whose ClientHello offers more than the profile\'s minimum version. Succeeds only if a session is observed running below the profile\'s maximum version (or without TLS). Also probes whether the server refuses an inappropriate fallback (TLS_FALLBACK_SCSV, RFC 7507).',
  applicability(p) {
    if (!usesTls(p)) return 'the profile uses no TLS: there is no version to downgrade';
    if (p.tls.minVersion === p.tls.maxVersion) return `the profile allows only ${p.tls.minVersion}: there is no lower version to force`;
    return null;
  },
  async run(ctx) {
    // An attacker who already holds a stronger rung picks the version (or no TLS at all) himself:
    // climb the ladder first, so a reset the client survives is never reported as "blocked"
    // when the same attacker could simply have stripped or terminated TLS (issue: false blocked).
    const pos = await ctx.position();
    if (pos.strippedStarttls) {
      const r = await fallbackByStrip(ctx, pos);
      if (r) return r;
    }
    if (pos.tls) {
      const r = await fallbackByTermination(ctx, pos);
      if (r) return r;
    }
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
  description:
    'The attacker deletes the STARTTLS offer from the server\'s plaintext greeting, and takes over a secure channel behind it when the client accepts that. Succeeds only if the canary then crosses readable; blocked when the client refuses to go on without STARTTLS, or a channel it cannot take keeps the canary sealed.',
  applicability(p) {
    return p.transport === 'starttls' || p.transport === 'starttls-required' ? null : `transport is ${p.transport}: there is no STARTTLS offer to strip`;
  },
  async run(ctx) {
    const pos = await ctx.position();
    // The strip is this attack's technique: always attempted; the channel rung only if the probe took it after a strip.
    const runPos: Position = { ...pos, strippedStarttls: true, tls: null, framesReadable: true, channel: pos.strippedStarttls ? pos.channel : null, steps: pos.strippedStarttls ? pos.steps : [pos.steps[0], 'stripped the STARTTLS offer'] };
    let stripped = 0;
    const positioned = positionAddon(runPos, ctx.pki, {
      name: 'downgrade-starttls',
      onFrame(_conn, dir, frame) {
        if (dir === 's2c' && frame.type === 'welcome') stripped++;
        return undefined;
      },
    });
    const obs = await ctx.runConversation({ addon: positioned.addon });
    const sightings = findCanary(obs.proxy!.engine, ctx.canary, ['client-wire', 'plaintext']);
    const evidence: Evidence[] = [...positionEvidence(runPos), ...sightingEvidence(sightings, ctx.canary), ...proxyEvidence(obs), ...conversationEvidence(obs)];
    const chain = chainPrefix(runPos);
    if (sightings.length) {
      const inChannel = sightings.every((x) => x.layer === 'plaintext');
      return {
        outcome: 'succeeded',
        reason: `${chain}the client carried on without TLS and the attacker read the canary ${inChannel ? 'inside the channel it took over' : 'on the wire'}`,
        summary: inChannel ? 'canary read: strip + channel takeover' : 'canary read: STARTTLS stripped',
        impact: ['confidentiality', 'integrity'],
        evidence,
        negotiated: obs.clients.alice.negotiated,
      };
    }
    const err = obs.clients.alice.error ?? obs.clients.bob.error;
    if (err?.code === 'SECCHAT_ERR_STARTTLS_UNAVAILABLE') {
      return { outcome: 'blocked', reason: `the client refused to continue: ${err.message}`, summary: 'client requires STARTTLS', impact: [], evidence, negotiated: null };
    }
    const channel = obs.clients.alice.channel;
    if (!obs.clients.alice.negotiated && channel && channel.cipher !== 'none' && obs.bobReceived === obs.canaryMessage) {
      return {
        outcome: 'blocked',
        reason: `${chain}the client carried on in plaintext, but the secure channel (${channel.keyExchange}, ${channel.cipher}) kept the canary sealed: the attacker could not take it over (${pos.probes.filter((p) => p.startsWith('secure channel')).join('; ') || 'no takeover possible'})`,
        summary: 'stripped; channel kept it sealed',
        impact: [],
        evidence,
        negotiated: null,
      };
    }
    return {
      outcome: 'error',
      reason: `no verdict: ${stripped ? `${stripped} greeting(s) seen` : 'no greeting was seen'}, the canary did not cross readable, and no client refused for lack of STARTTLS${err ? ` (${err.code}: ${err.message})` : ''}`,
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
  description:
    'From the strongest position it reaches without a premise, the attacker makes the secure channel run its weakest cipher (null, aes-128-cbc without MAC) — rewriting the cipher offer where it can read it, or choosing the weakest cipher the victim offers once it owns the victim\'s side of the channel — then exploits it: reads the canary under null, alters it under aes-128-cbc. Blocked when the server refuses the weak ciphers, the transcript MAC detects the rewrite, or no weak cipher is in common.',
  applicability(p) {
    return p.channel.keyExchange === 'none' ? 'the profile has no secure channel: there is no cipher offer to rewrite' : null;
  },
  async run(ctx) {
    const probed = await ctx.position();
    if (!probed.framesReadable) {
      const pos = probed;
      const obs = await ctx.runConversation({ addon: { name: 'downgrade-cipher' } });
      return {
        outcome: 'blocked',
        reason: `the channel's cipher offer travels inside TLS the attacker could not terminate (${pos.probes.join('; ')})`,
        summary: 'offer hidden by TLS',
        impact: [],
        evidence: [...positionEvidence(pos), ...proxyEvidence(obs), ...conversationEvidence(obs)],
        negotiated: obs.clients.alice.negotiated,
      };
    }
    const chain = chainPrefix({ ...probed, steps: probed.weakCipher ? probed.steps.slice(0, -1) : probed.steps });
    // The offer rewrite is this attack's own technique: run it here, not as part of the position.
    const pos = { ...probed, weakCipher: null, steps: probed.weakCipher ? probed.steps.slice(0, -1) : probed.steps };
    let rewritten = 0;
    let offered: string[] | null = null;
    const mark = new CanaryMark();
    let altered: string | null = null;
    const positioned = positionAddon(pos, ctx.pki, {
      name: 'downgrade-cipher',
      preferWeakCipher: true,
      onFrame(conn, dir, frame, at) {
        if (dir !== 'c2s') return undefined;
        if (frame.type === 'ch_hello' && Array.isArray(frame.ciphers)) {
          offered ??= frame.ciphers.map(String);
          // Only a rewrite that changes something: an offer of weak ciphers alone is already the downgrade.
          if (frame.ciphers.every((c) => UNAUTHENTICATED_CIPHERS.includes(c as never))) return undefined;
          // Owning the victim's side of the channel, the attacker chooses there instead (preferWeakCipher).
          if (pos.channel) return undefined;
          rewritten++;
          conn.note(`rewrote the channel cipher offer ${JSON.stringify(frame.ciphers)} to ${JSON.stringify(UNAUTHENTICATED_CIPHERS)}`);
          return { ...frame, ciphers: [...UNAUTHENTICATED_CIPHERS] };
        }
        if (!altered && at === 'frames' && mark.isAlice(conn)) {
          const a = alterFrame(frame, ctx.canary.slice(0, 7));
          if (a && !a.how.startsWith('flipped')) {
            altered = a.how;
            conn.note(a.how);
            return a.frame;
          }
        }
        return undefined;
      },
    });
    const obs = await ctx.runConversation({ addon: positioned.addon, beforeCanary: mark.beforeCanary });
    const evidence: Evidence[] = [...positionEvidence(probed), ...proxyEvidence(obs), ...conversationEvidence(obs)];
    const negotiated = obs.clients.alice.negotiated;
    const cipher = obs.clients.alice.channel?.cipher ?? null;
    const off = offered as string[] | null;
    const forced = pos.channel ? `chose ${cipher} from the victim's own offer ${JSON.stringify(off)} on the victim's side of the channel it took over` : rewritten ? 'rewrote the cipher offer' : `left the offer ${JSON.stringify(off)} as it was (weak ciphers only)`;
    if (!off) {
      return { outcome: 'error', reason: 'no verdict: no channel cipher offer crossed the attacker\'s path', summary: 'offer not seen', impact: [], evidence, negotiated };
    }
    if (cipher === 'null') {
      const sightings = findCanary(obs.proxy!.engine, ctx.canary, ['client-wire']);
      evidence.unshift(...sightingEvidence(sightings, ctx.canary));
      if (sightings.length) return { outcome: 'succeeded', reason: `${chain}the attacker ${forced}; the channel ran on the null cipher and the attacker read the canary on the wire`, summary: pos.channel ? 'null cipher on victim hop: read' : 'forced null cipher: canary read', impact: ['confidentiality', 'integrity'], evidence, negotiated };
    }
    if (cipher === 'aes-128-cbc' && pos.channel) {
      // The victim's hop runs CBC without MAC under a key the attacker negotiated: it reads and alters at will.
      const sightings = findCanary(obs.proxy!.engine, ctx.canary, ['plaintext']);
      evidence.unshift(...sightingEvidence(sightings, ctx.canary));
      if (sightings.length) return { outcome: 'succeeded', reason: `${chain}the attacker ${forced}; the victim's side runs aes-128-cbc without a MAC, and the attacker read the canary`, summary: 'CBC on victim hop: canary read', impact: ['confidentiality', 'integrity'], evidence, negotiated };
    }
    if (cipher === 'aes-128-cbc' && altered && obs.bobReceived !== null && obs.bobReceived !== obs.canaryMessage && !obs.clients.bob.error) {
      evidence.unshift({ kind: 'altered-delivery', detail: `bob received ${JSON.stringify(obs.bobReceived)} instead of ${JSON.stringify(obs.canaryMessage)}` });
      return { outcome: 'succeeded', reason: `${chain}the attacker ${forced}; the channel ran on aes-128-cbc without a MAC; the attacker ${altered as string}, and bob received the altered canary`, summary: 'forced CBC: canary altered', impact: ['integrity'], evidence, negotiated };
    }
    if (pos.channel && cipher && !UNAUTHENTICATED_CIPHERS.includes(cipher as never)) {
      return { outcome: 'blocked', reason: `${chain}no weak cipher in common: the victim offers only ${JSON.stringify(off)}, so even on the side of the channel the attacker owns it runs ${cipher}`, summary: 'no weak cipher in common', impact: [], evidence, negotiated };
    }
    const refusal = primaryRefusal(serverRefusals(obs));
    const err = obs.clients.alice.error;
    if (refusal) {
      const stopper = refusal.code === 'no_common_cipher' ? `no weak cipher in common: ${describeRefusal(refusal)}` : describeRefusal(refusal);
      return { outcome: 'blocked', reason: `${chain}the attacker ${forced}; the rewrite was caught: ${stopper}`, summary: refusal.event === 'channel_error' ? `refused: ${String(refusal.code)}` : 'refused', impact: [], evidence, negotiated };
    }
    if (err?.code === 'SECCHAT_ERR_CHANNEL') return { outcome: 'blocked', reason: `${chain}the attacker ${forced}; the rewrite was caught by the client: ${err.message}`, summary: 'client refused', impact: [], evidence, negotiated };
    return { outcome: 'error', reason: `no verdict: the attacker ${forced}, the channel ran on ${cipher ?? 'no cipher'}, and neither an exploit nor a refusal was observed${err ? ` (${err.code}: ${err.message})` : ''} (${shortStep(pos)})`, summary: 'inconclusive', impact: [], evidence, negotiated };
  },
};
