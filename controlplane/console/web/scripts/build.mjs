// Bundles the console into a folder (argument; ../dist by default):
// index.html, app.js and app.css. The output depends only on the sources
// and the locked dependencies, so `npm run check` can compare a fresh
// build with the committed one byte for byte.

import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {string} outDir the folder to write; its old files are removed
 */
export async function build(outDir) {
  await mkdir(outDir, { recursive: true });
  for (const f of await readdir(outDir)) {
    await rm(path.join(outDir, f), { recursive: true, force: true });
  }
  await esbuild.build({
    absWorkingDir: webRoot,
    entryPoints: { app: 'src/main.tsx' },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    charset: 'utf8',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  await copyFile(path.join(webRoot, 'index.html'), path.join(outDir, 'index.html'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = path.resolve(webRoot, process.argv[2] ?? '../dist');
  await build(out);
  console.log(`console built into ${path.relative(process.cwd(), out) || '.'}`);
}
