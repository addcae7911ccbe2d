// Starts what the chat needs: a `herald dev` built from this repository
// (on a temporary data folder and a free port, as the SDK's integration
// tests do) and the chat's backend serving the built app. Used by
// `make chat` (scripts/run.mjs) and the browser test.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildGo, removeClusterDir, startHerald } from '../../../internal/e2e/js/harness/herald.mjs';
import { createBackend } from '../server/backend.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const chatRoot = path.resolve(here, '..');
const repoRoot = path.resolve(chatRoot, '../..');

/** The demo app `herald dev` seeds. */
export const DEMO_APP = { appId: 'app-id', key: 'app-key', secret: 'app-secret' };

/**
 * @param {{ port?: number, host?: string }} opts the backend's address (default a free loopback port)
 * @returns {Promise<{ url: string, heraldUrl: string, stop: () => Promise<void> }>}
 */
export async function startStack({ port = 0, host = '127.0.0.1' } = {}) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'herald-chat-'));
  const dataDir = path.join(tmp, 'data');
  let herald;
  let backend;
  const stop = async () => {
    if (backend) await new Promise((r) => backend.close(r));
    if (herald) await herald.stop();
    await removeClusterDir(dataDir);
    await rm(tmp, { recursive: true, force: true });
  };
  try {
    const bin = process.env.HERALD_E2E_BIN || (await buildGo(repoRoot, './cmd/herald', path.join(tmp, 'herald')));
    herald = await startHerald({ bin, dataDir, logPath: path.join(tmp, 'herald.log') });
    backend = createBackend({ app: DEMO_APP, heraldUrl: herald.url, staticDir: path.join(chatRoot, 'dist') });
    // Keep-alive sockets of the browser must not hold close() up.
    backend.keepAliveTimeout = 1;
    await new Promise((r) => backend.listen(port, host, r));
    const addr = backend.address();
    return { url: `http://${host}:${addr.port}`, heraldUrl: herald.url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
