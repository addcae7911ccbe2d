// Prints the minified + gzipped size of @herald/client as an app bundles
// it (everything but the optional encrypted-channel plug-in), and fails
// above the budget the SDK promises.

import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

/** The size budget of @herald/client, minified and gzipped. */
const BUDGET_BYTES = 12 * 1024;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = await build({
  entryPoints: [path.join(root, 'client/dist/index.js')],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'neutral',
  write: false,
});
const min = out.outputFiles[0].contents;
const gz = gzipSync(min, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`@herald/client: ${kb(min.length)} minified, ${kb(gz)} minified + gzipped (budget ${kb(BUDGET_BYTES)})`);
if (gz > BUDGET_BYTES) {
  console.error('@herald/client is over its size budget');
  process.exit(1);
}
