/**
 * The mutation-testing list (test/mutation/targets.ts) stays true to the tree: every listed file
 * and related test exists (a moved file must move here too, or it silently leaves mutation
 * testing), targets are the issue's, and the score is Stryker's formula. The runs themselves are
 * `npm run mutate` (minutes per file, not part of the suite: docs/testing.md).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MOVED_TARGETS, MUTATION_TARGETS, findTarget } from './mutation/targets.ts';
import { MUTATION_REPORT_DIR, scoreOf } from './mutation/run.ts';
import config from '../vitest.config.ts';

describe('mutation targets', () => {
  it.each(MUTATION_TARGETS.map((t) => [t.file, t] as const))('%s and its related tests exist', (_file, t) => {
    expect(existsSync(t.file), t.file).toBe(true);
    expect(t.tests.length).toBeGreaterThan(0);
    for (const test of t.tests) expect(existsSync(test), test).toBe(true);
    expect(t.targetPercent).toBeGreaterThanOrEqual(85);
  });

  it('asks 90 % of the evidence readers and the certificate checks', () => {
    expect(findTarget('attacks/kit/evidence.ts')?.targetPercent).toBe(90);
    expect(findTarget('./core/tls/certificate-verification.ts')?.targetPercent).toBe(90);
    expect(findTarget('core\\usernames.ts')?.file).toBe('core/usernames.ts');
    expect(findTarget('core/nothing.ts')).toBeUndefined();
  });

  it("follows the paths the issue named to where their code lives now, and every move ends at a listed file", () => {
    expect(findTarget('attacks/evidence.ts')?.file).toBe('attacks/kit/evidence.ts');
    expect(findTarget('./core/tls-options.ts')?.targetPercent).toBe(90);
    for (const [from, to] of Object.entries(MOVED_TARGETS)) {
      expect(findTarget(from)?.file, from).toBe(to);
    }
  });

  it('lists each file once', () => {
    const files = MUTATION_TARGETS.map((t) => t.file);
    expect(new Set(files).size).toBe(files.length);
  });

  it("keeps Stryker's sandboxes (full copies of the tests) out of the suite", () => {
    expect(config.test?.exclude).toContain(`${MUTATION_REPORT_DIR}/**`);
  });
});

describe('scoreOf (Stryker mutation score)', () => {
  it('is detected over valid mutants; ignored and error mutants do not count', () => {
    const s = (status: string, n: number) => Array.from({ length: n }, () => ({ status }));
    const score = scoreOf([...s('Killed', 80), ...s('Timeout', 5), ...s('Survived', 10), ...s('NoCoverage', 5), ...s('Ignored', 7), ...s('CompileError', 2), ...s('RuntimeError', 1)]);
    expect(score).toEqual({ killed: 80, timeout: 5, survived: 10, noCoverage: 5, ignored: 7, errors: 3, percent: 85 });
    expect(scoreOf(s('Ignored', 3)).percent).toBeNaN();
  });
});
