// Token connections with unmodified pusher-js: the token rides in the path
// (wsPath: "/token/<JWT>"), so no auth endpoint is needed; the
// channelAuthorization handler answers {auth: ""} and the token's
// capabilities decide. Tokens come from Herald's token endpoint, asked for
// by the unmodified `pusher` SDK's signed `post`, or are signed by the
// tenant itself (HS256 over the key's secret).
//
// e2e-target: any

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import Pusher from 'pusher-js';

import {
  clientOptions,
  pusherErrorCode,
  rest,
  subscribe,
  uniqueName,
  untilConnected,
  waitFor,
} from '../lib/clients.mjs';
import { APP, TOKEN_EXPIRY_NOTICE_S } from '../lib/herald.mjs';

/** Seconds a test token lives. */
const TOKEN_TTL_S = 600;

/** A token from POST /apps/{id}/tokens, signed by the control plane. */
async function platformToken(body) {
  const res = await rest.post({ path: '/tokens', body });
  assert.equal(res.status, 200, await res.clone().text());
  const { token, expires_at: expiresAt } = await res.json();
  assert.ok(Date.parse(expiresAt) > Date.now(), `expires_at ${expiresAt}`);
  return token;
}

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A token the tenant signs itself: HS256 over the key's secret, kid = key. */
function tenantToken(claims, app = APP) {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: app.key })}.${b64url({ app: app.appId, iat: now, exp: now + TOKEN_TTL_S, ...claims })}`;
  return `${input}.${createHmac('sha256', app.secret).update(input).digest('base64url')}`;
}

/**
 * A pusher-js client that connects with token in its path. No auth
 * endpoint: the token is the authorisation, so the handler answers
 * {auth: ""}. For presence, pusher-js itself insists on channel_data to
 * know its own member id; the server ignores it and takes the member from
 * the token, so presenceAs only needs the user id (and anything else it
 * claims is overridden).
 */
function tokenClient(t, token, presenceAs) {
  const client = new Pusher(APP.key, {
    ...clientOptions(),
    wsPath: `/token/${token}`,
    channelAuthorization: {
      customHandler: ({ channelName }, callback) =>
        callback(null, channelName.startsWith('presence-') && presenceAs ? { auth: '', channel_data: JSON.stringify(presenceAs) } : { auth: '' }),
    },
  });
  t.after(() => client.disconnect());
  return client;
}

test('token in wsPath: capabilities replace auth for private and presence channels', async (t) => {
  const room = uniqueName('presence-room');
  const chat = uniqueName('private-chat');
  const token = await platformToken({
    user_id: 'tess',
    user_info: { name: 'Tess' },
    capabilities: { 'private-chat-*': ['subscribe', 'publish'], 'presence-room-*': ['presence'] },
    ttl_s: TOKEN_TTL_S,
  });
  const client = tokenClient(t, token, { user_id: 'tess', user_info: { name: 'Forged' } });
  await untilConnected(client);

  const channel = await subscribe(client, chat);
  const got = waitFor(channel, 'note');
  await rest.trigger(chat, 'note', { n: 1 });
  assert.deepEqual((await got).data, { n: 1 });

  const presence = await subscribe(client, room);
  assert.equal(presence.members.me.id, 'tess', 'presence identity comes from the token');
  assert.deepEqual(presence.members.me.info, { name: 'Tess' }, 'user_info comes from the token, not channel_data');

  await assert.rejects(subscribe(client, uniqueName('private-other')), (err) => {
    assert.equal(err.status, 403, JSON.stringify(err.data));
    assert.equal(err.data.type, 'Forbidden');
    return true;
  });
  assert.equal(client.connection.state, 'connected', 'a refused subscription keeps the connection');
});

test('tenant-signed token: client events need the publish capability', async (t) => {
  const chat = uniqueName('private-chat');
  const talker = tokenClient(t, tenantToken({ sub: 'talker', capabilities: { 'private-chat-*': ['subscribe', 'publish'] } }));
  const listener = tokenClient(t, tenantToken({ sub: 'listener', capabilities: { 'private-chat-*': ['subscribe'] } }));
  await Promise.all([untilConnected(talker), untilConnected(listener)]);
  const [said, heard] = await Promise.all([subscribe(talker, chat), subscribe(listener, chat)]);

  const got = waitFor(heard, 'client-typing');
  assert.ok(said.trigger('client-typing', { who: 'talker' }));
  assert.deepEqual((await got).data, { who: 'talker' });

  // Without publish the server answers pusher:error 4009; the connection stays.
  const refused = waitFor(listener.connection, 'error', { what: 'the 4009 error' });
  heard.trigger('client-typing', { who: 'listener' });
  assert.equal(pusherErrorCode((await refused).data), 4009);
  assert.equal(listener.connection.state, 'connected');
});

test('a forged token is refused with 4009', async (t) => {
  const good = tenantToken({ sub: 'x', capabilities: { '*': ['subscribe'] } });
  const forged = `${good.slice(0, good.lastIndexOf('.'))}.${createHmac('sha256', 'not-the-secret').update('x').digest('base64url')}`;
  const client = tokenClient(t, forged);
  const { data: err } = await waitFor(client.connection, 'error', { what: 'the connection error' });
  assert.equal(pusherErrorCode(err), 4009, `error event: ${JSON.stringify(err)}`);
});

test('token refresh: token_expiring, herald:refresh, token_refreshed; narrowed channels are dropped', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + TOKEN_EXPIRY_NOTICE_S + 2;
  const client = tokenClient(t, tenantToken({ sub: 'rita', exp, capabilities: { 'private-chat-*': ['subscribe'] } }));
  await untilConnected(client);
  const [keep, drop] = await Promise.all([
    subscribe(client, uniqueName('private-chat-keep')),
    subscribe(client, uniqueName('private-chat-drop')),
  ]);

  const { data: notice } = await waitFor(client, 'herald_internal:token_expiring', {
    timeout: (exp - now + 1) * 1000,
  });
  assert.equal(Date.parse(notice.expires_at), exp * 1000);

  // pusher-js sends the refresh as any other event; only keep stays allowed.
  const refreshed = waitFor(client, 'herald_internal:token_refreshed');
  const dropped = waitFor(drop, 'pusher:subscription_error');
  client.send_event('herald:refresh', {
    token: tenantToken({ sub: 'rita', capabilities: { [keep.name]: ['subscribe'] } }),
  });
  assert.ok(Date.parse((await refreshed).data.expires_at) > exp * 1000);
  assert.equal((await dropped).data.status, 403);

  // Past the first token's exp the connection lives on the new one.
  await sleep(exp * 1000 - Date.now() + 1000);
  assert.equal(client.connection.state, 'connected');
  const got = waitFor(keep, 'after-refresh');
  await rest.trigger(keep.name, 'after-refresh', { ok: true });
  assert.deepEqual((await got).data, { ok: true });
});
