/**
 * `tamper`: alter alice's message to bob in flight, from the strongest position an attacker
 * without a premise reaches (attacks/kit/position.ts): inside a channel it took over it rewrites
 * the plaintext and re-seals it; on a readable stream it rewrites the frame; inside a channel it
 * could not take, it rewrites what the cipher leaves unauthenticated (null: the plaintext; CBC
 * without MAC: XOR into the IV) or flips a bit for the MAC to catch; inside TLS it could not
 * terminate, it flips a bit of a record. Succeeded only if bob received the altered text and no
 * side raised an error about it.
 */
import { conversationEvidence, describeRefusal, primaryRefusal, proxyEvidence, serverRefusals } from '../kit/evidence.ts';
import { alterFrame, flipTlsApplicationData } from '../kit/rewrite.ts';
import { chainPrefix, positionAddon, positionEvidence, shortStep } from '../kit/position.ts';
import { CanaryMark } from '../kit/canary-mark.ts';
import type { Attack, Evidence } from '../types.ts';

export const tamper: Attack = {
  id: 'tamper',
  title: 'Tamper in flight',
  description: 'From the strongest position it reaches without a premise (stripped STARTTLS, terminated TLS, a secure channel taken over), the attacker alters alice\'s message to bob: it rewrites readable or opened frames, and where it holds no key it rewrites what the cipher leaves unauthenticated or flips bits. Succeeds only if bob receives the altered text without any error.',
  async run(ctx) {
    const pos = await ctx.position();
    const mark = new CanaryMark();
    let altered: { how: string; conn: number; upstream: string | null } | null = null;
    const positioned = positionAddon(pos, ctx.pki, {
      name: 'tamper',
      onFrame(conn, dir, frame, at) {
        if (altered || dir !== 'c2s' || !mark.isAlice(conn)) return undefined;
        const a = alterFrame(frame, ctx.canary.slice(0, 7));
        if (!a) return undefined;
        const how = at === 'channel' ? 'rewrote alice\'s dm opened inside the channel it negotiated, and re-sealed it' : a.how;
        altered = { how, conn: conn.record.id, upstream: conn.record.upstreamLocal };
        conn.note(how);
        return a.frame;
      },
      onOpaque(conn, data, dir) {
        if (altered || dir !== 'c2s' || !mark.isAlice(conn)) return undefined;
        // Inside TLS the attacker could not terminate: flip a bit of the next application_data record.
        const out = flipTlsApplicationData(data);
        if (out) {
          altered = { how: 'flipped one bit inside a TLS application_data record (it could not terminate TLS, so it cannot read it)', conn: conn.record.id, upstream: conn.record.upstreamLocal };
          conn.note(altered.how);
        }
        return out ?? undefined;
      },
    });
    const obs = await ctx.runConversation({ addon: positioned.addon, beforeCanary: mark.beforeCanary });
    const evidence: Evidence[] = [...positionEvidence(pos), ...proxyEvidence(obs), ...conversationEvidence(obs)];
    const negotiated = obs.clients.alice.negotiated;
    const got = obs.bobReceived;
    const err = obs.clients.alice.error ?? obs.clients.bob.error;
    if (!altered) {
      return { outcome: 'error', reason: 'the attacker never saw alice\'s message pass (nothing was altered)', summary: 'message not seen', impact: [], evidence, negotiated };
    }
    const { how, upstream } = altered as { how: string; upstream: string | null };
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
  },
};

function shortRefusal(r: { event: string; code?: unknown; message?: unknown }): string {
  if (r.event === 'channel_error') return `refused: channel ${String(r.code)}`.slice(0, 40);
  if (/BAD_RECORD_MAC|DECRYPTION_FAILED|bad record mac|CIPHER_OPERATION_FAILED/i.test(`${r.code} ${r.message}`)) return 'refused: TLS record MAC';
  return `refused: ${String(r.code ?? r.event)}`.slice(0, 40);
}
