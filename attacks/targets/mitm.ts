/**
 * Target variants of the MITM attacks on certificate verification: the proxy sits between the
 * student's client and server and either only reads (`mitm-passive`) or terminates the client's
 * TLS with a certificate the attacker holds (`mitm-self-signed`, `mitm-wrong-host`,
 * `mitm-rogue-ca`). Succeeded: the canary was read in what the proxy captured. Blocked: the
 * student's client refused the handshake — the TLS alert it sent and what it printed name why.
 */
import type { PkiMaterial } from '../../core/pki.ts';
import type { CertKeyPem } from '../../core/tls/node-options.ts';
import { attackerCertFor } from './attacker-certs.ts';
import { judgedWithOneRetry } from './mitm-verdict.ts';
import type { Verdict } from '../types.ts';
import type { TargetAttack, TargetContext } from './types.ts';
import { clientTrustExtendable } from '../../core/target.ts';

/**
 * One active MITM variant: which certificate, and which roots (if any) the premise adds to the
 * client's CA file. The premise is used only when the attacker needs it: a run with it that
 * succeeds is followed by the same attack without it, and when that one reads the canary too the
 * premise was not needed — its verdict stands, `premiseUsed: false`. A client that loads no CA
 * file through `{ca}` gets the run without the premise only.
 */
function activeMitm(id: string, pick: (ctx: TargetContext) => { identity: CertKeyPem; premise?: { pems: string[]; says: string } }): TargetAttack {
  return {
    id,
    async run(ctx) {
      const { identity, premise } = pick(ctx);
      const judged = (extraTrustPems?: string[]) => judgedWithOneRetry(() => ctx.run({ addon: { name: id, onClientHello: () => ({ action: 'terminate', identity }) }, extraTrustPems }), true);
      if (!premise) return judged();
      const withoutPremise = (v: Verdict): Verdict => ({
        ...v,
        evidence: [{ kind: 'premise', detail: 'not needed: the client accepted a certificate from a root it was never told to trust (no attacker root in its CA file)' }, ...v.evidence],
        premiseUsed: false,
      });
      if (!clientTrustExtendable(ctx.target)) {
        const v = await judged();
        if (v.outcome === 'succeeded') return withoutPremise(v);
        return {
          ...v,
          outcome: 'not-applicable',
          reason: `the premise (${premise.says}) cannot be set up: the target's client.command does not load its CA file through {ca}; without it the client refused the certificate as from an unknown root, which mitm-self-signed already tests`,
          summary: 'premise needs {ca} in client.command',
        };
      }
      const v = await judged(premise.pems);
      let without: Verdict | null = null;
      if (v.outcome === 'succeeded') {
        without = await judged();
        if (without.outcome === 'succeeded') return withoutPremise(without);
      }
      v.reason = `premise: ${premise.says}. ${v.reason}`;
      v.evidence.unshift({ kind: 'premise', detail: `${premise.says}: the client was started with a CA file holding its own CA and the attacker's root` });
      if (without) {
        // A run without the premise that gave no verdict proves nothing: then the line says so.
        const detail = without.outcome === 'blocked' ? `needed: without it ${without.reason}` : `not shown to be needed: the run without it gave no verdict (${without.outcome}: ${without.reason})`;
        v.evidence.splice(1, 0, { kind: 'premise', detail });
      }
      return { ...v, premiseUsed: true };
    },
  };
}

export const targetMitmPassive: TargetAttack = {
  id: 'mitm-passive',
  async run(ctx) {
    return judgedWithOneRetry(() => ctx.run({ addon: { name: 'mitm-passive' } }), false);
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
