import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['client/test/unit/**/*.test.ts', 'testing/test/**/*.test.ts'],
  },
});
