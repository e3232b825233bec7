/**
 * The certificate gallery's verdict (core/pki-gallery.ts: nine certificates with one defect each):
 * one run per certificate, folded into one cell. Shared by `mitm-gallery` on secchat's own client
 * and its target variant on a student's client, so both fold by the same rule.
 */
import type { GalleryEntry } from '../../core/pki-gallery.ts';
import type { Verdict } from '../types.ts';

/** The verdict of one gallery certificate, as kept in the gallery cell's data. */
export interface GalleryCertResult {
  entry: GalleryEntry;
  defect: string;
  outcome: Verdict['outcome'];
  reason: string;
}

/**
 * Folds one run per gallery certificate into the cell's verdict: succeeded when any certificate
 * was accepted (the canary read behind it), blocked when every one was refused (each reason kept),
 * error otherwise. `premise` (targets) is stated in the reason.
 */
export function galleryVerdict(results: GalleryCertResult[], evidence: Verdict['evidence'], premise?: string): Verdict {
  const accepted = results.filter((r) => r.outcome === 'succeeded');
  const refused = results.filter((r) => r.outcome === 'blocked');
  const lines = results.map((r) => ({ kind: `gallery-${r.entry}`, detail: `${r.entry} (${r.defect}): ${r.outcome === 'succeeded' ? 'ACCEPTED' : r.outcome}: ${r.reason}` }));
  const pre = premise ? `premise: ${premise}. ` : '';
  const data = { gallery: results };
  if (accepted.length) {
    return {
      outcome: 'succeeded',
      reason: `${pre}the client accepted ${accepted.length} of ${results.length} defective certificates (${accepted.map((r) => r.entry).join(', ')}) and the attacker read the canary behind them`,
      summary: `accepted ${accepted.length}/${results.length}: ${accepted.map((r) => r.entry).join(', ')}`.slice(0, 40),
      impact: ['confidentiality', 'integrity'],
      evidence: [...lines, ...evidence],
      negotiated: null,
      data,
    };
  }
  if (refused.length === results.length) {
    return { outcome: 'blocked', reason: `${pre}the client refused all ${results.length} defective certificates, each for its defect: ${refused.map((r) => `${r.entry}: ${r.reason.replace(/^.*?refused[^:]*:\s*/, '')}`).join('; ')}`, summary: `refused all ${results.length}`, impact: [], evidence: [...lines, ...evidence], negotiated: null, data };
  }
  // None accepted and not all refused: at least one run ended without a verdict.
  const bad = results.filter((r) => r.outcome === 'error' || r.outcome === 'not-applicable');
  return { outcome: 'error', reason: `${pre}no verdict for ${bad.map((r) => r.entry).join(', ')}: ${bad[0].reason}`, summary: `no verdict for ${bad.length}`, impact: [], evidence: [...lines, ...evidence], negotiated: null, data };
}
