// Apps made through the admin API, for tests that need settings other than
// the demo app's (second-scale timeouts, plans, ...).

import { untilAccepted } from './clients.mjs';
import { newApp } from './herald.mjs';

/**
 * Creates an account, an app with the given settings and a key through the
 * admin API, then waits until the gateways accept a connection with that
 * key.
 * @param {Record<string, unknown>} settings e.g. {activity_timeout_s: 1}
 * @param {{planId?: string}} [options] the plan the app's account is put on
 * @returns {Promise<import('./herald.mjs').App>}
 */
export async function createApp(settings, options) {
  const created = await newApp(settings, options);
  await untilAccepted(created);
  return created;
}
