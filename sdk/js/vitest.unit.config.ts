import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

// Unit tests run against the sources: @herald/testing's and
// @herald/react's imports of @herald/client resolve to client/src as
// well, so all share one copy and no build is needed first. The React
// hooks' tests run here on React 19 and again on React 18
// (vitest.react18.config.ts).
export default defineConfig({
  resolve: {
    alias: {
      '@herald/client': fileURLToPath(new URL('./client/src/index.ts', import.meta.url)),
      '@herald/testing/msw': fileURLToPath(new URL('./testing/src/msw.ts', import.meta.url)),
      '@herald/testing': fileURLToPath(new URL('./testing/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['client/test/unit/**/*.test.ts', 'testing/test/**/*.test.ts', 'react/test/**/*.test.{ts,tsx}', 'test/**/*.test.ts'],
  },
});
