// Vitest global setup of the integration suite: builds herald from this
// repository (HERALD_E2E_BIN skips the build) and starts one `herald dev`
// on a temporary data folder and 127.0.0.1:0, with the JS end-to-end
// suite's harness (internal/e2e/js/harness/herald.mjs). Teardown stops it
// with SIGINT (which stops its managed PostgreSQL) and removes the data
// and cluster folders, as `make suite`'s litter check requires.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { TestProject } from 'vitest/node';

import { buildGo, removeClusterDir, startHerald } from '../../../../../internal/e2e/js/harness/herald.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');

declare module 'vitest' {
  export interface ProvidedContext {
    heraldUrl: string;
    heraldDataDir: string;
    heraldBin: string;
    tmpDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'herald-sdk-js-'));
  const dataDir = path.join(tmp, 'data');
  let herald: Awaited<ReturnType<typeof startHerald>> | undefined;
  const teardown = async () => {
    if (herald) await herald.stop();
    await removeClusterDir(dataDir);
    await rm(tmp, { recursive: true, force: true });
  };
  try {
    const bin = process.env.HERALD_E2E_BIN || (await buildGo(repoRoot, './cmd/herald', path.join(tmp, 'herald')));
    herald = await startHerald({ bin, dataDir, logPath: path.join(tmp, 'herald.log') });
    project.provide('heraldUrl', herald.url);
    project.provide('heraldDataDir', dataDir);
    project.provide('heraldBin', bin);
    project.provide('tmpDir', tmp);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
