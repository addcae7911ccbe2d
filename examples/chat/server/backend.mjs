// The chat's backend, as a tenant runs one: it alone holds the app secret
// and answers the browser's token and channel-authorization requests.
// Sign-in is a stand-in (the user names themself); a real backend would
// take the user from its session. It also serves the built app and the
// public settings the app needs (Herald's URL, the app key and id).

import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

/** How long a browser's token lives; the client asks for a new one before it ends. */
export const TOKEN_TTL_S = 3600;
/** What a chat user may do: join, talk in and read the history of the chat rooms. */
const CAPABILITIES = { 'presence-chat-*': ['presence', 'publish', 'history'] };
/** A user name: letters, digits, - and _, as the room's presence id. */
const USER = /^[A-Za-z0-9_-]{1,32}$/;
const MAX_BODY_BYTES = 4096;
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const hmacHex = (secret, s) => createHmac('sha256', secret).update(s).digest('hex');

/** A tenant token: HS256 over the app secret, kid = the app key. */
export function signToken(app, user, now = Math.floor(Date.now() / 1000)) {
  const claims = { app: app.appId, sub: user, user_info: { name: user }, capabilities: CAPABILITIES, iat: now, exp: now + TOKEN_TTL_S };
  const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: app.key })}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', app.secret).update(input).digest('base64url')}`;
}

/** Pusher channel authorization, for apps that sign channels instead of using tokens. */
export function signChannel(app, socketId, channel, user) {
  if (!channel.startsWith('presence-')) return { auth: `${app.key}:${hmacHex(app.secret, `${socketId}:${channel}`)}` };
  const channelData = JSON.stringify({ user_id: user, user_info: { name: user } });
  return { auth: `${app.key}:${hmacHex(app.secret, `${socketId}:${channel}:${channelData}`)}`, channel_data: channelData };
}

async function body(req) {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > MAX_BODY_BYTES) throw new Error('body too large');
  }
  return req.headers['content-type']?.startsWith('application/json') ? JSON.parse(text || '{}') : Object.fromEntries(new URLSearchParams(text));
}

function send(res, status, value, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(type === 'application/json' ? JSON.stringify(value) : value);
}

/**
 * The backend's HTTP server (not listening yet).
 * @param {{ app: { appId: string, key: string, secret: string }, heraldUrl: string, staticDir: string }} opts
 */
export function createBackend({ app, heraldUrl, staticDir }) {
  return http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://backend');
      if (req.method === 'GET' && url.pathname === '/config.json') {
        return send(res, 200, { url: heraldUrl, key: app.key, appId: app.appId });
      }
      if (req.method === 'POST' && url.pathname === '/realtime/token') {
        const { user } = await body(req);
        if (!USER.test(String(user))) return send(res, 400, { error: 'bad user name' });
        return send(res, 200, { token: signToken(app, String(user)) });
      }
      if (req.method === 'POST' && url.pathname === '/realtime/auth') {
        const { socket_id: socketId, channel_name: channel } = await body(req);
        const user = String(req.headers['x-chat-user'] ?? '');
        if (!socketId || !channel?.startsWith('presence-chat-') || !USER.test(user)) return send(res, 403, { error: 'forbidden' });
        return send(res, 200, signChannel(app, socketId, channel, user));
      }
      if (req.method !== 'GET') return send(res, 405, { error: 'method not allowed' });
      const file = path.join(staticDir, path.normalize(url.pathname === '/' ? '/index.html' : url.pathname));
      if (!file.startsWith(staticDir)) return send(res, 404, { error: 'not found' });
      const data = await readFile(file).catch(() => readFile(path.join(staticDir, 'index.html')));
      return send(res, 200, data, TYPES[path.extname(file)] ?? 'text/html');
    } catch {
      return send(res, 400, { error: 'bad request' });
    }
  });
}
