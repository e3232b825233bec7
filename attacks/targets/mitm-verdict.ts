/**
 * The verdict of a MITM run against a target, from what the proxy captured and what the student's
 * client did: the canary read (succeeded), the attacker's certificate refused with an alert or a
 * printed refusal (blocked), or neither (error). Shared by the MITM and gallery target variants.
 */
import { findCanary, sightingEvidence } from '../kit/evidence.ts';
import type { Verdict } from '../types.ts';
import { clientAlert, clientRefusalLine, programEvidence, targetProxyEvidence } from './evidence.ts';
import { lastLines, type TargetObservations } from './scenario.ts';

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

/**
 * Runs a target MITM conversation and judges it; when the first run gives no verdict (the canary
 * neither read nor the certificate visibly refused — a student's threaded client can lose a line
 * on a loaded machine), runs it once more and judges that, saying so in the evidence. Only a run
 * that showed nothing is repeated: a verdict is never retried into another one.
 */
export async function judgedWithOneRetry(run: () => Promise<TargetObservations>, active: boolean): Promise<Verdict> {
  const first = targetMitmVerdict(await run(), active);
  if (first.outcome !== 'error') return first;
  const second = targetMitmVerdict(await run(), active);
  second.evidence.unshift({ kind: 'retried', detail: `the first run gave no verdict (${first.reason.replace(/^no verdict: /, '')}); this is the second run` });
  return second;
}
