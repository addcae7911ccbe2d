// Apps made through the admin API, for tests that need settings other than
// the demo app's (second-scale timeouts, ...).

import { appendFile } from 'node:fs/promises';

import { connectClient } from './clients.mjs';
import { SECRETS_FILE, admin } from './herald.mjs';

/** How long a new app may take to reach the gateway (NATS KV, ~1 s). */
export const APP_PROPAGATION_MS = 10_000;
/** Pause between two connection attempts while an app propagates. */
const PROPAGATION_POLL_MS = 100;

/**
 * Creates an account, an app with the given settings and a key through the
 * admin API, then waits until the gateway accepts a connection with that key.
 * @param {Record<string, unknown>} settings e.g. {activity_timeout_s: 1}
 * @param {{planId?: string}} [options] the plan the app's account is put on
 * @returns {Promise<import('./herald.mjs').App>}
 */
export async function createApp(settings, { planId } = {}) {
  const account = await admin('POST', '/accounts', { name: 'js-e2e' });
  if (planId !== undefined) {
    await admin('PATCH', `/accounts/${account.id}`, { plan_id: planId });
  }
  const app = await admin('POST', '/apps', { account_id: account.id, name: 'js-e2e', settings });
  const key = await admin('POST', `/apps/${app.id}/keys`);
  const created = { appId: app.id, key: key.key, secret: key.secret };
  // The harness scans herald's log for it after the run.
  await appendFile(SECRETS_FILE, `${key.secret}\n`);
  await untilAccepted(created);
  return created;
}

async function untilAccepted(app) {
  const deadline = Date.now() + APP_PROPAGATION_MS;
  for (;;) {
    const client = await connectClient({ app }).catch(() => null);
    if (client) {
      client.disconnect();
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`key ${app.key} not accepted by the gateway after ${APP_PROPAGATION_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, PROPAGATION_POLL_MS));
  }
}
