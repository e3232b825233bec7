/**
 * The verdicts of the downgrade attacks (attacks/plugins/downgrade.ts runs them) from what each run
 * observed. Pure, so each rule is unit-tested with crafted observations
 * (test/downgrade-verdict.test.ts) and held to a mutation score (docs/testing.md).
 *
 * A downgrade succeeded only when the weaker setting was actually in force and shown: the TLS
 * version alice's client negotiated ranked below the profile's maximum (RFC 8446 §4.2.1 versions;
 * the fallback dance RFC 7507 guards against), her session running with no TLS at all after the
 * STARTTLS offer was stripped (RFC 3207 §6 on stripping), or a channel cipher that authenticates
 * nothing in use *and exploited* (the canary read under null, altered under aes-128-cbc). Blocked
 * names what stopped it: the client that did not fall back, the client that requires STARTTLS, the
 * channel that kept the canary sealed, the transcript MAC or the server's cipher refusal. Anything
 * else is inconclusive (error), never blocked.
 */
import { TLS_VERSIONS, versionRank, type Profile, type TlsVersion } from '../../core/profile.ts';
import { versionName } from '../../core/tls/registry.ts';
import type { NegotiatedTls } from '../../core/tls/node-options.ts';
import { UNAUTHENTICATED_CIPHERS } from './channel-takeover.ts';
import type { probeFallbackScsv } from './fallback-probe.ts';
import { conversationEvidence, describeRefusal, primaryRefusal, proxyEvidence, serverRefusals, sightingEvidence, type CanarySighting } from './evidence.ts';
import { chainPrefix, positionEvidence, shortStep, type AttackerCert, type Position } from './position.ts';
import type { Evidence, Observations, Verdict } from '../types.ts';

/** The profile settings a version downgrade is measured against. */
export interface VersionRange {
  transport: Profile['transport'];
  tls: Pick<Profile['tls'], 'minVersion' | 'maxVersion'>;
}

/**
 * Whether `n` ran a TLS version of {@link TLS_VERSIONS} ranked below `max` (null: no TLS, and an
 * unknown protocol name, are not below anything).
 */
export function ranBelow(n: NegotiatedTls | null, max: TlsVersion): n is NegotiatedTls & { protocol: TlsVersion } {
  const rank = TLS_VERSIONS.indexOf(n?.protocol as TlsVersion);
  return rank >= 0 && rank < versionRank(max);
}

/**
 * `downgrade-fallback` from a stripped STARTTLS offer: succeeded when alice's client connected
 * with no TLS at all (negotiated null) under a STARTTLS transport and the proxy's notes show it
 * removed the offer.
 * @param pos the position the run used (its chain starts the reason)
 * @returns the verdict, or null when that was not observed (the attack carries on with the next technique)
 */
export function strippedFallbackVerdict(profile: VersionRange, pos: Position, obs: Observations): Verdict | null {
  const alice = obs.clients.alice;
  const starttls = profile.transport === 'starttls' || profile.transport === 'starttls-required';
  if (!starttls || !alice.connected || alice.negotiated !== null) return null;
  const stripped = obs.proxy!.connections.some((c) => c.notes.some((n) => n.startsWith('removed "starttls": true')));
  if (!stripped) return null;
  const { minVersion, maxVersion } = profile.tls;
  return {
    outcome: 'succeeded',
    reason: `${chainPrefix(pos)}alice's session ran with no TLS at all, below any version the profile allows (${minVersion}–${maxVersion}): the attacker needed no fallback`,
    summary: 'no TLS: STARTTLS stripped',
    impact: ['confidentiality', 'integrity'],
    evidence: [
      { kind: 'downgraded-to', detail: `alice's client connected with no TLS at all (negotiated: none) although the profile's transport is ${profile.transport} with ${minVersion}–${maxVersion}` },
      ...positionEvidence(pos),
      ...proxyEvidence(obs),
      ...conversationEvidence(obs),
    ],
    negotiated: null,
    data: { via: 'starttls-strip' },
  };
}

/**
 * `downgrade-fallback` from terminated TLS: the attacker presented `cert` (which the client
 * accepted in the probe) and capped its own hop at the profile's minimum version. Succeeded when
 * alice's client negotiated a version below the profile's maximum.
 * @param pos the probed position (its chain, without the channel rungs, starts the reason)
 * @returns the verdict, or null when alice's session did not run below the maximum
 */
export function terminatedFallbackVerdict(profile: VersionRange, pos: Position, cert: AttackerCert, obs: Observations): Verdict | null {
  const { minVersion, maxVersion } = profile.tls;
  const n = obs.clients.alice.negotiated;
  if (!ranBelow(n, maxVersion)) return null;
  const hop = obs.proxy!.connections.find((c) => c.mode === 'terminate' && c.clientHop)?.clientHop;
  // The channel rungs are not part of this technique: the chain ends where TLS was terminated.
  const tlsSteps = pos.steps.filter((s) => !s.startsWith('took over') && !s.startsWith('rewrote'));
  return {
    outcome: 'succeeded',
    reason: `${chainPrefix({ ...pos, steps: tlsSteps })}capped its own hop at ${minVersion}: alice's session ran on ${n.protocol} (${n.cipher}), below the profile's maximum ${maxVersion} — the attacker chose the version, no fallback needed`,
    summary: `forced ${n.protocol}: TLS terminated`,
    impact: ['integrity'],
    evidence: [
      { kind: 'downgraded-to', detail: `alice's client negotiated ${n.protocol} (${n.cipher}) with the attacker, whose hop was capped at ${minVersion}; the profile allows up to ${maxVersion}${hop ? `; the attacker's side saw ${hop.protocol}` : ''}` },
      { kind: 'accepted-certificate', detail: `alice's client accepted the attacker's ${cert} certificate (${pos.steps.find((s) => s.startsWith('terminated TLS')) ?? 'probed'})` },
      ...positionEvidence(pos),
      ...proxyEvidence(obs),
      ...conversationEvidence(obs),
    ],
    negotiated: n,
    data: { via: 'tls-termination', cert, victimVersion: n.protocol },
  };
}

/** What the reset technique of `downgrade-fallback` did. */
export interface ResetRun {
  /** handshakes the attacker reset because their ClientHello offered more than the profile's minimum */
  killed: number;
  /** the TLS_FALLBACK_SCSV probe of the server (attacks/kit/fallback-probe.ts) */
  probe: Awaited<ReturnType<typeof probeFallbackScsv>>;
}

/**
 * `downgrade-fallback` by resetting every handshake above the profile's minimum: succeeded when
 * handshakes were reset and alice's session then ran below the profile's maximum (the client fell
 * back); blocked when handshakes were reset and alice's client gave up with a handshake or network
 * error and no TLS (no downgrade, only a denial of service); error otherwise. The evidence names
 * the ClientHellos seen (and whether any carried TLS_FALLBACK_SCSV, RFC 7507 §4), the client's own
 * fallback attempts and the server's answer to the SCSV probe.
 */
export function resetFallbackVerdict(profile: VersionRange, run: ResetRun, obs: Observations): Verdict {
  const { minVersion, maxVersion } = profile.tls;
  const { killed, probe } = run;
  const n = obs.clients.alice.negotiated;
  const evidence: Evidence[] = [{ kind: 'fallback-scsv', detail: probe.detail }, ...proxyEvidence(obs), ...conversationEvidence(obs)];
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
  if (killed > 0 && ranBelow(n, maxVersion)) {
    return {
      outcome: 'succeeded',
      reason: `alice's session ran on ${n.protocol} (${n.cipher}) below the profile's maximum ${maxVersion}: after ${killed} reset handshake(s) the client fell back.${scsvNote}`,
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
      reason: `the client did not fall back: ${killed} handshake(s) offering more than ${minVersion} were reset and it gave up (${err.code}) — no downgrade, only a denial of service`,
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
    negotiated: n,
    data,
  };
}

/**
 * `downgrade-starttls`: succeeded when the attacker read the canary after the strip — on the wire
 * or inside a channel it took over (`sightings` on the client-wire and plaintext layers; the
 * server-facing wire is not the victim's); blocked when a client refused to go on without
 * STARTTLS (SECCHAT_ERR_STARTTLS_UNAVAILABLE), or when alice carried on without TLS but a secure
 * channel the attacker could not take delivered the canary to bob sealed; error otherwise.
 * @param pos the position the run used (the strip, and the channel rung when the probe took it after one)
 * @param greetings server greetings (welcome frames) the attacker saw
 * @param sightings where the canary was found in the proxy's capture (attacks/kit/evidence.ts `findCanary`, every layer)
 */
export function starttlsStripVerdict(pos: Position, greetings: number, sightings: CanarySighting[], obs: Observations): Verdict {
  const read = sightings.filter((s) => s.layer !== 'server-wire');
  const evidence: Evidence[] = [...positionEvidence(pos), ...sightingEvidence(read, obs.canary), ...proxyEvidence(obs), ...conversationEvidence(obs)];
  const chain = chainPrefix(pos);
  const alice = obs.clients.alice;
  if (read.length) {
    const inChannel = read.every((x) => x.layer === 'plaintext');
    return {
      outcome: 'succeeded',
      reason: `${chain}the client carried on without TLS and the attacker read the canary ${inChannel ? 'inside the channel it took over' : 'on the wire'}`,
      summary: inChannel ? 'canary read: strip + channel takeover' : 'canary read: STARTTLS stripped',
      impact: ['confidentiality', 'integrity'],
      evidence,
      negotiated: alice.negotiated,
    };
  }
  const err = alice.error ?? obs.clients.bob.error;
  if (err?.code === 'SECCHAT_ERR_STARTTLS_UNAVAILABLE') {
    return { outcome: 'blocked', reason: `the client refused to continue: ${err.message}`, summary: 'client requires STARTTLS', impact: [], evidence, negotiated: null };
  }
  const channel = alice.channel;
  if (!alice.negotiated && channel && channel.cipher !== 'none' && obs.bobReceived === obs.canaryMessage) {
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
    reason: `no verdict: ${greetings ? `${greetings} greeting(s) seen` : 'no greeting was seen'}, the canary did not cross readable, and no client refused for lack of STARTTLS${err ? ` (${err.code}: ${err.message})` : ''}`,
    summary: 'inconclusive',
    impact: [],
    evidence,
    negotiated: alice.negotiated,
  };
}

/**
 * `downgrade-cipher` where the chat frames are not readable: blocked, since the channel's cipher
 * offer travels inside TLS the attacker could not terminate (the probes say why).
 */
export function hiddenOfferVerdict(pos: Position, obs: Observations): Verdict {
  return {
    outcome: 'blocked',
    reason: `the channel's cipher offer travels inside TLS the attacker could not terminate (${pos.probes.join('; ')})`,
    summary: 'offer hidden by TLS',
    impact: [],
    evidence: [...positionEvidence(pos), ...proxyEvidence(obs), ...conversationEvidence(obs)],
    negotiated: obs.clients.alice.negotiated,
  };
}

/**
 * The position `downgrade-cipher` runs from: the probed one without its offer-rewrite rung
 * (`weakCipher`), since rewriting the offer is this attack's own technique.
 */
export function withoutOfferRewrite(probed: Position): Position {
  return { ...probed, weakCipher: null, steps: probed.weakCipher ? probed.steps.slice(0, -1) : probed.steps };
}

/** What the `downgrade-cipher` run did. */
export interface CipherRun {
  /** the first channel cipher offer (ch_hello `ciphers`) seen, or null when none crossed the attacker's path */
  offered: string[] | null;
  /** ch_hello offers the attacker rewrote to the unauthenticated ciphers */
  rewritten: number;
  /** how the attacker altered alice's canary frame (one clause), or null when it altered none */
  altered: string | null;
}

/**
 * `downgrade-cipher` where the frames are readable: succeeded when alice's channel ran the null
 * cipher and the attacker read the canary on the wire (or in the plaintext inside TLS it
 * terminated, or on the victim's side of a channel it took over), ran aes-128-cbc on the victim's side of a
 * channel it took over and it read the canary there, or ran aes-128-cbc and bob received the
 * altered canary without an error; blocked when no weak cipher is in common on a channel it owns,
 * when the server refused (the most telling refusal named: the transcript MAC's
 * `transcript_mismatch`, `no_common_cipher`…), or when alice's client refused the channel;
 * error otherwise.
 * @param probed the probed position; the run used {@link withoutOfferRewrite} of it
 * @param sightings where the canary was found in the proxy's capture (`findCanary`, every layer)
 */
export function cipherDowngradeVerdict(probed: Position, run: CipherRun, sightings: CanarySighting[], obs: Observations): Verdict {
  const pos = withoutOfferRewrite(probed);
  const chain = chainPrefix(pos);
  const evidence: Evidence[] = [...positionEvidence(probed), ...proxyEvidence(obs), ...conversationEvidence(obs)];
  const negotiated = obs.clients.alice.negotiated;
  const cipher = obs.clients.alice.channel?.cipher ?? null;
  const off = run.offered;
  if (!off) {
    return { outcome: 'error', reason: 'no verdict: no channel cipher offer crossed the attacker\'s path', summary: 'offer not seen', impact: [], evidence, negotiated };
  }
  const forced = pos.channel ? `chose ${cipher} from the victim's own offer ${JSON.stringify(off)} on the victim's side of the channel it took over` : run.rewritten ? 'rewrote the cipher offer' : `left the offer ${JSON.stringify(off)} as it was (weak ciphers only)`;
  // Under null the victim's own wire carries the canary; under CBC only a key holder (the victim-side takeover) reads it.
  const onWire = sightings.filter((s) => s.layer === 'client-wire');
  if (cipher === 'null' && onWire.length) {
    evidence.unshift(...sightingEvidence(onWire, obs.canary));
    return { outcome: 'succeeded', reason: `${chain}the attacker ${forced}; the channel ran on the null cipher and the attacker read the canary on the wire`, summary: pos.channel ? 'null cipher on victim hop: read' : 'forced null cipher: canary read', impact: ['confidentiality', 'integrity'], evidence, negotiated };
  }
  const opened = sightings.filter((s) => s.layer === 'plaintext');
  // Where the attacker reads the stream inside TLS (it terminated TLS) or owns the victim's side
  // of the channel, a null channel carries the canary in that plaintext: the victim's own client
  // accepted a cipher that hides nothing. Found by bench/consistency-sample.ts: random profiles
  // with TLS the client does not check and a null cipher in the channel's offer were "no verdict".
  if (cipher === 'null' && (pos.tls || pos.channel) && opened.length) {
    evidence.unshift(...sightingEvidence(opened, obs.canary));
    const where = pos.channel ? "the victim's side runs the null cipher" : 'the channel ran on the null cipher inside the TLS the attacker terminated';
    return { outcome: 'succeeded', reason: `${chain}the attacker ${forced}; ${where} (no encryption, no MAC), and the attacker read the canary`, summary: pos.channel ? 'null cipher on victim hop: read' : 'forced null cipher: canary read', impact: ['confidentiality', 'integrity'], evidence, negotiated };
  }
  if (cipher === 'aes-128-cbc' && pos.channel && opened.length) {
    evidence.unshift(...sightingEvidence(opened, obs.canary));
    return { outcome: 'succeeded', reason: `${chain}the attacker ${forced}; the victim's side runs aes-128-cbc without a MAC, and the attacker read the canary`, summary: 'CBC on victim hop: canary read', impact: ['confidentiality', 'integrity'], evidence, negotiated };
  }
  if (cipher === 'aes-128-cbc' && run.altered && obs.bobReceived !== null && obs.bobReceived !== obs.canaryMessage && !obs.clients.bob.error) {
    evidence.unshift({ kind: 'altered-delivery', detail: `bob received ${JSON.stringify(obs.bobReceived)} instead of ${JSON.stringify(obs.canaryMessage)}` });
    return { outcome: 'succeeded', reason: `${chain}the attacker ${forced}; the channel ran on aes-128-cbc without a MAC; the attacker ${run.altered}, and bob received the altered canary`, summary: 'forced CBC: canary altered', impact: ['integrity'], evidence, negotiated };
  }
  if (pos.channel && cipher && !UNAUTHENTICATED_CIPHERS.includes(cipher as never)) {
    return { outcome: 'blocked', reason: `${chain}no weak cipher in common: the victim offers only ${JSON.stringify(off)}, so even on the side of the channel the attacker owns it runs ${cipher}`, summary: 'no weak cipher in common', impact: [], evidence, negotiated };
  }
  const refusal = primaryRefusal(serverRefusals(obs));
  const err = obs.clients.alice.error;
  if (refusal) {
    const stopper = refusal.code === 'no_common_cipher' ? `no weak cipher in common: ${describeRefusal(refusal)}` : describeRefusal(refusal);
    return { outcome: 'blocked', reason: `${chain}the attacker ${forced}; the rewrite was caught: ${stopper}`, summary: refusal.event === 'channel_error' ? `refused: ${String(refusal.code)}`.slice(0, 40) : 'refused', impact: [], evidence, negotiated };
  }
  if (err?.code === 'SECCHAT_ERR_CHANNEL') return { outcome: 'blocked', reason: `${chain}the attacker ${forced}; the rewrite was caught by the client: ${err.message}`, summary: 'client refused', impact: [], evidence, negotiated };
  return { outcome: 'error', reason: `no verdict: the attacker ${forced}, the channel ran on ${cipher ?? 'no cipher'}, and neither an exploit nor a refusal was observed${err ? ` (${err.code}: ${err.message})` : ''} (${shortStep(pos)})`, summary: 'inconclusive', impact: [], evidence, negotiated };
}
