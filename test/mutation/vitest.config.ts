/**
 * The vitest configuration Stryker's runner loads inside its sandbox: the suite's own settings,
 * with `include` narrowed to the target's related tests (SECCHAT_MUTATE_TESTS, comma-separated,
 * set by test/mutation/run.ts; Stryker's test-runner processes inherit the environment).
 */
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.ts';

const tests = (process.env.SECCHAT_MUTATE_TESTS ?? '').split(',').filter(Boolean);
if (tests.length === 0) throw new Error('test/mutation/vitest.config.ts: SECCHAT_MUTATE_TESTS is empty; run through `npm run mutate`');

// Replaced, not merged: vite's mergeConfig would append to the base `include`.
export default defineConfig({ ...base, test: { ...base.test, include: tests } });
