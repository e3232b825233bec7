/**
 * Target variants of the MITM attacks on certificate verification: the proxy sits between the
 * student's client and server and either only reads (`mitm-passive`) or terminates the client's
 * TLS with a certificate the attacker holds (`mitm-self-signed`, `mitm-wrong-host`,
 * `mitm-rogue-ca`). Succeeded: the canary was read in what the proxy captured. Blocked: the
 * student's client refused the handshake — the TLS alert it sent and what it printed name why.
 */
import { issueCertificate, NOT_BEFORE_BACKDATE_MS, type PkiMaterial } from '../../core/pki.ts';
import { isIpAddress } from '../../core/tls/certificate-verification.ts';
import type { CertKeyPem } from '../../core/tls/node-options.ts';
import type { Target } from '../../core/target.ts';
import { findCanary, sightingEvidence } from '../kit/evidence.ts';
import type { ProxyConnectionRecord } from '../proxy.ts';
import type { Evidence, Verdict } from '../types.ts';
import { lastLines, type TargetObservations } from './scenario.ts';
import type { TargetAttack, TargetContext } from './types.ts';

/** The names the attacker's certificates carry for a target: the name its client expects, and the loopback address. */
export function targetNames(t: Target): { commonName: string; dnsNames: string[]; ipAddresses: string[] } {
  const n = t.client.expectServerName;
  return isIpAddress(n) ? { commonName: n, dnsNames: [], ipAddresses: [n] } : { commonName: n, dnsNames: [n], ipAddresses: ['127.0.0.1'] };
}

/** A certificate valid now for ~a month, signed by `issuer` (null: self-signed). */
export function attackerCertFor(t: Target, issuer: CertKeyPem | null, names = targetNames(t)): CertKeyPem {
  const now = Date.now();
  return issueCertificate({ ...names, issuer, notBefore: new Date(now - NOT_BEFORE_BACKDATE_MS), notAfter: new Date(now + 30 * 86_400_000) });
}

/** Evidence lines about the programs: what the client printed, whether the observer got the canary. */
export function programEvidence(obs: TargetObservations): Evidence[] {
  const ev: Evidence[] = [];
  const exit = obs.client.exit ? ` (exit ${obs.client.exit.code ?? obs.client.exit.signal})` : '';
  ev.push({ kind: 'target-client', detail: `the client (${obs.client.argv.join(' ')}) printed: ${lastLines(obs.client.output) || '(nothing)'}${exit}` });
  if (obs.observer) ev.push({ kind: 'delivery', detail: obs.observer.canaryCopies ? `the observer client received the canary ${obs.observer.canaryCopies} time(s)` : 'the observer client did not receive the canary' });
  else ev.push({ kind: 'delivery', detail: obs.serverLogged ? "the server's log shows the canary arrived" : "the canary did not appear in the server's log" });
  return ev;
}

/** Proxy records as evidence: per connection, the TLS hops and the errors on them. */
export function targetProxyEvidence(obs: TargetObservations): Evidence[] {
  return (obs.proxy?.connections ?? []).flatMap((c) => [
    ...(c.mode === 'terminate'
      ? [{ kind: 'proxy-tls', detail: `connection ${c.id}: attacker terminated TLS — client hop ${c.clientHop ? `${c.clientHop.protocol} ${c.clientHop.cipher}` : 'did not complete'}, server hop ${c.serverHop ? `${c.serverHop.protocol} ${c.serverHop.cipher}` : 'did not complete'}` }]
      : []),
    ...c.errors.map((e) => ({ kind: 'proxy-error', detail: `connection ${c.id}, ${e.side} side: ${e.code}: ${e.message}` })),
  ]);
}

/**
 * The TLS alert the victim client sent the attacker, read from the proxy's own error on the
 * client hop (OpenSSL names it: "tlsv1 alert unknown ca", "sslv3 alert bad certificate"…).
 */
export function clientAlert(c: ProxyConnectionRecord): string | null {
  for (const e of c.errors) {
    if (e.side !== 'client') continue;
    const m = /(?:tlsv1|sslv3|tlsv13) alert ([a-z ]+)/i.exec(e.message);
    if (m) return m[1]!.trim().replace(/ /g, '_');
  }
  return null;
}

/** The sentence a refusing client printed about the certificate, if any (Python's ssl module wording and OpenSSL's). */
export function clientRefusalLine(obs: TargetObservations): string | null {
  const lines = obs.client.output.split('\n').filter((l) => /certificate verify failed|CERTIFICATE_VERIFY_FAILED|hostname mismatch|certificate|SSLError|alert/i.test(l) && !/DeprecationWarning/.test(l));
  return lines.length ? lines[lines.length - 1]!.trim().slice(0, 300) : null;
}

/** The verdict of a MITM run against a target. */
export function targetMitmVerdict(obs: TargetObservations, active: boolean): Verdict {
  const engine = obs.proxy!.engine;
  const sightings = findCanary(engine, obs.canary);
  const evidence = [...sightingEvidence(sightings, obs.canary), ...targetProxyEvidence(obs), ...programEvidence(obs)];
  const term = obs.proxy!.connections.find((c) => c.mode === 'terminate');
  const negotiated = term?.clientHop ?? null;
  if (sightings.length) {
    const s = sightings[0]!;
    const how = s.layer === 'plaintext' ? "inside the TLS session it terminated: the client accepted the attacker's certificate" : 'in the bytes on the wire: the client sent it unencrypted';
    return {
      outcome: 'succeeded',
      reason: `the attacker read the canary ${how}${active ? '; sitting in the plaintext path, it could also have altered it' : ''}`,
      summary: s.layer === 'plaintext' ? 'canary read: forged cert accepted' : 'canary read on the wire',
      impact: active ? ['confidentiality', 'integrity'] : ['confidentiality'],
      evidence,
      negotiated,
    };
  }
  if (active) {
    const refused = obs.proxy!.connections.find((c) => c.mode === 'terminate' && !c.clientHop);
    const alert = refused ? clientAlert(refused) : null;
    const said = clientRefusalLine(obs);
    if (refused && (alert || said)) {
      return {
        outcome: 'blocked',
        reason: `the client refused the attacker's certificate${alert ? ` with TLS alert ${alert}` : ''}${said ? `; it said: ${said}` : ''}`,
        summary: `refused: ${alert ?? 'certificate'}`.slice(0, 40),
        impact: [],
        evidence,
        negotiated: null,
      };
    }
  } else if (obs.delivered) {
    return { outcome: 'blocked', reason: 'the attacker saw only encrypted bytes: the canary crossed the wire as TLS ciphertext', summary: 'only ciphertext seen', impact: [], evidence, negotiated };
  }
  return {
    outcome: 'error',
    reason: `no verdict: the canary was not read and the client did not visibly refuse the attacker (client said: ${lastLines(obs.client.output) || 'nothing'})`,
    summary: 'no verdict',
    impact: [],
    evidence,
    negotiated,
  };
}

/** One active MITM variant: which certificate, and which roots (if any) the premise adds to the client's CA file. */
function activeMitm(id: string, pick: (ctx: TargetContext) => { identity: CertKeyPem; premise?: { pems: string[]; says: string } }): TargetAttack {
  return {
    id,
    async run(ctx) {
      const { identity, premise } = pick(ctx);
      const usePremise = !!premise && ctx.target.client.command.includes('{ca}');
      const obs = await ctx.run({ addon: { name: id, onClientHello: () => ({ action: 'terminate', identity }) }, extraTrustPems: usePremise ? premise!.pems : undefined });
      const v = targetMitmVerdict(obs, true);
      if (usePremise) {
        v.reason = `premise: ${premise!.says}. ${v.reason}`;
        v.evidence.unshift({ kind: 'premise', detail: `${premise!.says}: the client was started with a CA file holding its own CA and the attacker's root` });
      } else if (premise && v.outcome === 'succeeded') {
        v.evidence.unshift({ kind: 'premise', detail: 'no premise was needed: the client accepted a certificate from a root it was never told to trust' });
      } else if (premise && v.outcome !== 'succeeded') {
        return {
          ...v,
          outcome: 'not-applicable',
          reason: `the premise (${premise.says}) cannot be set up: the target's client.command does not load its CA file through {ca}; without it the client refused the certificate as from an unknown root, which mitm-self-signed already tests`,
          summary: 'premise needs {ca} in client.command',
        };
      }
      return v;
    },
  };
}

export const targetMitmPassive: TargetAttack = {
  id: 'mitm-passive',
  async run(ctx) {
    return targetMitmVerdict(await ctx.run({ addon: { name: 'mitm-passive' } }), false);
  },
};

export const targetMitmSelfSigned = activeMitm('mitm-self-signed', (ctx) => ({ identity: attackerCertFor(ctx.target, null) }));

export const targetMitmWrongHost = activeMitm('mitm-wrong-host', (ctx: TargetContext) => ({
  identity: ctx.pki.attackerWrongHost,
  premise: { pems: [ctx.pki.ca.certPem], says: 'a CA the client trusts issued the attacker a genuine certificate for its own name, evil.example (any public CA does so for a domain one owns)' },
}));

export const targetMitmRogueCa = activeMitm('mitm-rogue-ca', (ctx: TargetContext) => ({
  identity: attackerCertFor(ctx.target, rogue(ctx.pki)),
  premise: { pems: [ctx.pki.rogueCa.certPem], says: "the victim was made to trust the attacker's rogue root (as a corporate proxy or malware installs one)" },
}));

function rogue(pki: PkiMaterial): CertKeyPem {
  return { certPem: pki.rogueCa.certPem, keyPem: pki.rogueCa.keyPem };
}
