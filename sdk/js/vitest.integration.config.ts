import { defineConfig } from 'vitest/config';

// One `herald dev` for the whole run (built from this repository), started
// by the global setup; files run one at a time, as the machine is small.
export default defineConfig({
  test: {
    include: ['client/test/integration/**/*.test.ts'],
    globalSetup: ['client/test/integration/setup.ts'],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
