/**
 * `mitm-gallery` against a target: the proxy presents each certificate of the gallery
 * (core/pki-gallery.ts), made for the target's server name, to the student's client — one run per
 * certificate. The gallery chains to the lab CA, so its premise is that the client trusts that CA
 * (added to the CA file it loads through {ca}): then a refusal can only be for the defect itself.
 */
import { GALLERY_DEFECTS, GALLERY_ENTRIES, makeGalleryCertificate } from '../../core/pki-gallery.ts';
import { galleryVerdict, type GalleryCertResult } from '../kit/gallery-verdict.ts';
import { targetNames } from './attacker-certs.ts';
import { targetMitmVerdict } from './mitm-verdict.ts';
import type { TargetAttack } from './types.ts';
import { clientTrustExtendable } from '../../core/target.ts';

/** Gallery runs against a target at once (each starts the student's server and client). */
const GALLERY_RUNS_AT_ONCE = 3;

const PREMISE = "the client trusts the CA that issued the gallery (added to the CA file it loads), so each certificate is refused, if at all, for its one defect";

export const targetGallery: TargetAttack = {
  id: 'mitm-gallery',
  title: 'MITM, certificate gallery',
  description:
    "The attacker presents, one run each, nine certificates for the server's name that chain to a CA the client trusts but carry one defect each (expired, not yet valid, missing intermediate, a leaf used as issuer, CN without SAN, a wildcard that does not cover the name, RSA-1024, SHA-1, clientAuth-only EKU). Succeeds if the client accepts any; each refusal should name its defect.",
  async run(ctx) {
    const withPremise = clientTrustExtendable(ctx.target);
    const one = async (entry: (typeof GALLERY_ENTRIES)[number]): Promise<GalleryCertResult> => {
      const identity = makeGalleryCertificate(entry, ctx.pki, new Date(), targetNames(ctx.target));
      const obs = await ctx.run({ addon: { name: `mitm-gallery-${entry}`, onClientHello: () => ({ action: 'terminate', identity }) }, extraTrustPems: withPremise ? [ctx.pki.ca.certPem] : undefined, withObserver: false });
      const v = targetMitmVerdict(obs, true);
      return { entry, defect: GALLERY_DEFECTS[entry].defect, outcome: v.outcome, reason: v.reason };
    };
    // A few runs at a time: each is its own server, proxy and client, mostly waiting.
    const results: GalleryCertResult[] = [];
    for (let i = 0; i < GALLERY_ENTRIES.length; i += GALLERY_RUNS_AT_ONCE) results.push(...(await Promise.all(GALLERY_ENTRIES.slice(i, i + GALLERY_RUNS_AT_ONCE).map(one))));
    // A certificate whose run gave no verdict (a time limit missed on a loaded machine) is tried once more, alone.
    for (const [i, r] of results.entries()) {
      if (r.outcome !== 'error') continue;
      const again = await one(r.entry);
      results[i] = { ...again, reason: `(second run; the first gave no verdict) ${again.reason}` };
    }
    const v = galleryVerdict(results, [], withPremise ? PREMISE : undefined);
    if (!withPremise && v.outcome !== 'succeeded') {
      return { ...v, outcome: 'not-applicable', reason: `the premise (${PREMISE}) cannot be set up: client.command does not load its CA file through {ca}; without it every refusal is "unknown CA", which mitm-self-signed already tests`, summary: 'premise needs {ca} in client.command' };
    }
    return v;
  },
};
