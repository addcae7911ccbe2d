import { defineConfig } from 'vite';

// @herald/react and @herald/client come from this repository's sdk/js
// (file: dependencies); dedupe makes their imports of React and React
// Query use this app's single copy. JSX needs no plugin: Vite compiles
// it, and this app does not use Fast Refresh.
export default defineConfig({
  resolve: {
    dedupe: ['react', 'react-dom', '@tanstack/react-query', '@herald/client'],
  },
  oxc: {
    jsx: { runtime: 'automatic' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rollupOptions: {
      // React Query marks its modules "use client" for server components;
      // meaningless in a client bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
});
