/**
 * The consistency property at full size (issue 9 §4): N random valid profiles (default 200; fast-check,
 * attacks/kit/profile-arbitrary.ts) run through the ladder attacks and the active MITMs for real over
 * loopback, then attacks/consistency.ts checks every row. Too slow for the test suite (which runs a
 * bounded sample, test/consistency.test.ts); run it by hand:
 *
 *     npx tsx bench/consistency-sample.ts [count] [seed]
 *
 * Exits 1 when any row contradicts itself, printing the contradictions.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONSISTENCY_ATTACKS } from '../attacks/consistency.ts';
import { runMatrix } from '../attacks/matrix.ts';
import { getAttack } from '../attacks/registry.ts';
import { profileArbitrary } from '../attacks/kit/profile-arbitrary.ts';
import { initPki, loadPki } from '../core/pki.ts';

const count = Number(process.argv[2] ?? 200);
const seed = Number(process.argv[3] ?? 1);
const dir = mkdtempSync(path.join(os.tmpdir(), 'secchat-consistency-'));
try {
  await initPki({ dir });
  const pki = loadPki(dir);
  // Distinct names: the checker groups cells by profile name.
  const profiles = fc.sample(profileArbitrary, { numRuns: count, seed }).map((p, i) => ({ ...p, name: `gen-${i}` }));
  const started = performance.now();
  const r = await runMatrix({ profiles, attacks: CONSISTENCY_ATTACKS.map(getAttack), pki, onCell: (_c, done, total) => done % 100 === 0 && process.stderr.write(`${done}/${total}\n`) });
  const errors = r.cells.filter((c) => c.outcome === 'error');
  process.stdout.write(`${profiles.length} profiles × ${CONSISTENCY_ATTACKS.length} attacks in ${((performance.now() - started) / 1000).toFixed(0)} s: ${r.warnings?.length ?? 0} contradiction(s), ${errors.length} error cell(s)\n`);
  for (const w of r.warnings ?? []) process.stdout.write(`- ${w.profile} (${w.attacks.join(', ')}): ${w.message}\n  ${JSON.stringify(profiles.find((p) => p.name === w.profile))}\n`);
  process.exitCode = r.warnings?.length ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
