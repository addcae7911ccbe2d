// `npm test`: builds herald, starts one `herald dev` for the whole run, runs
// the suite with Node's test runner against it, then stops herald with
// SIGINT (which also stops its managed PostgreSQL).
//
// Arguments are passed to `node --test`; when none names a file, every
// file of test/ runs. Examples:
//   npm test
//   npm test -- --test-name-pattern=presence
//   npm test -- test/presence.test.mjs
// HERALD_E2E_BIN=/path/to/herald skips the build and runs that binary.
//
// Herald's log (debug level) is scanned after the run for every secret the
// run knew (the demo app's, the admin token, the master key, each key the
// tests made, registered in HERALD_E2E_SECRETS_FILE) and for credential
// shapes such as JWTs: a finding fails the run, as in the Go suites.
//
// External target: with HERALD_E2E_URL set, the harness starts nothing and
// runs the files marked `e2e-target: any` (harness/targets.mjs) against
// that Herald; see externalTarget and README.md.

import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { TOKEN_EXPIRY_NOTICE_S, buildGo, removeClusterDir, scanLog, startHerald } from './herald.mjs';
import { allTestFiles, classify } from './targets.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const suiteDir = path.resolve(here, '..');
const repoRoot = path.resolve(suiteDir, '../../..');

/** Bounds each test; a hung test fails instead of stalling CI. */
const TEST_TIMEOUT_MS = 30_000;
/** How many lines of herald's stderr to show when something failed. */
const LOG_TAIL_LINES = 60;
/** Bound on the external target's /readyz answer before the run. */
const READY_TIMEOUT_MS = 5_000;

async function main() {
  const started = Date.now();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'herald-js-e2e-'));
  let status = 1;
  let tests;
  // Set by the target: stops what it started; resolves to false when that
  // fails the run (herald's exit or its log scan).
  let cleanup = async () => true;
  let cleaned;
  const finish = (st) => {
    cleaned ??= cleanup(st).finally(() => rm(tmp, { recursive: true, force: true }));
    return cleaned;
  };
  const onSignal = (sig) => {
    process.stderr.write(`\nherald-e2e: ${sig}, stopping the tests and what the harness started\n`);
    tests?.kill(sig);
    finish(1).finally(() => process.exit(128 + os.constants.signals[sig]));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const args = process.argv.slice(2);
    const named = args.filter((a) => !a.startsWith('-'));
    const options = args.filter((a) => a.startsWith('-'));
    const files = await classify(suiteDir, named.length ? named : await allTestFiles(suiteDir));
    const target = process.env.HERALD_E2E_URL ? externalTarget : devTarget;
    status = await target({
      tmp, files, named: named.length > 0, options, started,
      spawned: (child) => { tests = child; },
      onCleanup: (fn) => { cleanup = fn; },
    });
  } catch (err) {
    process.stderr.write(`herald-e2e: ${err.stack || err}\n`);
    status = 1;
  } finally {
    if (!(await finish(status))) {
      status ||= 1;
    }
  }
  process.stderr.write(`herald-e2e: finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.exit(status);
}

/**
 * The default: builds and starts `herald dev`, runs every file given,
 * stops herald and scans its log.
 * @returns {Promise<number>} the exit status
 */
async function devTarget({ tmp, files, options, started, spawned, onCleanup }) {
  const dataDir = path.join(tmp, 'data');
  const logPath = path.join(tmp, 'herald.log');
  const secretsPath = path.join(tmp, 'secrets');
  let scanner;
  let herald;
  onCleanup(async (status) => {
    let ok = true;
    if (herald) {
      const code = await herald.stop();
      if (code !== 0) {
        process.stderr.write(`herald-e2e: herald exited with ${code} after SIGINT\n`);
        ok = false;
      }
      if (scanner && !(await scanLog(scanner, secretsPath, logPath))) {
        process.stderr.write('herald-e2e: herald\'s log failed the secret scan (findings above)\n');
        ok = false;
      }
    }
    if (status !== 0 || !ok) {
      await printLogTail(logPath);
    }
    await removeClusterDir(dataDir);
    return ok;
  });
  let bin = process.env.HERALD_E2E_BIN;
  if (!bin) {
    bin = await buildGo(repoRoot, './cmd/herald', path.join(tmp, 'herald'));
    process.stderr.write(`herald-e2e: built herald in ${Date.now() - started} ms\n`);
  }
  scanner = await buildGo(repoRoot, './internal/e2e/scanlogs', path.join(tmp, 'scanlogs'));
  const startedServer = Date.now();
  herald = await startHerald({ bin, dataDir, logPath });
  await registerSecrets(secretsPath, dataDir);
  // The banner holds the demo secret and the admin token: it stays in tmp.
  const bannerPath = path.join(tmp, 'banner.txt');
  await writeFile(bannerPath, herald.banner, { mode: 0o600 });
  process.stderr.write(`herald-e2e: herald ready at ${herald.url} after ${Date.now() - startedServer} ms\n`);
  const child = spawnTests(files.map((f) => f.file), options, {
    HERALD_E2E_TARGET: 'dev',
    HERALD_E2E_URL: herald.url,
    HERALD_E2E_DATA_DIR: herald.dataDir,
    HERALD_E2E_TOKEN_EXPIRY_NOTICE_S: String(TOKEN_EXPIRY_NOTICE_S),
    HERALD_E2E_SECRETS_FILE: secretsPath,
    HERALD_E2E_BANNER_FILE: bannerPath,
  });
  spawned(child);
  herald.done.then(({ code, signal }) => {
    if (child.exitCode === null) {
      process.stderr.write(`herald-e2e: herald exited during the tests (exit ${code ?? signal})\n`);
    }
  });
  return exitStatus(child);
}

/**
 * Against a Herald the harness did not start, given by
 *   HERALD_E2E_URL                    its one URL (a balancer's, say)
 *   HERALD_E2E_ADMIN_TOKEN            an admin API token (tests create
 *                                     their apps and plans with it)
 *   HERALD_E2E_TOKEN_EXPIRY_NOTICE_S  its gateways' --token-expiry-notice
 *                                     in seconds (a few: the token refresh
 *                                     test waits it out)
 *   HERALD_E2E_SECRETS_FILE           optional: where the tests append
 *                                     the app secrets they make, for the
 *                                     caller's scan of that Herald's logs
 * It runs only the files marked `e2e-target: any`; the others are named,
 * with why, on one line. There is no log here to scan: that is the
 * caller's, with the secrets file.
 * @returns {Promise<number>} the exit status
 */
async function externalTarget({ tmp, files, named, options, spawned }) {
  const url = process.env.HERALD_E2E_URL;
  for (const name of ['HERALD_E2E_ADMIN_TOKEN', 'HERALD_E2E_TOKEN_EXPIRY_NOTICE_S']) {
    if (!process.env[name]) {
      throw new Error(`HERALD_E2E_URL is set (an external Herald), so ${name} must be too (README.md)`);
    }
  }
  const devOnly = files.filter((f) => !f.any);
  if (named && devOnly.length) {
    throw new Error(`needs the herald dev the harness starts, not ${url}: ${devOnly.map((f) => `${f.file} (${f.why})`).join('; ')}`);
  }
  const runs = files.filter((f) => f.any);
  if (devOnly.length) {
    process.stderr.write(`herald-e2e: skipped by design on an external Herald (e2e-target: dev): ${devOnly.map((f) => `${path.basename(f.file)} — ${f.why}`).join('; ')}\n`);
  }
  await untilReady(url);
  const secretsPath = process.env.HERALD_E2E_SECRETS_FILE || path.join(tmp, 'secrets');
  process.stderr.write(`herald-e2e: external Herald at ${url}: ${runs.length} files; no herald started, no log scanned here\n`);
  const child = spawnTests(runs.map((f) => f.file), options, {
    HERALD_E2E_TARGET: 'external',
    HERALD_E2E_SECRETS_FILE: secretsPath,
  });
  spawned(child);
  return exitStatus(child);
}

/** Fails unless url's /readyz answers 200 within READY_TIMEOUT_MS. */
async function untilReady(url) {
  let res;
  try {
    res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(READY_TIMEOUT_MS) });
  } catch (err) {
    throw new Error(`no Herald answers at HERALD_E2E_URL=${url}: ${err.cause?.message ?? err.message}`);
  }
  if (res.status !== 200) {
    throw new Error(`${url}/readyz answered ${res.status}: ${await res.text()}`);
  }
}

/** The demo app's secret, as `herald dev` seeds it. */
const DEMO_SECRET = 'app-secret';

/**
 * Registers what herald itself knows as secret: the demo app's secret and
 * the admin token and master key `herald dev` keeps in its data folder.
 */
async function registerSecrets(secretsPath, dataDir) {
  const own = await Promise.all(['admin.token', 'master.key'].map((f) => readFile(path.join(dataDir, f), 'utf8')));
  await appendFile(secretsPath, [DEMO_SECRET, ...own.map((s) => s.trim())].join('\n') + '\n');
}

/** Runs `node --test` on files with options and env added to ours. */
function spawnTests(files, options, env) {
  const testArgs = [
    '--test',
    '--test-reporter=spec',
    `--test-timeout=${TEST_TIMEOUT_MS}`,
    // Every file runs in its own process, one at a time: the machine is
    // small and herald's own work is part of what each test waits for.
    '--test-concurrency=1',
    ...options,
    ...files,
  ];
  return spawn(process.execPath, testArgs, {
    cwd: suiteDir,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
}

function exitStatus(child) {
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function printLogTail(logPath) {
  let text = '';
  try {
    text = await readFile(logPath, 'utf8');
  } catch {
    return;
  }
  const lines = text.trimEnd().split('\n').slice(-LOG_TAIL_LINES);
  if (lines.length && lines[0] !== '') {
    process.stderr.write(`herald-e2e: last lines of herald's log:\n${lines.join('\n')}\n`);
  }
}

await main();
