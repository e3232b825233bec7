/**
 * Preset descriptions never claim an outcome their row contradicts. Each preset's description is
 * parsed with the explicit claim vocabulary of test/helpers/description-claims.ts (an outcome word
 * outside every known claim fails the test: the claim would go unchecked), then the cells those
 * claims name — the whole row when a claim is about every attack — are run for real over loopback
 * (the demo matrix's cells, runAttack as `matrix` runs them) and every claim is checked against
 * what they measured. A run in error is run again, at most twice: an error proves nothing, and a
 * loaded machine makes a few.
 */
import { describe, expect, it } from 'vitest';
import { ATTACKS, getAttack } from '../attacks/registry.ts';
import { runAttack } from '../attacks/scenario.ts';
import { listPresets, loadProfile } from '../core/profile.ts';
import { RESULT_SCHEMA_VERSION, type CellResult, type MatrixResults, type Outcome } from '../reports/results.ts';
import { attacksNeeded, contradictions, parseClaims } from './helpers/description-claims.ts';
import { useTestPki } from './helpers/lab-env.ts';

/** Cells run at once, and the extra tries a run in error gets. */
const CONCURRENCY = 6;
const RETRIES = 2;

const attackInfo = () => ATTACKS.map((a) => ({ id: a.id, title: a.title, description: a.description, ...(a.premise ? { premise: a.premise } : {}) }));
const cell = (profile: string, attack: string, outcome: Outcome, extra: Partial<CellResult> = {}): CellResult => ({
  schemaVersion: RESULT_SCHEMA_VERSION, profile, attack, outcome, impact: outcome === 'succeeded' ? ['confidentiality', 'integrity'] : [], reason: `measured ${outcome}`, summary: outcome, canary: 'c', evidence: [], negotiated: null, durationMs: 1, ...extra,
});

describe('the claim vocabulary (pure)', () => {
  it('parses each claim, and flags an outcome word outside every claim', () => {
    expect(parseClaims('Correct TLS — lab CA chain plus hostname check; falls only to a root the victim was made to trust.')).toMatchObject({ claims: [{ text: 'falls only to a root the victim was made to trust' }], unparsed: [] });
    expect(parseClaims('TLS 1.2, but forward secret; yet nothing is forward secret').claims.map((c) => c.text)).toEqual(['nothing is forward secret', 'forward secret']);
    expect(parseClaims('A plain description of settings, with a secure channel.')).toEqual({ claims: [], unparsed: [] });
    for (const d of ['All attacks are blocked.', 'The client accepts AES-CBC.', 'Immune to replay.', 'Nothing can read it, it is safe.']) {
      expect(parseClaims(d).unparsed.length, d).toBeGreaterThan(0);
    }
  });

  it('a description saying "every attack is blocked" is contradicted by a row where a premise attack succeeded', () => {
    // main's legacy-tls10 description said so, and mitm-rogue-ca succeeded against it.
    const p = parseClaims('A legacy deployment that still allows TLS 1.0 and RSA key exchange, yet every attack is blocked here — its clients do not fall back');
    expect(p.unparsed).toEqual([]);
    const row: Pick<MatrixResults, 'attacks' | 'cells'> = { attacks: attackInfo(), cells: ATTACKS.map((a) => cell('legacy', a.id, a.id === 'mitm-rogue-ca' ? 'succeeded' : 'blocked')) };
    expect(contradictions('legacy', p, row)).toEqual([expect.stringContaining('"every attack is blocked" claims the row holds, but its verdict is: holds against every attack except those that assume the victim trusts a rogue root CA (mitm-rogue-ca)')]);
    const reworded = parseClaims('yet every attack without a premise is blocked here');
    expect(contradictions('legacy', reworded, row)).toEqual([]);
  });

  it('a run in error, a missing cell, a wrong impact and contradicting evidence all contradict a claim', () => {
    const p = parseClaims('anyone on the path reads and rewrites every message; stealing the database hands over every password');
    const rows = (tamper: CellResult | null, crack: CellResult): Pick<MatrixResults, 'attacks' | 'cells'> => ({ attacks: attackInfo(), cells: [cell('x', 'mitm-passive', 'succeeded'), ...(tamper ? [tamper] : []), crack] });
    const crackAll = cell('x', 'password-crack', 'succeeded', { evidence: [{ kind: 'recovered', detail: 'alice' }] });
    expect(contradictions('x', p, rows(cell('x', 'tamper', 'succeeded', { impact: ['integrity'] }), crackAll))).toEqual([]);
    expect(contradictions('x', p, rows(cell('x', 'tamper', 'error'), crackAll))[0]).toContain('claims tamper succeeded, but it was error');
    expect(contradictions('x', p, rows(null, crackAll))[0]).toContain('needs tamper, which did not run');
    expect(contradictions('x', p, rows(cell('x', 'tamper', 'succeeded', { impact: ['availability'] }), crackAll))[0]).toContain('claims tamper broke integrity');
    const crackSome = cell('x', 'password-crack', 'succeeded', { evidence: [{ kind: 'not-recovered', detail: 'bob' }] });
    expect(contradictions('x', p, rows(cell('x', 'tamper', 'succeeded', { impact: ['integrity'] }), crackSome))[0]).toContain('contradicts password-crack\'s evidence "not-recovered"');
  });
});

describe('preset descriptions against their measured rows', () => {
  const env = useTestPki('secchat-claims-');

  it('every preset description is made only of parsed claims', () => {
    const unparsed = listPresets().flatMap((n) => parseClaims(loadProfile(n).description).unparsed.map((u) => `${n}: ${u}`));
    expect(unparsed).toEqual([]);
  });

  it('no preset description claims an outcome its row contradicts', async () => {
    const presets = listPresets().map((n) => ({ profile: loadProfile(n), parsed: parseClaims(loadProfile(n).description) }));
    const jobs = presets.flatMap(({ profile, parsed }) => {
      const need = attacksNeeded(parsed);
      return (need === 'all' ? ATTACKS.map((a) => a.id) : need).map((id) => ({ profile, attack: getAttack(id) }));
    });
    expect(jobs.length).toBeGreaterThan(listPresets().length); // every preset makes at least one claim, some several
    const cells: CellResult[] = new Array(jobs.length);
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const i = next++;
        const { profile, attack } = jobs[i];
        let c = await runAttack(attack, profile, env.pki);
        for (let t = 0; t < RETRIES && c.outcome === 'error'; t++) c = await runAttack(attack, profile, env.pki);
        cells[i] = c;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const results = { attacks: attackInfo(), cells };
    const found = presets.flatMap(({ profile, parsed }) => contradictions(profile.name, parsed, results));
    expect(found).toEqual([]);
  }, 600_000);
});
