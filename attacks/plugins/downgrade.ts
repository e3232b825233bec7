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
import { findCanary } from '../kit/evidence.ts';
import { alterFrame } from '../kit/rewrite.ts';
import { probeFallbackScsv } from '../kit/fallback-probe.ts';
import { attackerIdentity, positionAddon, type Position } from '../kit/position.ts';
import { UNAUTHENTICATED_CIPHERS } from '../kit/channel-takeover.ts';
import {
  cipherDowngradeVerdict,
  hiddenOfferVerdict,
  resetFallbackVerdict,
  starttlsStripVerdict,
  strippedFallbackVerdict,
  terminatedFallbackVerdict,
  withoutOfferRewrite,
} from '../kit/downgrade-verdict.ts';
import type { ProxyAddon } from '../proxy.ts';
import { CanaryMark } from '../kit/canary-mark.ts';
import type { Attack, AttackContext, Verdict } from '../types.ts';

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
  return strippedFallbackVerdict(ctx.profile, runPos, obs);
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
  return terminatedFallbackVerdict(ctx.profile, pos, cert, obs);
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
    return resetFallbackVerdict(ctx.profile, { killed, probe }, obs);
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
    return starttlsStripVerdict(runPos, stripped, findCanary(obs.proxy!.engine, ctx.canary), obs);
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
      const obs = await ctx.runConversation({ addon: { name: 'downgrade-cipher' } });
      return hiddenOfferVerdict(probed, obs);
    }
    // The offer rewrite is this attack's own technique: run it here, not as part of the position.
    const pos = withoutOfferRewrite(probed);
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
    return cipherDowngradeVerdict(probed, { offered, rewritten, altered }, findCanary(obs.proxy!.engine, ctx.canary), obs);
  },
};
