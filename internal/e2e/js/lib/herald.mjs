// Where the Herald under test is, the app most tests use, and the admin API.
//
// Two targets (HERALD_E2E_TARGET, set by harness/run.mjs):
//   dev       the `herald dev` the harness started: its seeded demo app,
//             its admin token in its data folder;
//   external  a Herald the harness did not start (HERALD_E2E_URL, e.g. a
//             load balancer in front of gateways and control planes): the
//             admin token comes from HERALD_E2E_ADMIN_TOKEN, and each test
//             process creates its own app through the admin API.

import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';

/** Whether the suite runs against a Herald the harness did not start. */
export const EXTERNAL = process.env.HERALD_E2E_TARGET === 'external';
/** The base URL of the Herald under test (set by harness/run.mjs). */
export const HERALD_URL = requiredEnv('HERALD_E2E_URL');
/** Seconds before a token's exp that herald sends token_expiring. */
export const TOKEN_EXPIRY_NOTICE_S = Number(requiredEnv('HERALD_E2E_TOKEN_EXPIRY_NOTICE_S'));
/** Where tests register secrets they make; herald's log must hold none. */
export const SECRETS_FILE = requiredEnv('HERALD_E2E_SECRETS_FILE');

const parsed = new URL(HERALD_URL);
/** Host and port of HERALD_URL. */
export const HOST = parsed.hostname;
export const PORT = Number(parsed.port);

/**
 * An app's credentials, as a tenant's backend knows them.
 * @typedef {{appId: string, key: string, secret: string}} App
 */

/** The demo app `herald dev` seeds. @type {App} */
const DEMO_APP = Object.freeze({ appId: 'app-id', key: 'app-key', secret: 'app-secret' });
/** The demo app's settings (client events on), which APP has on any target. */
export const DEMO_APP_SETTINGS = Object.freeze({ client_events: true });

/** Bound on one admin API request. */
const ADMIN_TIMEOUT_MS = 10_000;

function requiredEnv(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run the suite with \`npm test\` (harness/run.mjs; see README.md for an external Herald)`);
  }
  return v;
}

let tokenPromise;
function adminToken() {
  tokenPromise ??= EXTERNAL
    ? Promise.resolve(requiredEnv('HERALD_E2E_ADMIN_TOKEN'))
    : readFile(path.join(requiredEnv('HERALD_E2E_DATA_DIR'), 'admin.token'), 'utf8').then((s) => s.trim());
  return tokenPromise;
}

/**
 * Calls the admin API and returns the decoded JSON answer; a non-2xx
 * status throws with the error body.
 * @param {string} method
 * @param {string} route path under /admin/v1
 * @param {unknown} [body]
 */
export async function admin(method, route, body) {
  const res = await fetch(`${HERALD_URL}/admin/v1${route}`, {
    method,
    headers: {
      authorization: `Bearer ${await adminToken()}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`admin ${method} ${route}: ${res.status} ${text}`);
  }
  return text ? JSON.parse(text) : null;
}

/**
 * Creates an account, an app with the given settings and a key through the
 * admin API. Gateways learn of it a moment later: lib/apps.mjs's createApp
 * also waits for that.
 * @param {Record<string, unknown>} settings e.g. {activity_timeout_s: 1}
 * @param {{planId?: string}} [options] the plan the app's account is put on
 * @returns {Promise<App>}
 */
export async function newApp(settings, { planId } = {}) {
  const account = await admin('POST', '/accounts', { name: 'js-e2e' });
  if (planId !== undefined) {
    await admin('PATCH', `/accounts/${account.id}`, { plan_id: planId });
  }
  const app = await admin('POST', '/apps', { account_id: account.id, name: 'js-e2e', settings });
  const key = await admin('POST', `/apps/${app.id}/keys`);
  // The log scan (the harness's, or the caller's for an external Herald)
  // looks for it.
  await appendFile(SECRETS_FILE, `${key.secret}\n`);
  return { appId: app.id, key: key.key, secret: key.secret };
}

/**
 * The app tests use unless they need other settings: herald dev's demo
 * app, or on an external Herald one made for this test process with the
 * demo app's settings (lib/clients.mjs waits until gateways accept it).
 * @type {App}
 */
export const APP = EXTERNAL ? Object.freeze(await newApp(DEMO_APP_SETTINGS)) : DEMO_APP;
