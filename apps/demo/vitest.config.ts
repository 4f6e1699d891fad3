import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The CLI tests spawn the built CLI (several runs per test) and the fuzz test runs hundreds of
    // cases; on a shared 2-core machine, beside the other workspaces' tests, 5 s is not enough.
    testTimeout: 30_000,
  },
});
