import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

// Unit tests run against the sources: @herald/testing's import of
// @herald/client resolves to client/src as well, so both share one copy
// and no build is needed first.
export default defineConfig({
  resolve: {
    alias: {
      '@herald/client': fileURLToPath(new URL('./client/src/index.ts', import.meta.url)),
      '@herald/testing': fileURLToPath(new URL('./testing/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['client/test/unit/**/*.test.ts', 'testing/test/**/*.test.ts', 'test/**/*.test.ts'],
  },
});
