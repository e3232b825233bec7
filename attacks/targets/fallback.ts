/**
 * `downgrade-fallback` against a target's client: does it retry a failed handshake with a lower
 * version (the old browser "fallback dance", which POODLE exploited)? The proxy resets every
 * connection whose ClientHello offers more than TLS 1.0 and relays the rest; the client's own
 * retries, read from the ClientHellos the proxy saw, are the evidence.
 * Succeeded: a retry offered a lower version and a session ran at it (the server accepted it).
 * Blocked: the client never retried lower (it gave up after the reset), or its lower retry was
 * refused by the server (TLS_FALLBACK_SCSV, RFC 7507, or the server's minimum version) — named.
 * Before that, a probe run climbs the ladder's TLS rung: the attacker terminates the client's TLS
 * with its self-signed certificate, its hop capped one version below what the client offered.
 * A client that accepts the certificate and completes at that version hands the attacker the
 * version without any fallback: succeeded, measured from the hop the proxy negotiated.
 */
import type { SecureVersion } from 'node:tls';
import { CONTENT_TYPE, versionName } from '../../core/tls/registry.ts';
import { parseServerHello } from '../../core/tls/server-hello.ts';
import { attackerCertFor } from './attacker-certs.ts';
import { programEvidence, targetProxyEvidence } from './evidence.ts';
import type { TargetAttack } from './types.ts';

/** node's name of a wire version below TLS 1.3, or null when there is none lower than TLS 1.0. */
const SECURE_VERSIONS: Record<number, SecureVersion> = { 0x0301: 'TLSv1', 0x0302: 'TLSv1.1', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3' };

/** The version the proxy lets through: anything above it is reset. */
const LOWEST = 0x0301;

export const targetDowngradeFallback: TargetAttack = {
  id: 'downgrade-fallback',
  applicability: (t) => (t.server.transport === 'tls' ? null : `the target speaks ${t.server.transport} first; this attack resets TLS handshakes from the first byte`),
  async run(ctx) {
    // The TLS rung first: with a certificate the client accepts, the attacker picks the version.
    const cert = attackerCertFor(ctx.target, null);
    const caps = new Map<number, { offered: number; cap: SecureVersion }>();
    const probe = await ctx.run({
      addon: {
        name: 'downgrade-fallback',
        onClientHello: (c, _raw, hello) => {
          const cap = hello ? SECURE_VERSIONS[hello.maxVersion - 1] : undefined;
          if (!hello || !cap) return { action: 'relay' };
          caps.set(c.record.id, { offered: hello.maxVersion, cap });
          return { action: 'terminate', identity: cert, maxVersion: cap };
        },
      },
      withObserver: false,
    });
    const took = probe.proxy!.connections
      .map((c) => ({ c, cap: caps.get(c.id) }))
      .find(({ c, cap }) => cap && c.mode === 'terminate' && c.clientHop && wireOf(c.clientHop.protocol) !== null && wireOf(c.clientHop.protocol)! < cap.offered);
    if (took) {
      const hop = took.c.clientHop!;
      return {
        outcome: 'succeeded',
        reason: `the client accepted the attacker's self-signed certificate, and with the attacker's hop capped at ${took.cap!.cap} it ran ${hop.protocol} (${hop.cipher}) although it offered up to ${versionName(took.cap!.offered)}: the attacker chose the version, no fallback needed`,
        summary: `forced ${hop.protocol}: TLS terminated`,
        impact: ['confidentiality', 'integrity'],
        evidence: [
          { kind: 'downgraded-to', detail: `connection ${took.c.id}: the client negotiated ${hop.protocol} (${hop.cipher}) with the attacker; it offered up to ${versionName(took.cap!.offered)}` },
          { kind: 'accepted-certificate', detail: "the client completed TLS with the attacker's self-signed certificate (no trusted CA issued it)" },
          ...targetProxyEvidence(probe),
          ...programEvidence(probe),
        ],
        negotiated: hop,
      };
    }
    const obs = await ctx.run({
      addon: {
        name: 'downgrade-fallback',
        onClientHello: (_c, _raw, hello) => (hello && hello.maxVersion > LOWEST ? { action: 'kill', reason: `reset a handshake offering up to ${versionName(hello.maxVersion)}` } : { action: 'relay' }),
      },
      withObserver: false,
    });
    const hellos = obs.proxy!.connections.filter((c) => c.clientHelloInfo).map((c) => ({ c, h: c.clientHelloInfo! }));
    const evidence = [
      { kind: 'client-hellos', detail: hellos.length ? hellos.map(({ c, h }) => `connection ${c.id}: up to ${versionName(h.maxVersion)}${h.fallbackScsv ? ' with TLS_FALLBACK_SCSV' : ''} → ${c.mode === 'kill' ? 'reset by the attacker' : 'relayed'}`).join('; ') : 'none' },
      ...targetProxyEvidence(obs),
      ...programEvidence(obs),
    ];
    if (!hellos.length) return { outcome: 'error', reason: 'no verdict: the client sent no TLS ClientHello', summary: 'no ClientHello', impact: [], evidence, negotiated: null };
    const first = hellos[0]!.h.maxVersion;
    const lower = hellos.filter(({ h }) => h.maxVersion < first);
    // The server's answer on a relayed lower retry: the version its ServerHello chose, read from the wire.
    const chosen = (conn: number): number | null => {
      const s2c = obs.proxy!.engine.bytes({ conn, dir: 's2c', layer: 'client-wire' });
      if (s2c[0] !== CONTENT_TYPE.handshake || s2c[5] !== 2 || s2c.length < 9) return null;
      try {
        return parseServerHello(s2c.subarray(9, 9 + s2c.readUIntBE(6, 3))).selectedVersion;
      } catch {
        return null;
      }
    };
    const ran = lower.map((x) => ({ ...x, v: chosen(x.c.id) })).find((x) => x.c.mode === 'relay' && x.v !== null && x.v < first);
    if (ran) {
      return {
        outcome: 'succeeded',
        reason: `the client retried with ${versionName(ran.h.maxVersion)} after the attacker reset its ${versionName(first)} handshake, and the server's ServerHello chose ${versionName(ran.v!)}: the attacker chose the version${obs.serverLogged ? ' (the canary then crossed in that session)' : ''}`,
        summary: `forced ${versionName(ran.h.maxVersion)}`,
        impact: ['confidentiality'],
        evidence,
        negotiated: null,
      };
    }
    if (lower.length) {
      const scsv = lower.some(({ h }) => h.fallbackScsv);
      return { outcome: 'blocked', reason: `the client retried lower (${lower.map(({ h }) => versionName(h.maxVersion)).join(', ')}${scsv ? ', with TLS_FALLBACK_SCSV' : ''}) but the server refused the lower version`, summary: 'lower retry refused', impact: [], evidence, negotiated: null };
    }
    return {
      outcome: 'blocked',
      reason: `the client does not fall back: after the attacker reset its ${versionName(first)} handshake it made ${hellos.length - 1} more attempt(s), none offering a lower version`,
      summary: 'no fallback retry',
      impact: [],
      evidence,
      negotiated: null,
    };
  },
};

/** Wire value of a negotiated protocol name ("TLSv1.2" → 0x0303), or null for anything else. */
function wireOf(protocol: string | null | undefined): number | null {
  const hit = Object.entries(SECURE_VERSIONS).find(([, name]) => name === protocol);
  return hit ? Number(hit[0]) : null;
}
