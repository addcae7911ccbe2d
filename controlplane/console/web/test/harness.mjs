// The console's browser-test harness, shared by every test file under
// test/: builds and starts a `herald dev` (fresh data folder, free port,
// short metering flush) as the JavaScript end-to-end suite and the chat
// example do, drives Debian's Chromium with playwright-core (no browser
// download; CHROMIUM overrides the path), signs pages in with the dev
// admin token, calls the admin API directly to set tests up, and saves
// screenshots under test-results/ (gitignored).
//
// Typical use:
//   const h = await startConsole();          // in before()
//   const page = await h.signedInPage();     // a page on #/apps, signed in
//   await h.screenshot(page, 'apps');
//   await h.stop();                          // in after()

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import PusherServer from 'pusher';
import Pusher from 'pusher-js';

import { buildGo, removeClusterDir, startHerald } from '../../../../internal/e2e/js/harness/herald.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
/** controlplane/console/web */
export const webRoot = path.resolve(here, '..');
/** The repository's root. */
export const repoRoot = path.resolve(webRoot, '../../..');
/** Where screenshots go. */
export const RESULTS = path.join(webRoot, 'test-results');

/** Debian's chromium package; CHROMIUM overrides. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Bound on each wait for the page. */
export const WAIT_MS = 10_000;
/** No sandbox (CI runs as root in a container), no GPU, nothing phoning home. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/**
 * How often herald flushes usage counts: short, so that the usage API
 * shows traffic within about a second (the default is much longer).
 */
export const METER_FLUSH = '500ms';
/** The viewport of every page unless a test asks for another. */
export const VIEWPORT = { width: 1360, height: 860 };

/** The demo app `herald dev` seeds. */
export const DEMO_APP = { appId: 'app-id', key: 'app-key', secret: 'app-secret' };

/**
 * A running herald with a browser.
 * @typedef {object} ConsoleHarness
 * @property {string} url herald's base URL
 * @property {string} consoleURL the console's URL (url + /console/)
 * @property {string} adminToken the dev admin token
 * @property {string} banner what `herald dev` printed before its listening line
 * @property {import('playwright-core').Browser} browser
 * @property {(opts?: {viewport?: {width: number, height: number}}) => Promise<import('playwright-core').Page>} page a new page (own context) on the sign-in screen
 * @property {(route?: string, opts?: {viewport?: {width: number, height: number}}) => Promise<import('playwright-core').Page>} signedInPage a new page signed in, on #/<route> (default apps)
 * @property {(method: string, path: string, body?: unknown) => Promise<any>} admin calls the admin API (path below /admin/v1) with the admin token; throws on an error answer
 * @property {(page: import('playwright-core').Page, name: string) => Promise<string>} screenshot saves test-results/<name>.png; returns the path
 * @property {(page: import('playwright-core').Page) => Promise<void>} assertNoCSPViolations fails when the page broke its Content-Security-Policy
 * @property {(app?: {appId: string, key: string, secret: string}) => PusherServer} rest a `pusher` server SDK client for app (default the demo app)
 * @property {(app?: {appId: string, key: string, secret: string}) => Pusher} client a new pusher-js client for app, connecting (disconnect it when done)
 * @property {() => Promise<void>} stop closes the browser, stops herald, removes the data folder
 */

/**
 * Builds (unless HERALD_E2E_BIN names a binary) and starts herald, and
 * launches Chromium.
 * @param {{ extraArgs?: string[] }} [opts] more `herald dev` flags
 * @returns {Promise<ConsoleHarness>}
 */
export async function startConsole({ extraArgs = [] } = {}) {
  assert.ok(existsSync(path.join(webRoot, '../dist/index.html')), 'build the console first: npm run build');
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  await mkdir(RESULTS, { recursive: true });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'herald-console-'));
  const dataDir = path.join(tmp, 'data');
  let herald;
  let browser;
  const contexts = new Set();
  const stop = async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    if (herald) await herald.stop();
    await removeClusterDir(dataDir);
    await rm(tmp, { recursive: true, force: true });
  };
  try {
    const bin = process.env.HERALD_E2E_BIN || (await buildGo(repoRoot, './cmd/herald', path.join(tmp, 'herald')));
    herald = await startHerald({ bin, dataDir, logPath: path.join(tmp, 'herald.log'), extraArgs: ['--meter-flush-interval', METER_FLUSH, ...extraArgs] });
    const adminToken = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const consoleURL = `${herald.url}/console/`;

    const page = async ({ viewport = VIEWPORT } = {}) => {
      const context = await browser.newContext({ viewport });
      contexts.add(context);
      // Record what the Content-Security-Policy blocks: the console must
      // need nothing it forbids.
      await context.addInitScript(() => {
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => {
          window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
        });
      });
      const p = await context.newPage();
      p.setDefaultTimeout(WAIT_MS);
      p.on('pageerror', (err) => console.error('page error:', err.message));
      // A violation of the Content-Security-Policy is a bug: report it.
      p.on('console', (msg) => {
        // (A refused request, which tests provoke, is logged as well: skip it.)
        if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) console.error('console error:', msg.text());
      });
      await p.goto(consoleURL);
      await p.getByTestId('token').waitFor();
      return p;
    };

    const signedInPage = async (route = 'apps', opts = {}) => {
      const p = await page(opts);
      await p.getByTestId('token').fill(adminToken);
      await p.getByTestId('sign-in').click();
      await p.getByTestId('sign-out').waitFor();
      if (route) {
        await p.evaluate((r) => {
          location.hash = `#/${r}`;
        }, route);
      }
      return p;
    };

    const admin = async (method, apiPath, body) => {
      const res = await fetch(`${herald.url}/admin/v1${apiPath}`, {
        method,
        headers: { Authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${apiPath}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };

    const screenshot = async (p, name) => {
      const file = path.join(RESULTS, `${name}.png`);
      await p.screenshot({ path: file, fullPage: true });
      return file;
    };

    const assertNoCSPViolations = async (p) => {
      assert.deepEqual(await p.evaluate(() => window.__cspViolations), [], 'the page broke its Content-Security-Policy');
    };

    const { hostname, port } = new URL(herald.url);
    const rest = (app = DEMO_APP) => new PusherServer({ appId: app.appId, key: app.key, secret: app.secret, host: hostname, port, useTLS: false });
    // pusher-js in Node insists on a cluster even when wsHost is given.
    const client = (app = DEMO_APP) =>
      new Pusher(app.key, { cluster: 'herald', wsHost: hostname, wsPort: Number(port), forceTLS: false, enabledTransports: ['ws'], disableStats: true });

    return { url: herald.url, consoleURL, adminToken, banner: herald.banner, browser, page, signedInPage, admin, screenshot, assertNoCSPViolations, rest, client, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Waits until fn() resolves to a truthy value, polling; the last error or
 * value is in the failure message. For conditions outside the page (the
 * API); inside the page use locators and waitForFunction.
 * @template T
 * @param {() => Promise<T>} fn
 * @param {{ timeout?: number, interval?: number, what?: string }} [opts]
 * @returns {Promise<T>}
 */
export async function waitUntil(fn, { timeout = WAIT_MS, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * Sends count events through the REST API (the `pusher` SDK) to a channel
 * a pusher-js client subscribes to, and waits until it got them all: real
 * traffic for the usage meters (published, delivered, a connection, bytes).
 * The subscriber stays connected until holdUntil() resolves truthy (its
 * value is returned): the peak of connections is sampled at each meter
 * flush, so a test waits there for the usage API to count it.
 * @template T
 * @param {ConsoleHarness} h
 * @param {{ app?: {appId: string, key: string, secret: string}, channel?: string, count?: number, holdUntil?: () => Promise<T> }} [opts]
 * @returns {Promise<T | undefined>}
 */
export async function sendTraffic(h, { app = DEMO_APP, channel = 'console-traffic', count = 5, holdUntil } = {}) {
  const sub = h.client(app);
  try {
    const ch = sub.subscribe(channel);
    await new Promise((resolve, reject) => {
      ch.bind('pusher:subscription_succeeded', resolve);
      ch.bind('pusher:subscription_error', reject);
    });
    let got = 0;
    const all = new Promise((resolve) => {
      ch.bind('tick', () => {
        if (++got === count) resolve();
      });
    });
    const rest = h.rest(app);
    for (let i = 0; i < count; i++) await rest.trigger(channel, 'tick', { i, text: 'usage traffic' });
    await withTimeout(all, WAIT_MS, `${count} events on ${channel}`);
    return holdUntil ? await waitUntil(holdUntil, { what: 'the traffic to be counted' }) : undefined;
  } finally {
    sub.disconnect();
  }
}

function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

/**
 * Presses Tab (Shift+Tab with back) until the focused element matches
 * selector; fails after max presses. Reads the focus, never clicks.
 * @param {import('playwright-core').Page} page
 * @param {string} selector
 * @param {{ max?: number, back?: boolean }} [opts]
 */
export async function tabTo(page, selector, { max = 60, back = false } = {}) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  const at = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  throw new Error(`${max} presses of Tab did not reach ${selector}; focus is on ${at}`);
}

/** The id the hash route names after prefix, e.g. routeId(page, 'apps'). */
export async function routeId(page, prefix) {
  const hash = await page.evaluate(() => location.hash);
  const m = new RegExp(`^#/${prefix}/([^/]+)`).exec(hash);
  assert.ok(m, `the route ${hash} is not under ${prefix}`);
  return decodeURIComponent(m[1]);
}
