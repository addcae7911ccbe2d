// Where the Herald under test is, its demo app, and apps made through the
// admin API for tests that need other settings.

import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** The base URL of the running herald (set by harness/run.mjs). */
export const HERALD_URL = requiredEnv('HERALD_E2E_URL');
/** Its data folder, where `herald dev` keeps admin.token. */
export const DATA_DIR = requiredEnv('HERALD_E2E_DATA_DIR');
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

/** The demo app `herald dev` seeds (client events on). @type {App} */
export const DEMO_APP = Object.freeze({ appId: 'app-id', key: 'app-key', secret: 'app-secret' });

/** Bound on one admin API request. */
const ADMIN_TIMEOUT_MS = 10_000;

function requiredEnv(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run the suite with \`npm test\` (harness/run.mjs starts herald)`);
  }
  return v;
}

let tokenPromise;
function adminToken() {
  tokenPromise ??= readFile(path.join(DATA_DIR, 'admin.token'), 'utf8').then((s) => s.trim());
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
