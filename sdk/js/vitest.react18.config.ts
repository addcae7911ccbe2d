import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

// @herald/react's tests again on React 18: react, react-dom, Testing
// Library and React Query come from react/test/react18 (its own
// package.json, installed by `npm run test:react18`'s pretest step), so
// they and the hooks share that one React 18.
const react18 = (pkg: string) => fileURLToPath(new URL(`./react/test/react18/node_modules/${pkg}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: '@herald/client', replacement: fileURLToPath(new URL('./client/src/index.ts', import.meta.url)) },
      { find: '@herald/testing/msw', replacement: fileURLToPath(new URL('./testing/src/msw.ts', import.meta.url)) },
      { find: /^@herald\/testing$/, replacement: fileURLToPath(new URL('./testing/src/index.ts', import.meta.url)) },
      { find: /^react-dom(\/.*)?$/, replacement: `${react18('react-dom')}$1` },
      { find: /^react(\/.*)?$/, replacement: `${react18('react')}$1` },
      { find: /^@testing-library\/react$/, replacement: react18('@testing-library/react') },
      { find: /^@tanstack\/react-query$/, replacement: react18('@tanstack/react-query') },
    ],
  },
  test: {
    include: ['react/test/**/*.test.{ts,tsx}'],
  },
});
