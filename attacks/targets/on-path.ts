/**
 * Target variants of the attacks that act on the conversation — `replay` and `tamper` — and of
 * `retro-decrypt`. The attacker first takes the strongest position the student's client hands it
 * without a premise:
 *  1. inside TLS, by terminating it with a self-signed certificate for the server's name (when
 *     the client accepts it, or when the app speaks plaintext, the chat bytes are in reach);
 *  2. inside TLS with a genuine certificate for the attacker's own name from a CA the client
 *     trusts (mitm-wrong-host's position: any public CA issues one for a domain one owns), when
 *     the client verifies the chain but not the host name — set up as mitm-wrong-host sets it
 *     up, the lab CA in the client's CA file through `{ca}`;
 *  3. otherwise on-path on the TLS records, where a replayed or altered record must be refused by
 *     the server's record protection (RFC 8446 §5.2 / RFC 5246 §6.2.3) — which the run measures.
 * Evidence of success is what the observer client (the server's other user) received: the
 * canary twice (replay), or the altered canary (tamper). Without an observer both are n/a.
 */
import { readFileSync } from 'node:fs';
import { parseRecordHeader } from '../../core/tls/record-layer.ts';
import { CONTENT_TYPE } from '../../core/tls/registry.ts';
import { parseServerHello } from '../../core/tls/server-hello.ts';
import { analyseRecording, retroVerdict } from '../retro/recording-verdict.ts';
import type { ProxyAddon, ProxyConnection } from '../proxy.ts';
import type { Evidence, Verdict } from '../types.ts';
import { attackerCertFor } from './attacker-certs.ts';
import { clientAlert, programEvidence, targetProxyEvidence } from './evidence.ts';
import { lastLines, type TargetObservations } from './scenario.ts';
import type { TargetAttack, TargetContext } from './types.ts';
import { clientTrustExtendable } from '../../core/target.ts';

const needsObserver = (what: string) => (t: TargetContext['target']) =>
  t.observer ? null : `needs an observer client (observer: in the target) to see whether the server delivered ${what}; without one the effect cannot be measured`;

/** The server's output lines that say it refused something on a connection (TLS errors, MAC failures). */
function serverRefusalLines(obs: TargetObservations): string[] {
  return obs.server.output.split('\n').filter((l) => /bad.?record.?mac|DECRYPTION_FAILED|decrypt|alert|SSLError|error/i.test(l) && !/DeprecationWarning/.test(l)).map((l) => l.trim().slice(0, 200));
}

/** The canary with its first hex digit changed: same length, so framing stays intact. */
export function alteredCanary(canary: string): string {
  const at = canary.lastIndexOf('-') + 1;
  const c = canary[at]!;
  return canary.slice(0, at) + (c === 'f' ? '0' : 'f') + canary.slice(at + 1);
}

/** Application-data records of a chunk on the wire (whole records only), as offsets. */
function appDataRecords(chunk: Buffer): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  for (let off = 0; off + 5 <= chunk.length; ) {
    const h = parseRecordHeader(chunk, off);
    if (!h || off + 5 + h.length > chunk.length) break;
    if (h.type === CONTENT_TYPE.application_data) out.push({ start: off, end: off + 5 + h.length });
    off += 5 + h.length;
  }
  return out;
}

type Mode = 'replay' | 'tamper';

/**
 * The addon for one rung: inside TLS (terminate with `identity`) or on the records (`identity`
 * null). Inside, it acts on the chunk that carries the canary; on the records, on every
 * application-data record the client sends (it cannot tell which one carries the canary).
 */
function actingAddon(mode: Mode, canary: string, identity: { certPem: string; keyPem: string } | null, acted: string[]): ProxyAddon {
  // In TLS 1.3 the client's first application-data record is its encrypted Finished: acting on it
  // breaks the handshake, not the chat. The ServerHello (in the clear) says which version it is.
  const state = new WeakMap<ProxyConnection, { tls13: boolean | null; appRecords: number }>();
  const st = (c: ProxyConnection) => state.get(c) ?? (state.set(c, { tls13: null, appRecords: 0 }), state.get(c)!);
  return {
    name: `target-${mode}`,
    onClientHello: identity ? () => ({ action: 'terminate', identity }) : () => ({ action: 'relay' }),
    onData(conn: ProxyConnection, data: Buffer, dir, layer) {
      if (dir === 's2c') {
        const s = st(conn);
        if (s.tls13 === null && layer === 'client-wire' && data[0] === CONTENT_TYPE.handshake && data[5] === 2 && data.length >= 9) {
          try {
            s.tls13 = parseServerHello(data.subarray(9, 9 + data.readUIntBE(6, 3))).selectedVersion === 0x0304;
          } catch {
            s.tls13 = false;
          }
        }
        return undefined;
      }
      if (layer === 'plaintext' || (layer === 'client-wire' && !conn.record.clientHello)) {
        if (!data.includes(canary)) return undefined;
        if (mode === 'tamper') {
          acted.push(`altered the canary in the ${layer === 'plaintext' ? 'plaintext it decrypted' : 'plaintext on the wire'}: ${canary} → ${alteredCanary(canary)}`);
          return Buffer.from(data.toString('latin1').replaceAll(canary, alteredCanary(canary)), 'latin1');
        }
        acted.push(`sent the chunk carrying the canary (${data.length} bytes) a second time, ${layer === 'plaintext' ? 'inside the TLS session it terminated' : 'on the plaintext wire'}`);
        setTimeout(() => conn.inject('c2s', data), 50);
        return undefined;
      }
      if (layer !== 'client-wire' || conn.isTerminated) return undefined;
      const s = st(conn);
      const recs = appDataRecords(data).filter(() => ++s.appRecords > (s.tls13 ? 1 : 0));
      if (!recs.length) return undefined;
      if (mode === 'tamper') {
        const out = Buffer.from(data);
        for (const r of recs) out[r.end - 1]! ^= 0x01;
        acted.push(`flipped one bit in each of ${recs.length} application-data record(s) on the wire`);
        return out;
      }
      acted.push(`sent ${recs.length} application-data record(s) a second time on the wire`);
      const copy = Buffer.concat(recs.map((r) => data.subarray(r.start, r.end)));
      setTimeout(() => conn.inject('c2s', copy), 50);
      return undefined;
    },
  };
}

/** Plays `mode` up the ladder and concludes from what the observer received. */
async function onPath(ctx: TargetContext, mode: Mode): Promise<Verdict> {
  const { canary } = ctx;
  const chain: string[] = [];
  const plain = ctx.target.server.transport === 'plain';
  let acted: string[] = [];
  // A replay is complete when a second copy arrives; wait for it up to the target's deliveryMs.
  const deliveredWhen = mode === 'replay' ? (o: string, c: string) => o.split(c).length - 1 >= 2 : undefined;
  let obs = await ctx.run({ addon: actingAddon(mode, canary, plain ? null : attackerCertFor(ctx.target, null), acted), deliveredWhen });
  const term = obs.proxy!.connections.find((c) => c.mode === 'terminate');
  let inside = plain || !!term?.clientHop;
  if (plain) chain.push('the app speaks plaintext: the chat bytes are on the wire');
  else if (inside) chain.push(`terminated TLS with a self-signed certificate the client accepted (${term!.clientHop!.protocol} ${term!.clientHop!.cipher})`);
  else {
    const alert = term ? clientAlert(term) : null;
    chain.push(`the client refused a self-signed certificate${alert ? ` (TLS alert ${alert})` : ''}`);
    // Rung 2: a client that checks the chain but not the name takes mitm-wrong-host's certificate.
    if (clientTrustExtendable(ctx.target)) {
      acted = [];
      obs = await ctx.run({ addon: actingAddon(mode, canary, ctx.pki.attackerWrongHost, acted), deliveredWhen, extraTrustPems: [ctx.pki.ca.certPem] });
      const wrongHost = obs.proxy!.connections.find((c) => c.mode === 'terminate');
      inside = !!wrongHost?.clientHop;
      if (inside) chain.push(`terminated TLS with a genuine certificate for the attacker's own name from a CA the client trusts, which the client accepted: it does not check the host name (${wrongHost!.clientHop!.protocol} ${wrongHost!.clientHop!.cipher})`);
      else {
        const alert2 = wrongHost ? clientAlert(wrongHost) : null;
        chain.push(`refused a CA-issued certificate for another name${alert2 ? ` (TLS alert ${alert2})` : ''}`);
      }
    }
    if (!inside) {
      chain.push('no position inside TLS');
      acted = [];
      obs = await ctx.run({ addon: actingAddon(mode, canary, null, acted), deliveredWhen });
      chain.push('stayed on-path on the TLS records');
    }
  }
  const evidence: Evidence[] = [
    { kind: 'position', detail: chain.join(' → ') },
    ...acted.map((a) => ({ kind: 'attacker', detail: a })),
    ...targetProxyEvidence(obs),
    ...programEvidence(obs),
  ];
  const negotiated = obs.proxy!.connections.find((c) => c.clientHop)?.clientHop ?? null;
  const seen = obs.observer!.output;
  if (mode === 'replay' && obs.observer!.canaryCopies >= 2) {
    return { outcome: 'succeeded', reason: `${chain.join(' → ')} → the server delivered the canary ${obs.observer!.canaryCopies} times to the other client`, summary: `canary delivered ${obs.observer!.canaryCopies}×`, impact: ['integrity'], evidence, negotiated };
  }
  if (mode === 'tamper' && seen.includes(alteredCanary(canary))) {
    return { outcome: 'succeeded', reason: `${chain.join(' → ')} → the other client received the ALTERED canary ${alteredCanary(canary)}`, summary: 'altered canary delivered', impact: ['integrity'], evidence, negotiated };
  }
  if (!acted.length) {
    return { outcome: 'error', reason: `no verdict: the attacker never saw ${inside ? 'the canary in the plaintext' : 'an application-data record'} to act on (client said: ${lastLines(obs.client.output) || 'nothing'})`, summary: 'nothing to act on', impact: [], evidence, negotiated };
  }
  const refusals = serverRefusalLines(obs);
  if (!inside && refusals.length) {
    return {
      outcome: 'blocked',
      reason: `${chain.join(' → ')} → the server refused the ${mode === 'replay' ? 'replayed' : 'altered'} record: ${refusals[refusals.length - 1]} (the other client received the canary ${obs.observer!.canaryCopies} time(s)${mode === 'tamper' ? ', unaltered' : ''})`,
      summary: `refused: TLS record protection`,
      impact: [],
      evidence: [...evidence, ...refusals.map((l) => ({ kind: 'server-said', detail: l }))],
      negotiated,
    };
  }
  if (inside && mode === 'replay' && obs.observer!.canaryCopies === 1) {
    return {
      outcome: 'blocked',
      reason: `${chain.join(' → ')} → the attacker sent the canary twice inside TLS, and the other client received it once in ${ctx.target.deliveryMs} ms: the app did not deliver the duplicate`,
      summary: 'duplicate not delivered',
      impact: [],
      evidence,
      negotiated,
    };
  }
  return { outcome: 'error', reason: `no verdict: the ${mode} was sent but neither a delivery nor a refusal was observed (observer received the canary ${obs.observer!.canaryCopies} time(s))`, summary: 'no verdict', impact: [], evidence, negotiated };
}

export const targetReplay: TargetAttack = { id: 'replay', applicability: needsObserver('a second copy'), run: (ctx) => onPath(ctx, 'replay') };
export const targetTamper: TargetAttack = { id: 'tamper', applicability: needsObserver('an altered message'), run: (ctx) => onPath(ctx, 'tamper') };

/** retro-decrypt against a target: record through a passive tap, then decrypt with the target's own server.privateKey. */
export const targetRetroDecrypt: TargetAttack = {
  id: 'retro-decrypt',
  applicability(t) {
    if (t.server.transport === 'plain') return 'no encryption to break: the app speaks plaintext, which mitm-passive already reads';
    if (!t.server.privateKey) return 'the target gives no server.privateKey: there is no key to steal';
    return null;
  },
  async run(ctx) {
    const obs = await ctx.run({ addon: { name: 'retro-decrypt-tap' } });
    const keyPath = ctx.target.server.privateKey!;
    const all = analyseRecording(obs.proxy!, readFileSync(keyPath, 'utf8'), ctx.canary);
    const v = retroVerdict(all, keyPath, ctx.canary);
    const kx = all
      .filter((x) => x.a.tls?.version)
      .map((x) => ({ kind: 'key-exchange', detail: `connection ${x.conn}: ${x.a.tls!.version} ${x.a.tls!.suite}, key exchange ${x.a.tls!.keyExchange}${x.a.tls!.group ? ` ${x.a.tls!.group}` : ''} → ${x.a.tls!.outcome}` }));
    return {
      outcome: v.outcome,
      reason: v.reason,
      summary: v.summary,
      impact: v.impact,
      evidence: [...v.extra, { kind: 'stolen-key', detail: `after the session ended the attacker read the server private key from ${keyPath}` }, ...kx, ...programEvidence(obs)],
      negotiated: null,
    };
  },
};
