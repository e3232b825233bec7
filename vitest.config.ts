import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Stryker's sandboxes (npm run mutate) are full copies of the repository, tests included.
    exclude: [...configDefaults.exclude, 'reports/mutation/**', '**/.stryker-tmp/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests open real loopback sockets; two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
