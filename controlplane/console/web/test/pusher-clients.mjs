// Real pusher-js clients (in Node) and the `pusher` server SDK pointed at
// the herald under test, for the live pages' browser tests: an app made
// through the admin API, clients that sign in and join presence channels
// with auth signed locally by the SDK (as the app's backend would), and
// waits for pusher-js events.

import PusherServer from 'pusher';
import Pusher from 'pusher-js';

import { WAIT_MS, waitUntil } from './harness.mjs';

/**
 * @typedef {{appId: string, key: string, secret: string}} TestApp
 */

/**
 * Creates an account, an app with settings and a key through the admin
 * API, and waits until the gateway accepts the key.
 * @param {import('./harness.mjs').ConsoleHarness} h
 * @param {string} name
 * @param {Record<string, unknown>} [settings]
 * @returns {Promise<TestApp>}
 */
export async function createApp(h, name, settings = {}) {
  const account = await h.admin('POST', '/accounts', { name });
  const app = await h.admin('POST', '/apps', { account_id: account.id, name, settings });
  const key = await h.admin('POST', `/apps/${app.id}/keys`);
  const created = { appId: app.id, key: key.key, secret: key.secret };
  await waitUntil(
    async () => {
      const c = await connect(h, created);
      c.disconnect();
      return true;
    },
    { what: `the gateway accepting key ${key.key}` },
  );
  return created;
}

/**
 * The app's backend: the `pusher` server SDK.
 * @param {import('./harness.mjs').ConsoleHarness} h
 * @param {TestApp} app
 */
export function restClient(h, app) {
  const u = new URL(h.url);
  return new PusherServer({ appId: app.appId, key: app.key, secret: app.secret, host: u.hostname, port: u.port, useTLS: false });
}

/**
 * A pusher-js client; user is what sign-in sends, presence the member
 * data of presence channels.
 * @param {import('./harness.mjs').ConsoleHarness} h
 * @param {TestApp} app
 * @param {{user?: {id: string}, presence?: {user_id: string}}} [opts]
 */
export function newClient(h, app, { user, presence } = {}) {
  const u = new URL(h.url);
  const backend = restClient(h, app);
  const later = (callback, sign) =>
    setImmediate(() => {
      try {
        callback(null, sign());
      } catch (err) {
        callback(err, null);
      }
    });
  return new Pusher(app.key, {
    cluster: 'herald', // pusher-js in Node insists on one even with wsHost
    wsHost: u.hostname,
    wsPort: Number(u.port),
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, cb) =>
        later(cb, () => (channelName.startsWith('presence-') ? backend.authorizeChannel(socketId, channelName, presence) : backend.authorizeChannel(socketId, channelName))),
    },
    userAuthentication: { customHandler: ({ socketId }, cb) => later(cb, () => backend.authenticateUser(socketId, user)) },
  });
}

/**
 * A connected pusher-js client.
 * @param {import('./harness.mjs').ConsoleHarness} h
 * @param {TestApp} app
 * @param {Parameters<typeof newClient>[2]} [opts]
 */
export async function connect(h, app, opts) {
  const c = newClient(h, app, opts);
  try {
    await waitFor(c.connection, 'connected', { ready: () => c.connection.state === 'connected' });
  } catch (err) {
    c.disconnect();
    throw err;
  }
  return c;
}

/**
 * Waits for one event on a pusher-js emitter that passes filter; ready()
 * true resolves at once (the event already happened).
 * @param {{bind: Function, unbind: Function}} emitter
 * @param {string} event
 * @param {{filter?: (data: any) => boolean, ready?: () => boolean, timeout?: number}} [opts]
 * @returns {Promise<any>} the event's data
 */
export function waitFor(emitter, event, { filter = () => true, ready = () => false, timeout = WAIT_MS } = {}) {
  if (ready()) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const handler = (data) => {
      if (!filter(data)) return;
      cleanup();
      resolve(data);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeout} ms waiting for ${event}`));
    }, timeout);
    const cleanup = () => {
      clearTimeout(timer);
      emitter.unbind(event, handler);
    };
    emitter.bind(event, handler);
  });
}

/**
 * Subscribes and resolves once subscription_succeeded arrived, with the
 * channel and the time it arrived (Date.now()).
 * @param {Pusher} client
 * @param {string} name
 */
export async function subscribe(client, name) {
  const channel = client.subscribe(name);
  await waitFor(channel, 'pusher:subscription_succeeded');
  return { channel, at: Date.now() };
}
