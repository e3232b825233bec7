/**
 * The verdict-critical files and what each must reach under mutation testing (StrykerJS), in one
 * place. `npm run mutate -- --file <path>` mutates one of them against its related tests;
 * `npm run mutate -- --all` runs them all in sequence. See docs/testing.md.
 *
 * Why these files: a bug in them turns into a wrong verdict (a false "blocked" is the worst bug
 * this project can have) or a certificate, MAC or replay check that lets the attacker through.
 * Why an explicit test list per file rather than vitest's "related" mode: nearly every end-to-end
 * test imports the server, so "related" runs the whole suite for a rate limiter; the list names
 * the tests that exercise the file's decisions, which keeps one file to minutes on 2 cores.
 * test/mutation-targets.test.ts checks that every path here exists, so a moved file fails the
 * suite instead of silently dropping out of mutation testing.
 */

/** One file under mutation testing. */
export interface MutationTarget {
  /** Source file, relative to the repository root (what `--file` takes). */
  file: string;
  /** Lowest acceptable mutation score in percent (killed + timeout over all non-ignored mutants). */
  targetPercent: number;
  /** Test files (relative to the root) that exercise the file; only these run against its mutants. */
  tests: string[];
  /** What the file decides, for the summary. */
  role: string;
}

/** Evidence readers and certificate checks: the issue asks ≥ 90 % of them. */
const STRICT = 90;
/** Every other verdict-critical file: ≥ 85 %. */
const STANDARD = 85;

/** The verdict-critical files, in the order `--all` runs them. */
export const MUTATION_TARGETS: readonly MutationTarget[] = [
  // Stable files this round; scores in docs/testing.md.
  { file: 'server/rate-limit.ts', targetPercent: STANDARD, tests: ['test/rate-limit.test.ts'], role: 'login throttling' },
  { file: 'core/usernames.ts', targetPercent: STANDARD, tests: ['test/usernames.test.ts'], role: 'username canonicalisation (one login per name)' },
  { file: 'core/channel/sealed-frames.ts', targetPercent: STANDARD, tests: ['test/channel-sealed-frames.test.ts'], role: 'secure-channel record protection and replay checks' },
  { file: 'core/auth-proof.ts', targetPercent: STANDARD, tests: ['test/auth-proof.test.ts'], role: 'challenge login proof and the client checks on a challenge' },
  { file: 'server/challenge-auth.ts', targetPercent: STANDARD, tests: ['test/auth-proof.test.ts'], role: 'single-use nonces and proof verification' },
  // Landed this round and not yet mutated: run `npm run mutate -- --file F` before calling their verdict code done.
  { file: 'core/tls/certificate-verification.ts', targetPercent: STRICT, tests: ['test/certificate-verification-tls.test.ts', 'test/certificate-checks.test.ts'], role: 'TLS and secure-channel certificate, pin and hostname verification' },
  { file: 'attacks/kit/position.ts', targetPercent: STANDARD, tests: ['test/evidence-wording.test.ts', 'test/position-ladder.test.ts'], role: 'the attacker-positions ladder every on-path attack climbs' },
  { file: 'attacks/consistency.ts', targetPercent: STANDARD, tests: ['test/consistency-rules.test.ts'], role: 'the matrix consistency checker' },
  { file: 'attacks/kit/evidence.ts', targetPercent: STRICT, tests: ['test/evidence-readers.test.ts'], role: 'evidence readers every verdict is built from' },
  { file: 'core/frames.ts', targetPercent: STANDARD, tests: ['test/frames.test.ts'], role: 'the chat frame parser' },
  { file: 'attacks/plugins/mitm.ts', targetPercent: STANDARD, tests: ['test/mitm-verdict.test.ts'], role: 'MITM verdicts' },
  { file: 'attacks/kit/gallery-verdict.ts', targetPercent: STANDARD, tests: ['test/gallery-verdict.test.ts'], role: 'certificate-gallery verdict (own client and targets)' },
  { file: 'attacks/kit/channel-takeover.ts', targetPercent: STANDARD, tests: ['test/channel-takeover.test.ts'], role: 'secure-channel MITM verdicts' },
  { file: 'attacks/kit/replay-verdict.ts', targetPercent: STANDARD, tests: ['test/replay-verdict.test.ts'], role: 'replay and replay-login verdicts from the observations (attacks/plugins/replay.ts runs the attacks)' },
  { file: 'attacks/kit/tamper-verdict.ts', targetPercent: STANDARD, tests: ['test/tamper-verdict.test.ts'], role: 'tamper verdict from the observations (the plugin above runs the attack)' },
  { file: 'attacks/kit/downgrade-verdict.ts', targetPercent: STANDARD, tests: ['test/downgrade-verdict.test.ts'], role: 'downgrade-fallback, downgrade-starttls and downgrade-cipher verdicts from the observations (attacks/plugins/downgrade.ts runs the attacks)' },
  { file: 'attacks/kit/password-crack-verdict.ts', targetPercent: STANDARD, tests: ['test/password-crack-verdict.test.ts'], role: 'password-crack verdict from the crack and the verifier logins (attacks/plugins/password-crack.ts steals and cracks)' },
  { file: 'attacks/kit/retro-decrypt-verdict.ts', targetPercent: STANDARD, tests: ['test/retro-decrypt-verdict.test.ts'], role: 'retro-decrypt evidence and the verdict joining the own-client and legacy-client runs (attacks/plugins/retro-decrypt.ts records and decrypts)' },
  { file: 'attacks/kit/downgrade-suite-verdict.ts', targetPercent: STANDARD, tests: ['test/downgrade-suite-verdict.test.ts'], role: 'TLS cipher-suite downgrade verdict, terminated and relayed paths (attacks/plugins/downgrade-suite.ts runs the attack)' },
  { file: 'attacks/retro/recording-verdict.ts', targetPercent: STANDARD, tests: ['test/retro-recording-verdict.test.ts'], role: 'retro-decrypt recording verdict (own chat and targets)' },
  { file: 'labs/check-judgement.ts', targetPercent: STANDARD, tests: ['test/lab-check-judgement.test.ts'], role: 'lab check judgement (labs/check.ts runs the attacks and the chat; test/labs.test.ts end to end)' },
];

/**
 * Paths the verdict-critical code had when issue 16 was written, and where that code lives now
 * (the house's restructuring, issue 13, and the verdicts taken out of the attack plugins): so
 * `npm run mutate -- --file attacks/evidence.ts`, as the issue says it, still mutates the evidence readers.
 */
export const MOVED_TARGETS: Readonly<Record<string, string>> = {
  'attacks/evidence.ts': 'attacks/kit/evidence.ts',
  'core/tls-options.ts': 'core/tls/certificate-verification.ts',
  'core/channel/record.ts': 'core/channel/sealed-frames.ts',
  'labs/check.ts': 'labs/check-judgement.ts',
  'attacks/plugins/replay.ts': 'attacks/kit/replay-verdict.ts',
  'attacks/plugins/tamper.ts': 'attacks/kit/tamper-verdict.ts',
  'attacks/plugins/downgrade.ts': 'attacks/kit/downgrade-verdict.ts',
  'attacks/plugins/password-crack.ts': 'attacks/kit/password-crack-verdict.ts',
  'attacks/plugins/retro-decrypt.ts': 'attacks/kit/retro-decrypt-verdict.ts',
  'attacks/plugins/downgrade-suite.ts': 'attacks/kit/downgrade-suite-verdict.ts',
};

/**
 * The target for a path as the user typed it (`./core/x.ts`, `core\x.ts` and `core/x.ts` agree;
 * a path in {@link MOVED_TARGETS} finds the file its code moved to).
 * @returns the target, or undefined when the file is not in the list
 */
export function findTarget(file: string): MutationTarget | undefined {
  const norm = file.replace(/\\/g, '/').replace(/^\.\//, '');
  const now = MOVED_TARGETS[norm] ?? norm;
  return MUTATION_TARGETS.find((t) => t.file === now);
}
