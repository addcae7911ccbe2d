// Builds and runs the real herald binary for the JavaScript end-to-end
// suite: the same `herald dev` a user starts, on a temporary data folder and
// a free port.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** How long `go build` may take (a cold build on a 2-core machine). */
export const BUILD_TIMEOUT_MS = 5 * 60_000;
/** How long herald may take to print its listening line (initdb included). */
export const START_TIMEOUT_MS = 90_000;
/** How long herald may take to exit after SIGINT (it stops PostgreSQL too). */
export const STOP_TIMEOUT_MS = 60_000;

/**
 * How long before a token's exp herald warns its connection: short, so the
 * refresh test needs only a few-second token (the default is 60 s).
 */
export const TOKEN_EXPIRY_NOTICE_S = 2;

const LISTENING = /^herald: listening on (http:\/\/\S+)$/;

/**
 * Compiles the Go command pkg (e.g. ./cmd/herald) of the repository at
 * repoRoot into outPath.
 * @param {string} repoRoot
 * @param {string} pkg
 * @param {string} outPath
 * @returns {Promise<string>} outPath
 */
export async function buildGo(repoRoot, pkg, outPath) {
  const go = process.env.GO || 'go';
  const child = spawn(go, ['build', '-o', outPath, pkg], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: BUILD_TIMEOUT_MS,
  });
  const { code, signal } = await exited(child);
  if (code !== 0) {
    throw new Error(`go build ${pkg} failed (exit ${code ?? signal})`);
  }
  return outPath;
}

/**
 * Runs the log scanner built from ./internal/e2e/scanlogs over herald's log
 * with the secrets registered in secretsPath; its report goes to stderr.
 * @param {string} scanner
 * @param {string} secretsPath
 * @param {string} logPath
 * @returns {Promise<boolean>} whether the log is clean (and not empty)
 */
export async function scanLog(scanner, secretsPath, logPath) {
  const child = spawn(scanner, ['-secrets', secretsPath, logPath], { stdio: ['ignore', 'inherit', 'inherit'] });
  const { code } = await exited(child);
  return code === 0;
}

/**
 * A running `herald dev`.
 * @typedef {object} Herald
 * @property {string} url the base URL, http://HOST:PORT
 * @property {string} dataDir its data folder (admin.token lives there)
 * @property {string} logPath where its stderr goes
 * @property {string} banner what it printed before its listening line
 * @property {() => Promise<number|null>} stop SIGINT, then wait for exit; resolves to the exit code
 * @property {Promise<{code: number|null, signal: string|null}>} done resolves when the process exits
 */

/**
 * Starts `bin dev` on dataDir and a free loopback port and waits for its
 * listening line. Its stderr, the structured log at debug level (every
 * request, every refusal), goes to logPath, which the harness scans for
 * secrets after the run.
 * @param {{bin: string, dataDir: string, logPath: string, extraArgs?: string[]}} opts
 * @returns {Promise<Herald>}
 */
export async function startHerald({ bin, dataDir, logPath, extraArgs = [] }) {
  const log = createWriteStream(logPath);
  const child = spawn(bin, [
    'dev', '--data-dir', dataDir, '--addr', '127.0.0.1:0',
    '--token-expiry-notice', `${TOKEN_EXPIRY_NOTICE_S}s`,
    ...extraArgs,
  ], {
    env: { ...process.env, HERALD_LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.pipe(log);
  const done = exited(child);

  const bannerLines = [];
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`herald did not print its listening line within ${START_TIMEOUT_MS} ms (see ${logPath})`));
    }, START_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const m = LISTENING.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      } else {
        bannerLines.push(line);
      }
    });
    done.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`herald exited before serving (exit ${code ?? signal}; see ${logPath})`));
    });
  }).catch(async (err) => {
    child.kill('SIGKILL');
    await done;
    throw err;
  });
  // Keep draining stdout so that herald never blocks on a full pipe.
  child.stdout.resume();

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const { code } = await done;
      clearTimeout(timer);
      log.end();
      return code;
    })();
    return stopping;
  };
  return { url, dataDir, logPath, banner: bannerLines.join('\n'), stop, done };
}

/**
 * Removes the managed PostgreSQL folder of a data folder once herald has
 * stopped. It mirrors pgcluster.DirFor: as root the cluster lives in
 * /var/tmp/herald-pg-<first 12 hex digits of sha256(absolute data folder)>,
 * otherwise inside the data folder (removed with it).
 * @param {string} dataDir
 */
export async function removeClusterDir(dataDir) {
  if (typeof process.geteuid !== 'function' || process.geteuid() !== 0) {
    return;
  }
  const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12);
  const dir = path.join('/var/tmp', `herald-pg-${hash}`);
  if (existsSync(dir)) {
    await rm(dir, { recursive: true, force: true });
  }
}

function exited(child) {
  return new Promise((resolve) => {
    child.on('error', () => resolve({ code: null, signal: 'spawn error' }));
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}
