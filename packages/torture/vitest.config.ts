import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Torture runs and shrinks real simulations; CI runs the suite on 2 shared cores.
    testTimeout: 60_000,
  },
});
