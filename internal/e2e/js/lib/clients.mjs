// Real, unmodified clients pointed at the Herald under test: pusher-js as a
// browser app would configure it, and the `pusher` server SDK as a tenant's
// backend would use it (REST publishing and signing auth responses).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import PusherServer from 'pusher';
import Pusher from 'pusher-js';

import { APP, EXTERNAL, HOST, PORT } from './herald.mjs';

/** Bound on every wait for something that must happen. */
export const WAIT_MS = 5_000;

/**
 * The tenant's end-to-end encryption master key. Only the backend (the SDK)
 * knows it; Herald never sees it nor the per-channel shared secrets.
 */
export const ENCRYPTION_MASTER_KEY = randomBytes(32).toString('base64');

/**
 * A `pusher` server SDK instance for app, talking to Herald's REST API.
 * @param {import('./herald.mjs').App} [app]
 * @param {object} [options] more SDK options
 */
export function restClient(app = APP, options = {}) {
  return new PusherServer({
    appId: app.appId,
    key: app.key,
    secret: app.secret,
    host: HOST,
    port: String(PORT),
    useTLS: false,
    encryptionMasterKeyBase64: ENCRYPTION_MASTER_KEY,
    ...options,
  });
}

/** APP's backend: the `pusher` SDK most tests publish with. */
export const rest = restClient();

/**
 * What a tenant's auth endpoints would answer, computed by the SDK.
 * presence is the {user_id, user_info} for presence channels; user the
 * user data ({id, ...}) for sign-in. signer overrides the SDK instance
 * (one with a wrong secret makes auth fail as a misconfigured backend would).
 * @typedef {object} AuthOptions
 * @property {{user_id: string, user_info?: object}} [presence]
 * @property {{id: string} & Record<string, unknown>} [user]
 * @property {PusherServer} [signer]
 */

/**
 * A pusher-js channelAuthorization.customHandler backed by the SDK.
 * @param {PusherServer} signer
 * @param {AuthOptions['presence']} presence
 */
export function channelAuthHandler(signer, presence) {
  return ({ socketId, channelName }, callback) => {
    answerLater(callback, () =>
      channelName.startsWith('presence-')
        ? signer.authorizeChannel(socketId, channelName, presence)
        : signer.authorizeChannel(socketId, channelName),
    );
  };
}

// answerLater calls back on a later turn, as an HTTP auth endpoint would.
function answerLater(callback, sign) {
  setImmediate(() => {
    let data;
    try {
      data = sign();
    } catch (err) {
      callback(err, null);
      return;
    }
    callback(null, data);
  });
}

/**
 * pusher-js options for Herald: pusher-js in Node insists on a cluster even
 * when wsHost is given; only plain WebSocket, no stats beacons.
 * @param {{app?: import('./herald.mjs').App} & AuthOptions} [opts]
 */
export function clientOptions({ app = APP, presence, user, signer } = {}) {
  const backend = signer ?? restClient(app);
  return {
    cluster: 'herald',
    wsHost: HOST,
    wsPort: PORT,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: { customHandler: channelAuthHandler(backend, presence) },
    userAuthentication: {
      customHandler: ({ socketId }, callback) => {
        answerLater(callback, () => backend.authenticateUser(socketId, user));
      },
    },
  };
}

/**
 * A new pusher-js client (it starts connecting at once). Given a test
 * context, it is disconnected when the test ends.
 * @param {{t?: import('node:test').TestContext, app?: import('./herald.mjs').App} & AuthOptions} [opts]
 * @returns {Pusher}
 */
export function newClient(opts = {}) {
  const client = new Pusher((opts.app ?? APP).key, clientOptions(opts));
  opts.t?.after(() => client.disconnect());
  return client;
}

/**
 * A pusher-js client once it is connected. Rejects (and disconnects it) if
 * the connection fails or takes longer than WAIT_MS; the error's `code` is
 * the Pusher error code when the server sent one.
 * @param {{t?: import('node:test').TestContext, app?: import('./herald.mjs').App} & AuthOptions} [opts]
 * @returns {Promise<Pusher>}
 */
export async function connectClient(opts = {}) {
  const client = newClient(opts);
  try {
    await untilConnected(client);
  } catch (err) {
    client.disconnect();
    throw err;
  }
  return client;
}

/**
 * Resolves when client reaches "connected"; rejects on an error, on a
 * terminal state, or after WAIT_MS.
 * @param {Pusher} client
 */
export function untilConnected(client) {
  const conn = client.connection;
  if (conn.state === 'connected') {
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    let lastError;
    const done = (fn, arg) => {
      clearTimeout(timer);
      conn.unbind('state_change', onState);
      conn.unbind('error', onError);
      fn(arg);
    };
    const onError = (e) => {
      lastError = e;
    };
    const onState = ({ current }) => {
      if (current === 'connected') {
        done(resolve);
      } else if (['failed', 'unavailable', 'disconnected'].includes(current)) {
        const code = pusherErrorCode(lastError);
        const err = new Error(`connection ${current} (pusher error ${code ?? 'none'})`);
        err.code = code;
        done(reject, err);
      }
    };
    const timer = setTimeout(() => {
      done(reject, new Error(`not connected after ${WAIT_MS} ms (state ${conn.state})`));
    }, WAIT_MS);
    conn.bind('state_change', onState);
    conn.bind('error', onError);
  });
}

/**
 * The Pusher error code inside a pusher-js connection "error" event: either
 * {type: "PusherError", data: {code}} (a pusher:error frame) or
 * {type: "WebSocketError", error: {type: "PusherError", data: {code}}} (a
 * refused handshake or close code).
 */
export function pusherErrorCode(e) {
  return e?.data?.code ?? e?.error?.data?.code;
}

/**
 * Waits for one event on a pusher-js emitter (a channel, client.connection,
 * client.user, or the client itself) that passes filter.
 * @param {{bind: Function, unbind: Function}} emitter
 * @param {string} event
 * @param {{filter?: (data: any, metadata: any) => boolean, what?: string, timeout?: number}} [opts]
 * @returns {Promise<{data: any, metadata: any}>}
 */
export function waitFor(emitter, event, { filter = () => true, what = event, timeout = WAIT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const handler = (data, metadata) => {
      if (filter(data, metadata)) {
        cleanup();
        resolve({ data, metadata });
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeout} ms waiting for ${what}`));
    }, timeout);
    const cleanup = () => {
      clearTimeout(timer);
      emitter.unbind(event, handler);
    };
    emitter.bind(event, handler);
  });
}

/**
 * Subscribes and resolves with the channel once subscription_succeeded
 * arrives. A subscription_error rejects with an Error whose `status` and
 * `data` are the server's.
 * @param {Pusher} client
 * @param {string} name
 */
export function subscribe(client, name) {
  const channel = client.subscribe(name);
  return subscribed(channel);
}

/**
 * Resolves with channel once it is subscribed (see subscribe).
 * @param {import('pusher-js').Channel} channel
 */
export function subscribed(channel) {
  if (channel.subscribed) {
    return Promise.resolve(channel);
  }
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      channel.unbind('pusher:subscription_succeeded', ok);
      channel.unbind('pusher:subscription_error', failed);
    };
    const ok = () => {
      cleanup();
      resolve(channel);
    };
    const failed = (data) => {
      cleanup();
      const err = new Error(`subscription to ${channel.name} refused: ${JSON.stringify(data)}`);
      err.status = data?.status;
      err.data = data;
      reject(err);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no subscription result for ${channel.name} after ${WAIT_MS} ms`));
    }, WAIT_MS);
    channel.bind('pusher:subscription_succeeded', ok);
    channel.bind('pusher:subscription_error', failed);
  });
}

/**
 * Records every event the client's connection receives, as pusher-js
 * decoded it and before any channel sees it (pings and errors included,
 * encrypted payloads still encrypted).
 * @param {Pusher} client
 * @returns {Array<{event: string, channel?: string, data: any, user_id?: string}>}
 */
export function recordFrames(client) {
  const frames = [];
  client.connection.bind('message', (m) => frames.push(m));
  return frames;
}

/**
 * Waits for a received event matching pred on the client's connection.
 * @param {Pusher} client
 * @param {(m: {event: string, channel?: string, data: any}) => boolean} pred
 * @param {string} what
 */
export async function waitForFrame(client, pred, what) {
  const { data } = await waitFor(client.connection, 'message', { filter: pred, what });
  return data;
}

/**
 * Resolves once the server has processed every frame the client sent
 * before: it sends pusher:ping and waits for the pong, since a connection's
 * frames are handled in order. Use it after a frame that has no answer
 * (pusher:unsubscribe) before acting on its effect.
 * @param {Pusher} client
 */
export async function roundTrip(client) {
  const pong = waitForFrame(client, (m) => m.event === 'pusher:pong', 'pusher:pong');
  client.send_event('pusher:ping', {});
  await pong;
}

/**
 * Signs the client in (pusher-js's signin, with the user from
 * clientOptions) and resolves once its #server-to-user channel is
 * subscribed.
 * @param {Pusher} client
 */
export async function signIn(client) {
  client.signin();
  let timer;
  await Promise.race([
    client.user.signinDonePromise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`signin not done after ${WAIT_MS} ms`)), WAIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  assert.ok(client.user.user_data, 'signin failed (see pusher-js warnings)');
  await subscribed(client.user.serverToUserChannel);
}

let seq = 0;
/**
 * A channel name no other test uses: prefix, the process id and a counter.
 * @param {string} prefix e.g. "private-chat"
 */
export function uniqueName(prefix) {
  seq += 1;
  return `${prefix}-${process.pid}-${seq}`;
}

/** How long a new app may take to reach the gateways (NATS KV, ~1 s). */
export const APP_PROPAGATION_MS = 10_000;
/** Pause between two connection attempts while an app propagates. */
const PROPAGATION_POLL_MS = 100;
/**
 * Connections in a row that must be accepted before a new app counts as
 * known. Behind a balancer each gateway learns of the app on its own, and
 * consecutive connections go to different gateways (HAProxy's leastconn
 * takes equally loaded servers in turn): several accepted in a row make
 * every gateway's knowing it very likely. One server needs one.
 */
const ACCEPTED_IN_A_ROW = EXTERNAL ? 4 : 1;

/**
 * Waits until the gateways accept a connection with app's key (see
 * ACCEPTED_IN_A_ROW), at most APP_PROPAGATION_MS.
 * @param {import('./herald.mjs').App} app
 */
export async function untilAccepted(app) {
  const deadline = Date.now() + APP_PROPAGATION_MS;
  let inARow = 0;
  while (inARow < ACCEPTED_IN_A_ROW) {
    const client = await connectClient({ app }).catch(() => null);
    if (client) {
      client.disconnect();
      inARow += 1;
      continue;
    }
    inARow = 0;
    if (Date.now() > deadline) {
      throw new Error(`key ${app.key} not accepted by the gateways after ${APP_PROPAGATION_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, PROPAGATION_POLL_MS));
  }
}

// An app made for this process (an external Herald) must have reached the
// gateways before any test connects with it.
if (EXTERNAL) {
  await untilAccepted(APP);
}
