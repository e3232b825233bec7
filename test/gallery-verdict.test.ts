/**
 * The certificate gallery's fold (attacks/kit/gallery-verdict.ts) over crafted per-certificate
 * results: any accepted certificate makes the cell succeed, all refused blocks it (each refusal's
 * own words kept), anything else is an error naming the runs without a verdict.
 */
import { describe, expect, it } from 'vitest';
import { galleryVerdict, type GalleryCertResult } from '../attacks/kit/gallery-verdict.ts';

const res = (entry: string, outcome: GalleryCertResult['outcome'], reason: string): GalleryCertResult => ({ entry: entry as GalleryCertResult['entry'], defect: `${entry} defect`, outcome, reason });
const extra = [{ kind: 'note', detail: 'from the caller' }];

describe('galleryVerdict', () => {
  it('succeeds when any certificate was accepted, naming those accepted, with a line per certificate', () => {
    const results = [res('expired', 'blocked', "alice's client refused the connection: certificate has expired"), res('sha1', 'succeeded', 'the attacker read the canary'), res('rsa-1024', 'succeeded', 'read again'), res('cn-only', 'error', 'boom')];
    const v = galleryVerdict(results, extra);
    expect(v).toEqual({
      outcome: 'succeeded',
      reason: 'the client accepted 2 of 4 defective certificates (sha1, rsa-1024) and the attacker read the canary behind them',
      summary: 'accepted 2/4: sha1, rsa-1024',
      impact: ['confidentiality', 'integrity'],
      evidence: [
        { kind: 'gallery-expired', detail: "expired (expired defect): blocked: alice's client refused the connection: certificate has expired" },
        { kind: 'gallery-sha1', detail: 'sha1 (sha1 defect): ACCEPTED: the attacker read the canary' },
        { kind: 'gallery-rsa-1024', detail: 'rsa-1024 (rsa-1024 defect): ACCEPTED: read again' },
        { kind: 'gallery-cn-only', detail: 'cn-only (cn-only defect): error: boom' },
        ...extra,
      ],
      negotiated: null,
      data: { gallery: results },
    });
  });
  it('keeps the table summary within 40 characters', () => {
    const results = ['missing-intermediate', 'not-yet-valid', 'wildcard-mismatch'].map((e) => res(e, 'succeeded', 'read'));
    const v = galleryVerdict(results, []);
    expect(v.summary).toBe('accepted 3/3: missing-intermediate, not-yet-valid, wildcard-mismatch'.slice(0, 40));
    expect(v.summary).toHaveLength(40);
  });
  it('blocks when every certificate was refused, keeping each refusal\'s words after its "refused …:" prefix', () => {
    const results = [
      res('expired', 'blocked', "alice's client refused the connection: the certificate was refused: expired"),
      res('not-yet-valid', 'blocked', "bob's client refused it:certificate is not yet valid: notBefore tomorrow"),
      res('sha1', 'blocked', 'refused:   weak signature'),
      res('cn-only', 'blocked', 'no SAN: hostname mismatch'),
      res('rsa-1024', 'blocked', 'first line\nthe client refused the connection: key too small'),
    ];
    const v = galleryVerdict(results, extra);
    expect(v.outcome).toBe('blocked');
    expect(v.reason).toBe(
      'the client refused all 5 defective certificates, each for its defect: expired: the certificate was refused: expired; not-yet-valid: certificate is not yet valid: notBefore tomorrow; sha1: weak signature; cn-only: no SAN: hostname mismatch; rsa-1024: first line\nthe client refused the connection: key too small',
    );
    expect(v.summary).toBe('refused all 5');
    expect(v.impact).toEqual([]);
    expect(v.negotiated).toBeNull();
    expect(v.evidence.map((e) => e.kind)).toEqual(['gallery-expired', 'gallery-not-yet-valid', 'gallery-sha1', 'gallery-cn-only', 'gallery-rsa-1024', 'note']);
    expect(v.evidence[0].detail).toBe("expired (expired defect): blocked: alice's client refused the connection: the certificate was refused: expired");
    expect(v.data).toEqual({ gallery: results });
  });
  it('is an error when nothing was accepted and some runs gave no verdict, naming them and the first one\'s reason', () => {
    const results = [res('expired', 'blocked', 'refused: expired'), res('sha1', 'not-applicable', 'no TLS on this profile'), res('cn-only', 'error', 'server crashed')];
    const v = galleryVerdict(results, extra);
    expect(v).toEqual({
      outcome: 'error',
      reason: 'no verdict for sha1, cn-only: no TLS on this profile',
      summary: 'no verdict for 2',
      impact: [],
      evidence: [
        { kind: 'gallery-expired', detail: 'expired (expired defect): blocked: refused: expired' },
        { kind: 'gallery-sha1', detail: 'sha1 (sha1 defect): not-applicable: no TLS on this profile' },
        { kind: 'gallery-cn-only', detail: 'cn-only (cn-only defect): error: server crashed' },
        ...extra,
      ],
      negotiated: null,
      data: { gallery: results },
    });
    expect(galleryVerdict([res('cn-only', 'error', 'timeout'), res('sha1', 'blocked', 'refused: x')], []).reason).toBe('no verdict for cn-only: timeout');
  });
  it('states a premise first in every outcome', () => {
    const premise = 'the student client trusts the lab CA';
    expect(galleryVerdict([res('sha1', 'succeeded', 'read')], [], premise).reason).toBe(`premise: ${premise}. the client accepted 1 of 1 defective certificates (sha1) and the attacker read the canary behind them`);
    expect(galleryVerdict([res('sha1', 'blocked', 'refused: weak')], [], premise).reason).toBe(`premise: ${premise}. the client refused all 1 defective certificates, each for its defect: sha1: weak`);
    expect(galleryVerdict([res('sha1', 'error', 'x')], [], premise).reason).toBe(`premise: ${premise}. no verdict for sha1: x`);
  });
});
