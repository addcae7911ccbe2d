// `npm test`: builds herald, starts one `herald dev` for the whole run, runs
// the suite with Node's test runner against it, then stops herald with
// SIGINT (which also stops its managed PostgreSQL).
//
// Arguments are passed to `node --test`; when none names a file, the whole
// test/ folder runs. Examples:
//   npm test
//   npm test -- --test-name-pattern=presence
//   npm test -- test/presence.test.mjs
// HERALD_E2E_BIN=/path/to/herald skips the build and runs that binary.
//
// Herald's log (debug level) is scanned after the run for every secret the
// run knew (the demo app's, the admin token, the master key, each key the
// tests made, registered in HERALD_E2E_SECRETS_FILE) and for credential
// shapes such as JWTs: a finding fails the run, as in the Go suites.

import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { TOKEN_EXPIRY_NOTICE_S, buildGo, removeClusterDir, scanLog, startHerald } from './herald.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const suiteDir = path.resolve(here, '..');
const repoRoot = path.resolve(suiteDir, '../../..');

/** Bounds each test; a hung test fails instead of stalling CI. */
const TEST_TIMEOUT_MS = 30_000;
/** How many lines of herald's stderr to show when something failed. */
const LOG_TAIL_LINES = 60;

async function main() {
  const started = Date.now();
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'herald-js-e2e-'));
  const dataDir = path.join(tmp, 'data');
  const logPath = path.join(tmp, 'herald.log');
  const secretsPath = path.join(tmp, 'secrets');
  let scanner;
  let herald;
  let tests;
  let status = 1;
  let cleaned;
  const cleanup = () => {
    cleaned ??= (async () => {
      if (herald) {
        const code = await herald.stop();
        if (code !== 0) {
          process.stderr.write(`herald-e2e: herald exited with ${code} after SIGINT\n`);
          status ||= 1;
        }
        if (scanner && !(await scanLog(scanner, secretsPath, logPath))) {
          process.stderr.write('herald-e2e: herald\'s log failed the secret scan (findings above)\n');
          status ||= 1;
        }
      }
      if (status !== 0) {
        await printLogTail(logPath);
      }
      await removeClusterDir(dataDir);
      await rm(tmp, { recursive: true, force: true });
    })();
    return cleaned;
  };
  const onSignal = (sig) => {
    process.stderr.write(`\nherald-e2e: ${sig}, stopping the tests and herald\n`);
    tests?.kill(sig);
    cleanup().finally(() => process.exit(128 + os.constants.signals[sig]));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
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
    tests = spawnTests(herald, secretsPath, bannerPath);
    status = await testsExited(tests, herald);
  } catch (err) {
    process.stderr.write(`herald-e2e: ${err.stack || err}\n`);
  } finally {
    await cleanup();
  }
  process.stderr.write(`herald-e2e: finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.exit(status);
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

function spawnTests(herald, secretsPath, bannerPath) {
  const args = process.argv.slice(2);
  const namesFile = args.some((a) => !a.startsWith('-'));
  const testArgs = [
    '--test',
    '--test-reporter=spec',
    `--test-timeout=${TEST_TIMEOUT_MS}`,
    // Every file runs in its own process, one at a time: the machine is
    // small and herald's own work is part of what each test waits for.
    '--test-concurrency=1',
    ...args,
    ...(namesFile ? [] : ['test/']),
  ];
  return spawn(process.execPath, testArgs, {
    cwd: suiteDir,
    stdio: 'inherit',
    env: {
      ...process.env,
      HERALD_E2E_URL: herald.url,
      HERALD_E2E_DATA_DIR: herald.dataDir,
      HERALD_E2E_TOKEN_EXPIRY_NOTICE_S: String(TOKEN_EXPIRY_NOTICE_S),
      HERALD_E2E_SECRETS_FILE: secretsPath,
      HERALD_E2E_BANNER_FILE: bannerPath,
    },
  });
}

function testsExited(child, herald) {
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    herald.done.then(({ code, signal }) => {
      if (child.exitCode === null) {
        process.stderr.write(`herald-e2e: herald exited during the tests (exit ${code ?? signal})\n`);
      }
    });
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
