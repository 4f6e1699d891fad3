import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // The browser test builds nothing itself (turbo builds dist/ first) but starts chromium: give it time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
