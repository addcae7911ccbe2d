/**
 * A scripted Herald for Mock Service Worker's WebSocket interception:
 * test a component against a real client talking to a fake server, in
 * the browser (setupWorker) or in tests (setupServer).
 *
 * @module @herald/testing/msw
 */
import { type WebSocketHandler, ws } from 'msw';

import { HeraldScript, type ScriptOptions, type ServerFrame } from './script.js';

export interface HeraldMswOptions extends ScriptOptions {
  /**
   * The Herald URL the app's client is given (`http(s)://` or `ws(s)://`);
   * by default any host's `/app/<key>` WebSocket is answered.
   */
  url?: string;
  /** The app key the client connects with (default any). */
  key?: string;
}

/** Any Herald (Pusher) WebSocket URL: `…/app/<key>`, with a query. */
const ANY_HERALD = /^wss?:\/\/[^/]+(?:\/.*)?\/app\/[^/?]+(?:\?.*)?$/;

type Client = Parameters<Parameters<ReturnType<typeof ws.link>['addEventListener']>[1]>[0]['client'];

/**
 * A Herald server scripted by the test over MSW: give `handler` to
 * `setupServer(…)` or `setupWorker(…)`; each connection is established
 * at once, subscribes are answered (presence with the roster and this
 * `user`), and the test drives the rest as with MockHerald: `emit`,
 * `memberAdded`, `memberRemoved`, `ack`, `nack`, `refuse`, `disconnect`.
 * Frames go to the latest connection.
 */
export class HeraldMsw extends HeraldScript {
  /** The MSW handler: pass it to setupServer or setupWorker. */
  readonly handler: WebSocketHandler;
  private client: Client | undefined;
  private connections = 0;

  constructor(opts: HeraldMswOptions = {}) {
    super(opts);
    const link = ws.link(opts.url ? `${opts.url.replace(/^http/, 'ws').replace(/\/+$/, '')}/app/${opts.key ?? '*'}` : ANY_HERALD);
    this.handler = link.addEventListener('connection', ({ client }) => {
      this.client = client;
      this.lost();
      client.addEventListener('message', (e) => {
        if (this.client === client && typeof e.data === 'string') this.receive(JSON.parse(e.data) as Parameters<HeraldScript['receive']>[0]);
      });
      client.addEventListener('close', () => {
        if (this.client !== client) return;
        this.client = undefined;
        this.lost();
      });
      this.connections++;
      this.established(`1.${this.connections}`);
    });
  }

  /** How many connections the client opened so far. */
  get connectionCount(): number {
    return this.connections;
  }

  /** Closes the current connection from the server's side (default 4200: reconnect at once). */
  disconnect(code = 4200, reason = 'closed by the test'): void {
    const c = this.client;
    this.client = undefined;
    this.lost();
    c?.close(code, reason);
  }

  protected override send(frame: ServerFrame): void {
    this.client?.send(JSON.stringify(frame));
  }
}
