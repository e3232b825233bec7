/**
 * `tamper`: alter alice's message to bob in flight, from the strongest position an attacker
 * without a premise reaches (attacks/kit/position.ts): inside a channel it took over it rewrites
 * the plaintext and re-seals it; on a readable stream it rewrites the frame; inside a channel it
 * could not take, it rewrites what the cipher leaves unauthenticated (null: the plaintext; CBC
 * without MAC: XOR into the IV) or flips a bit for the MAC to catch; inside TLS it could not
 * terminate, it flips a bit of a record. Succeeded only if bob received the altered text and no
 * side raised an error about it.
 */
import { conversationEvidence, proxyEvidence } from '../kit/evidence.ts';
import { alterFrame, flipTlsApplicationData } from '../kit/rewrite.ts';
import { positionAddon, positionEvidence } from '../kit/position.ts';
import { tamperVerdict, type TamperAlteration } from '../kit/tamper-verdict.ts';
import { CanaryMark } from '../kit/canary-mark.ts';
import type { Attack, Evidence } from '../types.ts';

export const tamper: Attack = {
  id: 'tamper',
  title: 'Tamper in flight',
  description: 'From the strongest position it reaches without a premise (stripped STARTTLS, terminated TLS, a secure channel taken over), the attacker alters alice\'s message to bob: it rewrites readable or opened frames, and where it holds no key it rewrites what the cipher leaves unauthenticated or flips bits. Succeeds only if bob receives the altered text without any error.',
  async run(ctx) {
    const pos = await ctx.position();
    const mark = new CanaryMark();
    let altered: (TamperAlteration & { conn: number }) | null = null;
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
    return tamperVerdict(pos, altered, obs, evidence);
  },
};
