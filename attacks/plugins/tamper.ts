/**
 * `tamper`: from a position on the network path, alter alice's message to bob in flight —
 * without any key. Readable frames are rewritten; encrypted ones get bits flipped (CBC without a
 * MAC lets a known-plaintext attacker choose the change). Succeeded only if bob received the
 * altered text and no side raised an error about it.
 */
import { encodeFrame, type FrameDecoder } from '../../core/frames.ts';
import { conversationEvidence, describeRefusal, primaryRefusal, proxyEvidence, serverRefusals } from '../evidence.ts';
import { alterFrame, flipTlsApplicationData, framesOf } from '../tamper-tools.ts';
import type { ProxyAddon, ProxyConnection } from '../proxy.ts';
import { CanaryMark } from '../canary-mark.ts';
import type { Attack, Evidence } from '../types.ts';

export const tamper: Attack = {
  id: 'tamper',
  title: 'Tamper in flight',
  description: 'Without any key, the attacker alters alice\'s message to bob on the wire: it rewrites readable frames, and flips bits in encrypted ones (XOR into the IV where CBC has no MAC). Succeeds only if bob receives the altered text without any error.',
  async run(ctx) {
    const mark = new CanaryMark();
    let altered: { how: string; conn: number; upstream: string | null } | null = null;
    const decoders = new WeakMap<ProxyConnection, FrameDecoder>();
    const addon: ProxyAddon = {
      name: 'tamper',
      onData(conn, data, dir, layer) {
        if (altered || dir !== 'c2s' || !mark.isAlice(conn)) return undefined;
        if (conn.record.clientHello && layer === 'client-wire') {
          // Inside TLS the attacker cannot read: flip a bit of the next application_data record.
          const out = flipTlsApplicationData(data);
          if (out) {
            altered = { how: 'flipped one bit inside a TLS application_data record (it cannot read TLS)', conn: conn.record.id, upstream: conn.record.upstreamLocal };
            conn.note(altered.how);
          }
          return out ?? undefined;
        }
        const out: Buffer[] = [];
        for (const f of framesOf(decoders, conn, data)) {
          const a: ReturnType<typeof alterFrame> = altered ? null : alterFrame(f, ctx.canary.slice(0, 7));
          if (a) {
            altered = { how: a.how, conn: conn.record.id, upstream: conn.record.upstreamLocal };
            conn.note(a.how);
          }
          out.push(encodeFrame(a ? a.frame : f));
        }
        return Buffer.concat(out);
      },
    };
    const obs = await ctx.runConversation({
      addon,
      beforeCanary: mark.beforeCanary,
    });
    const evidence: Evidence[] = [...proxyEvidence(obs), ...conversationEvidence(obs)];
    const negotiated = obs.clients.alice.negotiated;
    const got = obs.bobReceived;
    const err = obs.clients.alice.error ?? obs.clients.bob.error;
    if (!altered) {
      return { outcome: 'error', reason: 'the attacker never saw alice\'s message pass (nothing was altered)', summary: 'message not seen', impact: [], evidence, negotiated };
    }
    const { how, upstream } = altered as { how: string; upstream: string | null };
    if (got !== null && got !== obs.canaryMessage && !obs.clients.bob.error) {
      evidence.unshift({ kind: 'altered-delivery', detail: `bob received ${JSON.stringify(got)} instead of ${JSON.stringify(obs.canaryMessage)}; the attacker ${how}` });
      return { outcome: 'succeeded', reason: `bob received an altered message without any error: the attacker ${how}`, summary: 'bob got the altered text', impact: ['integrity'], evidence, negotiated };
    }
    // Only a refusal on the connection the attacker altered explains why bob did not get it.
    const refusals = serverRefusals(obs, upstream);
    const main = primaryRefusal(refusals);
    if (main) {
      evidence.unshift(...refusals.map((r) => ({ kind: 'server-refused', detail: describeRefusal(r) })));
      return { outcome: 'blocked', reason: `the attacker ${how}; ${describeRefusal(main)}, so bob never saw it`, summary: shortRefusal(main), impact: [], evidence, negotiated };
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
