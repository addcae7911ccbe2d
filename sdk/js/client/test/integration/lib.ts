// What the integration tests share: the server under test, a tenant
// backend's credentials and signatures, REST publishing, a TCP proxy that
// can cut every connection, and bounded waits.

import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

import { inject } from 'vitest';
import WebSocket from 'ws';

import { type ChannelAuth, Herald, type HeraldOptions, MemoryOutboxStore, type WebSocketConstructor } from '../../src/index.js';

export const HERALD_URL = inject('heraldUrl');
export const DATA_DIR = inject('heraldDataDir');

/** An app's credentials, as a tenant's backend knows them. */
export interface App {
  appId: string;
  key: string;
  secret: string;
}

/** The demo app `herald dev` seeds (client events on). */
export const DEMO_APP: App = { appId: 'app-id', key: 'app-key', secret: 'app-secret' };

/** Bound on every wait. */
export const WAIT_MS = 10_000;
const POLL_MS = 10;

let counter = 0;
/** A channel name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** Polls until check() is true, failing after WAIT_MS with what. */
export async function until(what: string, check: () => boolean, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const hmac = (secret: string, s: string) => createHmac('sha256', secret).update(s).digest('hex');

/** Signs a channel as a tenant backend does (Pusher's channel auth). */
export function signChannel(app: App, socketId: string, channel: string, presence?: { user_id: string; user_info?: unknown }): ChannelAuth {
  if (presence) {
    const channelData = JSON.stringify(presence);
    return { auth: `${app.key}:${hmac(app.secret, `${socketId}:${channel}:${channelData}`)}`, channel_data: channelData };
  }
  return { auth: `${app.key}:${hmac(app.secret, `${socketId}:${channel}`)}` };
}

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A tenant token: HS256 over the key's secret, kid = key. */
export function tenantToken(app: App, claims: Record<string, unknown>, ttlS = 600): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: app.key })}.${b64url({ app: app.appId, iat: now, exp: now + ttlS, ...claims })}`;
  return `${input}.${createHmac('sha256', app.secret).update(input).digest('base64url')}`;
}

/** Publishes through the tenant HTTP API; returns the message's serial. */
export async function restPublish(app: App, channel: string, event: string, data: unknown, base = HERALD_URL): Promise<number> {
  const res = await fetch(`${base}/apps/${app.appId}/events`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${app.key}:${app.secret}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ name: event, channel, data: JSON.stringify(data) }),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const body = (await res.json()) as { serials?: Record<string, number> };
  if (!res.ok || body.serials?.[channel] === undefined) throw new Error(`publish: ${res.status} ${JSON.stringify(body)}`);
  return body.serials[channel];
}

/** Calls the admin API of `herald dev` (its token is in the data folder). */
export async function admin(method: string, route: string, body?: unknown): Promise<any> {
  const token = (await readFile(path.join(DATA_DIR, 'admin.token'), 'utf8')).trim();
  const res = await fetch(`${HERALD_URL}/admin/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`admin ${method} ${route}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Creates an app with the given settings and waits until the gateway knows it. */
export async function createApp(settings: Record<string, unknown>): Promise<App> {
  const account = await admin('POST', '/accounts', { name: 'sdk-js' });
  const app = await admin('POST', '/apps', { account_id: account.id, name: 'sdk-js', settings });
  const key = await admin('POST', `/apps/${app.id}/keys`);
  const created: App = { appId: app.id, key: key.key, secret: key.secret };
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const h = client({ app: created });
    const ok = await new Promise<boolean>((resolve) => {
      h.connection.on('change', (c) => {
        if (c.current === 'connected') resolve(true);
        if (c.current === 'failed') resolve(false);
      });
    });
    h.close();
    if (ok) return created;
    if (Date.now() > deadline) throw new Error(`app ${created.appId} not accepted by the gateway`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const clients = new Set<Herald>();

/** A client of the server under test (ws as its WebSocket; memory outbox). */
export function client(opts: Partial<HeraldOptions> & { app?: App } = {}): Herald {
  const app = opts.app ?? DEMO_APP;
  const h = new Herald({
    key: app.key,
    url: HERALD_URL,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    outbox: { store: new MemoryOutboxStore() },
    ...opts,
  });
  clients.add(h);
  return h;
}

/** Closes every client made by client(). */
export function closeClients(): void {
  for (const h of clients) h.close();
  clients.clear();
}

/** Waits until the client is connected. */
export function connected(h: Herald): Promise<void> {
  return until(`connected (now ${h.connection.state})`, () => h.connection.state === 'connected');
}

/**
 * A TCP proxy on 127.0.0.1 in front of a port: cut() resets every
 * connection through it, as a network change does; silence() drops what
 * the server sends on them from then on, as a network failing one way;
 * retarget() points it at another port (a restarted server).
 */
export class Proxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** The server side of each connection, by its client side. */
  private readonly ups = new Map<net.Socket, net.Socket>();
  private target: number;
  port = 0;
  cuts = 0;

  constructor(targetUrl: string) {
    this.target = Number(new URL(targetUrl).port);
    this.server = net.createServer((down) => {
      const up = net.connect(this.target, '127.0.0.1');
      for (const s of [down, up]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      down.pipe(up);
      up.pipe(down);
      this.ups.set(down, up);
      down.on('close', () => this.ups.delete(down));
      down.on('close', () => up.destroy());
      up.on('close', () => down.destroy());
    });
  }

  /** The proxy's base URL. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Drops, from now on, everything the server sends on the current connections. */
  silence(): void {
    for (const [down, up] of this.ups) {
      up.unpipe(down);
      up.on('data', () => {});
    }
  }

  cut(): void {
    this.cuts++;
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
  }

  retarget(url: string): void {
    this.target = Number(new URL(url).port);
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server.close(r));
  }
}
