import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration files each start their own servers; two at a time fits the 2-core machines.
    maxWorkers: 2,
  },
});
