/**
 * downgrade-fallback climbs the positions ladder before its own reset technique (end to end over
 * loopback): an attacker who can strip STARTTLS or terminate TLS with a certificate the client
 * accepts chooses the version himself, so the verdict must not be "blocked — only a denial of
 * service" there. A verifying client keeps the old behaviour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, profileOf } from './helpers/lab-env.ts';
import { getAttack } from '../attacks/registry.ts';
import { runAttack } from '../attacks/scenario.ts';
import type { PkiMaterial } from '../core/pki.ts';
import type { CellResult } from '../reports/results.ts';

let pki: PkiMaterial;
let cleanup: () => void;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
});
afterAll(() => cleanup());

const run = (partial: Record<string, unknown>): Promise<CellResult> => runAttack(getAttack('downgrade-fallback'), profileOf({ name: 'fallback-ladder', ...partial }), pki);
const detail = (r: CellResult, kind: string) => r.evidence.find((e) => e.kind === kind)?.detail ?? '';

describe('downgrade-fallback from the attacker\'s position', () => {
  it('a client that verifies nothing (tls-no-verify-like): TLS terminated with the self-signed certificate, hop capped at TLSv1.2 → alice ran TLSv1.2', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' }, client: { verify: 'none' } });
    expect(r.outcome, r.reason).toBe('succeeded');
    expect(r.reason).toMatch(/terminated TLS with the self-signed certificate .*capped its own hop at TLSv1\.2: alice's session ran on TLSv1\.2 .*below the profile's maximum TLSv1\.3/);
    expect(r.negotiated?.protocol).toBe('TLSv1.2');
    expect(detail(r, 'downgraded-to')).toMatch(/alice's client negotiated TLSv1\.2/);
    expect(detail(r, 'accepted-certificate')).toMatch(/self-signed certificate/);
  });
  it('a client that skips only the hostname check: the wrong-host certificate, hop capped → alice ran TLSv1.2', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' }, client: { verify: 'ca', checkHostname: false } });
    expect(r.outcome, r.reason).toBe('succeeded');
    expect(detail(r, 'accepted-certificate')).toMatch(/wrong-host certificate/);
    expect(r.negotiated?.protocol).toBe('TLSv1.2');
  });
  it('a verifying client (tls-verified-like): no termination, the reset technique decides and it is not a success', async () => {
    const r = await run({ transport: 'tls', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' }, client: { verify: 'ca', checkHostname: true } });
    expect(r.outcome, r.reason).not.toBe('succeeded');
    expect(r.reason).not.toMatch(/terminated TLS|capped its own hop/);
    expect(detail(r, 'accepted-certificate')).toBe('');
  });
  it('opportunistic STARTTLS: the offer is stripped and alice\'s session runs with no TLS at all', async () => {
    const r = await run({ transport: 'starttls', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' } });
    expect(r.outcome, r.reason).toBe('succeeded');
    expect(r.reason).toMatch(/stripped the STARTTLS offer .*no TLS at all/);
    expect(r.negotiated).toBeNull();
    expect(detail(r, 'downgraded-to')).toMatch(/no TLS at all \(negotiated: none\) although the profile's transport is starttls/);
  });
});
