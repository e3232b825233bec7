/**
 * The `tamper` attack's verdict from what the run observed (attacks/plugins/tamper.ts runs it):
 * succeeded only if bob received a text other than alice's and bob's client raised no error;
 * blocked only when the server logged a refusal on the very connection the attacker altered (the
 * most telling one is named: attacks/kit/evidence.ts); anything else is inconclusive (error),
 * never blocked. Pure, so each rule is unit-tested with crafted observations
 * (test/tamper-verdict.test.ts) and held to a mutation score (docs/testing.md).
 */
import { describeRefusal, primaryRefusal, serverRefusals } from './evidence.ts';
import { chainPrefix, shortStep, type Position } from './position.ts';
import type { Evidence, Observations, Verdict } from '../types.ts';

/** What the attacker altered, if anything: how, and the server-side address of that connection. */
export interface TamperAlteration {
  how: string;
  /** the proxy's upstream local address:port for the altered connection (how the server log names it) */
  upstream: string | null;
}

/**
 * The tamper verdict.
 * @param evidence what the run already gathered (position, proxy, conversation); the verdict's own
 *   evidence (the altered delivery or the server's refusals) is put in front of it
 */
export function tamperVerdict(pos: Position, altered: TamperAlteration | null, obs: Observations, evidence: Evidence[]): Verdict {
  const negotiated = obs.clients.alice.negotiated;
  const got = obs.bobReceived;
  const err = obs.clients.alice.error ?? obs.clients.bob.error;
  if (!altered) {
    return { outcome: 'error', reason: 'the attacker never saw alice\'s message pass (nothing was altered)', summary: 'message not seen', impact: [], evidence, negotiated };
  }
  const { how, upstream } = altered;
  const chain = chainPrefix(pos);
  if (got !== null && got !== obs.canaryMessage && !obs.clients.bob.error) {
    evidence.unshift({ kind: 'altered-delivery', detail: `${chain}${how} → bob received ${JSON.stringify(got)} instead of ${JSON.stringify(obs.canaryMessage)}` });
    return { outcome: 'succeeded', reason: `bob received an altered message without any error: ${chain}the attacker ${how}`, summary: pos.steps.length > 1 ? `altered after ${shortStep(pos)}` : 'bob got the altered text', impact: ['integrity'], evidence, negotiated };
  }
  // Only a refusal on the connection the attacker altered explains why bob did not get it.
  const refusals = serverRefusals(obs, upstream);
  const main = primaryRefusal(refusals);
  if (main) {
    evidence.unshift(...refusals.map((r) => ({ kind: 'server-refused', detail: describeRefusal(r) })));
    return { outcome: 'blocked', reason: `${chain}the attacker ${how}; ${describeRefusal(main)}, so bob never saw it`, summary: shortRefusal(main), impact: [], evidence, negotiated };
  }
  return {
    outcome: 'error',
    reason: `no verdict: the attacker ${how}, but ${got === obs.canaryMessage ? 'bob received the original message' : 'the message never reached bob'} and nothing on the server says why${err ? ` (${err.code}: ${err.message})` : ''}`,
    summary: 'inconclusive',
    impact: [],
    evidence,
    negotiated,
  };
}

/** A table cell's few words for a refusal (≤ 40 characters). */
function shortRefusal(r: { event: string; code?: unknown; message?: unknown }): string {
  if (r.event === 'channel_error') return `refused: channel ${String(r.code)}`.slice(0, 40);
  if (/BAD_RECORD_MAC|DECRYPTION_FAILED|bad record mac|CIPHER_OPERATION_FAILED/i.test(`${r.code} ${r.message}`)) return 'refused: TLS record MAC';
  return `refused: ${String(r.code ?? r.event)}`.slice(0, 40);
}
