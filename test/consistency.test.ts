/**
 * The matrix consistency checker (attacks/consistency.ts): synthetic rows with and without
 * contradictions, and the property over generated profiles — a bounded sample here (real runs
 * over loopback); bench/consistency-sample.ts runs 200.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki } from './helpers/lab-env.ts';
import { CONSISTENCY_ATTACKS, checkMatrix, checkRow } from '../attacks/consistency.ts';
import { runMatrix } from '../attacks/matrix.ts';
import { getAttack } from '../attacks/registry.ts';
import { profileArbitrary } from '../attacks/kit/profile-arbitrary.ts';
import type { PkiMaterial } from '../core/pki.ts';
import type { CellResult } from '../reports/results.ts';

const cell = (attack: string, outcome: CellResult['outcome'], reason: string, evidence: CellResult['evidence'] = []): CellResult => ({
  schemaVersion: 1,
  profile: 'p',
  attack,
  outcome,
  impact: [],
  reason,
  summary: '',
  canary: 'canary-x',
  evidence,
  negotiated: null,
  durationMs: 1,
});
const mitmRead = cell('mitm-wrong-host', 'succeeded', 'read', [
  { kind: 'canary-recovered', detail: 'canary read' },
  { kind: 'proxy-tls', detail: 'connection 1: attacker terminated TLS — victim hop TLSv1.3 TLS_AES_256_GCM_SHA384, server hop TLSv1.3 X' },
]);

describe('checkRow', () => {
  it('flags a "blocked by the TLS record MAC" in a row where an active MITM terminated TLS', () => {
    const w = checkRow([mitmRead, cell('tamper', 'blocked', 'the attacker flipped one bit; the TLS record MAC check failed (X)')]);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ profile: 'p', attacks: ['tamper', 'mitm-wrong-host'] });
    expect(w[0].message).toMatch(/tamper is "blocked" by TLS, but mitm-wrong-host shows the attacker terminating TLS/);
  });
  it('flags a "blocked by the secure channel" in a row whose position took the channel over', () => {
    const chain = { kind: 'position', detail: 'on the path → took over the secure channel by swapping the key shares' };
    const w = checkRow([cell('replay', 'succeeded', 'x', [chain]), cell('tamper', 'blocked', 'the secure channel refused it (bad_record_mac)', [chain])]);
    expect(w.map((x) => x.attacks)).toEqual([['tamper', 'replay']]);
  });
  it('flags cells that disagree on the position', () => {
    const w = checkRow([cell('replay', 'blocked', 'x', [{ kind: 'position', detail: 'A' }]), cell('tamper', 'blocked', 'y', [{ kind: 'position', detail: 'B' }])]);
    expect(w[0].message).toMatch(/disagree on the attacker's position: "A" vs "B"/);
  });
  it('finds nothing in a row that agrees with itself; premise and passive cells do not count as getting through', () => {
    const rogue = { ...mitmRead, attack: 'mitm-rogue-ca' };
    const passive = { ...mitmRead, attack: 'mitm-passive', evidence: [{ kind: 'canary-recovered', detail: 'x' }] };
    expect(checkRow([rogue, passive, cell('tamper', 'blocked', 'the TLS record MAC check failed')])).toEqual([]);
    expect(checkRow([])).toEqual([]);
    expect(checkMatrix([mitmRead, cell('tamper', 'succeeded', 'ok')])).toEqual([]);
  });
});

let pki: PkiMaterial;
let cleanup: () => void;
beforeAll(async () => {
  ({ pki, cleanup } = await makeTestPki());
});
afterAll(() => cleanup());

describe('no contradiction in the matrix of generated profiles (bounded sample; 200 in bench/consistency-sample.ts)', () => {
  it('holds for a few random valid profiles run for real', async () => {
    const profiles = fc.sample(profileArbitrary, { numRuns: 3, seed: Number(process.env.CONSISTENCY_SEED ?? 9) });
    const results = await runMatrix({ profiles, attacks: CONSISTENCY_ATTACKS.map(getAttack), pki, concurrency: 4 });
    expect(results.warnings, JSON.stringify(results.warnings, null, 1)).toEqual([]);
    expect(results.cells).toHaveLength(profiles.length * CONSISTENCY_ATTACKS.length);
  }, 120_000);
});
