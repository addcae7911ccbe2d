// The console's build check: type-checks the sources, rebuilds into a
// temporary folder and fails, naming the files, when the result differs
// from the committed ../dist (someone changed a source without running
// `npm run build`, or the other way round); then fails when the first
// load (index.html, app.js, app.css) is over its gzipped budget.

import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { build } from './build.mjs';

const webRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const distDir = path.resolve(webRoot, '../dist');
/** The first load's budget, gzipped (issue 18: under 150 KB). */
const FIRST_LOAD_BUDGET = 150 * 1000;
const FIRST_LOAD = ['index.html', 'app.js', 'app.css'];

let failed = false;

const tsc = spawnSync(process.execPath, [path.join(webRoot, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', webRoot], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('type check failed');
  failed = true;
}

const tmp = await mkdtemp(path.join(os.tmpdir(), 'herald-console-'));
try {
  await build(tmp);
  const fresh = (await readdir(tmp)).sort();
  const committed = (await readdir(distDir).catch(() => [])).sort();
  const differ = [];
  for (const f of new Set([...fresh, ...committed])) {
    if (!fresh.includes(f)) differ.push(`${f} (committed, not built)`);
    else if (!committed.includes(f)) differ.push(`${f} (built, not committed)`);
    else if (!(await readFile(path.join(tmp, f))).equals(await readFile(path.join(distDir, f)))) differ.push(f);
  }
  if (differ.length > 0) {
    console.error(`controlplane/console/dist differs from a fresh build (run npm run build in controlplane/console/web and commit):\n  ${differ.join('\n  ')}`);
    failed = true;
  } else {
    console.log('dist matches a fresh build');
  }
  let total = 0;
  for (const f of FIRST_LOAD) {
    const gz = gzipSync(await readFile(path.join(tmp, f)), { level: 9 }).length;
    total += gz;
    console.log(`  ${f.padEnd(12)} ${(gz / 1000).toFixed(1)} kB gzipped`);
  }
  console.log(`first load: ${(total / 1000).toFixed(1)} kB gzipped (budget ${FIRST_LOAD_BUDGET / 1000} kB)`);
  if (total > FIRST_LOAD_BUDGET) {
    console.error('first load over budget');
    failed = true;
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
