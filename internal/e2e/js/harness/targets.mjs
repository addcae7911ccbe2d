// Which test files run against which Herald. Every file under test/ says
// so in one comment line of its own:
//
//   // e2e-target: any                 valid against any Herald: herald dev
//                                      or an external one (a balancer in
//                                      front of a cluster)
//   // e2e-target: dev — <why>         needs what only the `herald dev` the
//                                      harness starts has (its banner, its
//                                      demo app, its data folder)
//
// A file without exactly one such line fails the run, so that none is left
// out of the external runs without a reason.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const MARKER = /^\/\/ e2e-target: (.*)$/gm;
const ANY = /^any$/;
const DEV = /^dev — (\S.*)$/;

/**
 * A test file and the target it needs.
 * @typedef {{file: string, any: boolean, why?: string}} TestFile
 */

/**
 * Reads the marker of each file (paths relative to suiteDir).
 * @param {string} suiteDir
 * @param {string[]} files
 * @returns {Promise<TestFile[]>}
 */
export async function classify(suiteDir, files) {
  return Promise.all(files.map(async (file) => {
    const text = await readFile(path.resolve(suiteDir, file), 'utf8');
    const found = [...text.matchAll(MARKER)].map((m) => m[1].trim());
    if (found.length !== 1) {
      throw new Error(`${file} must have one "// e2e-target: any" or "// e2e-target: dev — <why>" line, has ${found.length}`);
    }
    if (ANY.test(found[0])) {
      return { file, any: true };
    }
    const dev = DEV.exec(found[0]);
    if (!dev) {
      throw new Error(`${file}: unknown "e2e-target: ${found[0]}" (any, or dev — <why>)`);
    }
    return { file, any: false, why: dev[1] };
  }));
}

/**
 * Every test file of the suite, as test/<name>.test.mjs.
 * @param {string} suiteDir
 */
export async function allTestFiles(suiteDir) {
  const names = await readdir(path.join(suiteDir, 'test'));
  return names.filter((n) => n.endsWith('.test.mjs')).sort().map((n) => `test/${n}`);
}
