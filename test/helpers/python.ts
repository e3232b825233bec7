/**
 * Whether python3 runs here, for the tests that start the student-app fixtures
 * (test/fixtures/targets/). CI installs it (.ci/run), so there a missing python3 fails the run
 * instead of skipping it; a laptop without it skips loudly.
 */
import { spawnSync } from 'node:child_process';
import { describe } from 'vitest';

/** python3 answered `--version`. */
export const HAVE_PYTHON = spawnSync('python3', ['--version']).status === 0;

/** `describe` when python3 runs here or under CI, else `describe.skip`. */
export const describeWithPython = HAVE_PYTHON || process.env.CI ? describe : describe.skip;
