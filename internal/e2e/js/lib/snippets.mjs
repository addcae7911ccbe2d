// Running code as a user pastes it: the blocks of docs/clients.md and the
// banner's pusher-js statement, each as its own Node process with the
// suite's packages, pointed at the Herald under test.

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { WAIT_MS } from './clients.mjs';
import { HOST, PORT } from './herald.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The suite's folder: snippets resolve their imports from its node_modules. */
const suiteDir = path.resolve(here, '..');
/** docs/clients.md, the page whose blocks are tested. */
export const CLIENTS_DOC = path.resolve(suiteDir, '../../../docs/clients.md');

/** The address every snippet is written with: `herald dev`'s default. */
export const DOC_HOST = '127.0.0.1';
export const DOC_PORT = 6001;

/** Pause between two occupancy queries while a snippet subscribes. */
const OCCUPANCY_POLL_MS = 50;

// A fenced block: ```lang test=name, the code, then ``` alone on a line.
const FENCE = /^```(\S*)(?:[ \t]+test=(\S+))?[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;

/**
 * Every fenced code block of a markdown page, with its language and the
 * name of the test that runs it (undefined when it has none).
 * @param {string} markdown
 * @returns {Array<{lang: string, name: string|undefined, code: string}>}
 */
export function fencedBlocks(markdown) {
  return [...markdown.matchAll(FENCE)].map(([, lang, name, code]) => ({ lang, name, code }));
}

/** The code blocks of docs/clients.md. */
export async function clientsDocBlocks() {
  return fencedBlocks(await readFile(CLIENTS_DOC, 'utf8'));
}

/**
 * code with the documented address replaced by the server under test's:
 * the host literal "127.0.0.1" and the port 6001, nothing else. Throws when
 * the code does not name the documented port, which would make the test
 * reach nothing of its own.
 * @param {string} code
 */
export function atServerUnderTest(code) {
  const port = new RegExp(`\\b${DOC_PORT}\\b`, 'g');
  if (!port.test(code)) {
    throw new Error(`the snippet does not use the documented port ${DOC_PORT}:\n${code}`);
  }
  return code.replaceAll(DOC_HOST, HOST).replace(port, String(PORT));
}

/**
 * A snippet running as an ES module in its own Node process.
 * @typedef {object} Running
 * @property {() => string} output its stdout and stderr so far
 * @property {(pattern: RegExp, what: string) => Promise<void>} waitForOutput
 * @property {Promise<{code: number|null, signal: string|null}>} exited
 */

/**
 * Runs code as an ES module (`node --input-type=module`) from the suite's
 * folder, so that `import "pusher-js"` finds the suite's packages. It is
 * killed when the test ends.
 * @param {import('node:test').TestContext} t
 * @param {string} code
 * @returns {Running}
 */
export function runModule(t, code) {
  const child = spawn(process.execPath, ['--input-type=module', '--eval', code], {
    cwd: suiteDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set();
  const onData = (chunk) => {
    out += chunk;
    for (const l of listeners) {
      l();
    }
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', () => resolve({ code: null, signal: 'spawn error' }));
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill();
    }
    await exited;
  });
  const waitForOutput = (pattern, what) => new Promise((resolve, reject) => {
    const check = () => {
      if (pattern.test(out)) {
        done();
        resolve();
      }
    };
    const done = () => {
      clearTimeout(timer);
      listeners.delete(check);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}; the snippet printed:\n${out}`));
    }, WAIT_MS);
    listeners.add(check);
    exited.then(({ code, signal }) => {
      if (listeners.has(check)) {
        done();
        reject(new Error(`the snippet exited (${code ?? signal}) before ${what}; it printed:\n${out}`));
      }
    });
    check();
  });
  return { output: () => out, waitForOutput, exited };
}

/**
 * Runs code to its end and fails with its output unless it exits 0 within
 * WAIT_MS.
 * @param {import('node:test').TestContext} t
 * @param {string} code
 */
export async function runToEnd(t, code) {
  const run = runModule(t, code);
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the snippet did not finish within ${WAIT_MS} ms; it printed:\n${run.output()}`)), WAIT_MS);
  });
  try {
    const { code: status, signal } = await Promise.race([run.exited, timeout]);
    if (status !== 0) {
      throw new Error(`the snippet exited with ${status ?? signal}; it printed:\n${run.output()}`);
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves once the channel's occupancy, as the HTTP API reports it, is
 * occupied: how a test knows that a snippet it cannot instrument has
 * subscribed (or, with false, that an earlier one has gone).
 * @param {import('pusher')} rest
 * @param {string} channel
 * @param {boolean} occupied
 */
export async function untilOccupied(rest, channel, occupied = true) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const res = await rest.get({ path: `/channels/${channel}` });
    if ((await res.json()).occupied === occupied) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`${channel} is still ${occupied ? 'empty' : 'occupied'} after ${WAIT_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, OCCUPANCY_POLL_MS));
  }
}
