// Builds the workspace in the current directory: its src/ entry points
// bundled by esbuild into dist/*.js (ESM, one file each plus shared chunks, peer and
// workspace packages left as imports), then tsc writes the .d.ts files.

import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

/** The oldest runtimes the output must run on (browsers and Node 20). */
const TARGET = ['es2022'];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entries = ['src/index.ts', 'src/encrypted.ts', 'src/msw.ts'].filter((f) => existsSync(f));

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  // Entry points of one package share their common code through chunks,
  // so that a class (HeraldScript) is one class whichever entry loads it.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'neutral',
  target: TARGET,
  sourcemap: true,
  external: ['tweetnacl', '@herald/client', 'react', 'react-dom', '@tanstack/react-query', 'msw'],
  logLevel: 'warning',
});
const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
  stdio: 'inherit',
});
if (tsc.status !== 0) {
  process.exit(tsc.status ?? 1);
}
