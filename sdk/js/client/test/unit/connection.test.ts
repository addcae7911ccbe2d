import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  Connection,
  type ConnectionTimings,
  type StateChange,
  TERMINATED_REASON,
  backoffDelay,
  closeAction,
} from '../../src/index.js';
import { FakeEnvironment, FakeSocket, flush } from './fakes.js';

function connection(opts: ConnectionTimings & { random?: () => number; getToken?: () => Promise<string> } = {}) {
  const env = new FakeEnvironment();
  const conn = new Connection({
    url: (token) => `ws://herald.test/app/key?protocol=7${token ? `&token=${token}` : ''}`,
    WebSocket: FakeSocket,
    random: () => 0.5,
    environment: env,
    ...opts,
  });
  const changes: StateChange[] = [];
  conn.on('change', (c) => changes.push(c));
  return { conn, env, changes };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('backoffDelay', () => {
  it.each([
    { attempt: 0, random: 0.5, want: 500 },
    { attempt: 1, random: 0.5, want: 1000 },
    { attempt: 3, random: 0.5, want: 4000 },
    { attempt: 10, random: 0.5, want: 15000 },
    { attempt: 10, random: 0, want: 0 },
    { attempt: 10, random: 0.999999, want: 29999 },
  ])('attempt $attempt with random $random waits $want ms', ({ attempt, random, want }) => {
    expect(backoffDelay(attempt, { baseMs: 1000, maxMs: 30000, random: () => random })).toBe(want);
  });
});

describe('closeAction', () => {
  it.each([
    [4001, 'fail'],
    [4099, 'fail'],
    [4009, 'token'],
    [4100, 'backoff'],
    [4199, 'backoff'],
    [4200, 'now'],
    [4201, 'now'],
    [1006, 'backoff'],
  ] as const)('%i → %s', (code, action) => {
    expect(closeAction(code)).toBe(action);
  });
});

describe('Connection', () => {
  it('goes initialized → connecting → connected', async () => {
    const { conn, changes } = connection();
    expect(conn.state).toBe('initialized');
    conn.connect();
    await flush();
    expect(conn.state).toBe('connecting');
    FakeSocket.last.establish('7.1');
    expect(conn.state).toBe('connected');
    expect(conn.socketId).toBe('7.1');
    expect(changes.map((c) => `${c.previous}>${c.current}`)).toEqual(['initialized>connecting', 'connecting>connected']);
  });

  it('reconnects with exponential backoff and full jitter after a network loss', async () => {
    const { conn, changes } = connection({ random: () => 0.5 });
    conn.connect();
    await flush();
    FakeSocket.last.establish();
    FakeSocket.last.serverClose(1006, 'gone');
    expect(conn.state).toBe('reconnecting');
    expect(changes.at(-1)).toMatchObject({ previous: 'connected', current: 'reconnecting', reason: 'gone', code: 1006 });
    // Attempt n waits random × min(30 s, 1 s × 2^n): 500, 1000, 2000 ms.
    for (const wait of [500, 1000, 2000]) {
      const before = FakeSocket.all.length;
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(FakeSocket.all.length).toBe(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeSocket.all.length).toBe(before + 1);
      FakeSocket.last.serverClose(1006);
    }
    // A success resets the attempts.
    await vi.advanceTimersByTimeAsync(4000);
    FakeSocket.last.establish();
    FakeSocket.last.serverClose(1006);
    const before = FakeSocket.all.length;
    await vi.advanceTimersByTimeAsync(500);
    expect(FakeSocket.all.length).toBe(before + 1);
  });

  it('fails without retrying on 4000–4099', async () => {
    const { conn } = connection();
    conn.connect();
    await flush();
    FakeSocket.last.establish();
    FakeSocket.last.serverClose(4001, 'unknown app key');
    expect(conn.state).toBe('failed');
    await vi.advanceTimersByTimeAsync(600_000);
    expect(FakeSocket.all.length).toBe(1);
  });

  it('waits at least 1 s on 4100–4199 and reconnects at once on 4200–4299', async () => {
    const { conn } = connection({ random: () => 0 });
    conn.connect();
    await flush();
    FakeSocket.last.establish();
    FakeSocket.last.serverClose(4100, 'over capacity');
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeSocket.all.length).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all.length).toBe(2);
    FakeSocket.last.establish();
    FakeSocket.last.serverClose(4200, 'shutting down');
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all.length).toBe(3);
  });

  it('suspends after suspendAfterMs of failures, then retries every 30 s', async () => {
    const { conn } = connection({ random: () => 0.999, suspendAfterMs: 10_000, backoffMaxMs: 4_000 });
    conn.connect();
    await flush();
    FakeSocket.last.establish();
    FakeSocket.last.serverClose(1006);
    while (conn.state !== 'suspended') {
      await vi.advanceTimersByTimeAsync(4_000);
      FakeSocket.last.serverClose(1006);
    }
    const n = FakeSocket.all.length;
    await vi.advanceTimersByTimeAsync(29_999);
    expect(FakeSocket.all.length).toBe(n);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all.length).toBe(n + 1);
    expect(conn.state).toBe('suspended');
    FakeSocket.last.establish();
    expect(conn.state).toBe('connected');
  });

  it('fails after maxAttempts', async () => {
    const { conn, changes } = connection({ maxAttempts: 2 });
    conn.connect();
    await flush();
    FakeSocket.last.serverClose(1006);
    await vi.advanceTimersByTimeAsync(30_000);
    FakeSocket.last.serverClose(1006);
    await vi.advanceTimersByTimeAsync(30_000);
    FakeSocket.last.serverClose(1006);
    expect(conn.state).toBe('failed');
    expect(changes.at(-1)?.reason).toMatch(/gave up after 2 attempts/);
    expect(FakeSocket.all.length).toBe(3);
  });

  it('makes no attempt while offline and reconnects when back online', async () => {
    const { conn, env } = connection();
    conn.connect();
    await flush();
    FakeSocket.last.establish();
    env.online = false;
    FakeSocket.last.serverClose(1006);
    expect(conn.state).toBe('disconnected');
    await vi.advanceTimersByTimeAsync(600_000);
    expect(FakeSocket.all.length).toBe(1);
    env.goOnline();
    await flush();
    expect(FakeSocket.all.length).toBe(2);
    expect(conn.state).toBe('reconnecting');
  });

  it('going offline while waiting to reconnect cancels the attempt', async () => {
    const { conn, env } = connection();
    conn.connect();
    await flush();
    FakeSocket.last.establish();
    FakeSocket.last.serverClose(1006);
    env.goOffline();
    expect(conn.state).toBe('disconnected');
    await vi.advanceTimersByTimeAsync(600_000);
    expect(FakeSocket.all.length).toBe(1);
  });

  it('pings when idle and drops a socket that does not answer', async () => {
    const { conn, changes } = connection({ heartbeatMs: 5_000, pongTimeoutMs: 2_000 });
    conn.connect();
    await flush();
    const s = FakeSocket.last;
    s.establish();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(s.events('pusher:ping')).toHaveLength(1);
    // An answer keeps the connection.
    s.frame({ event: 'pusher:pong', data: '{}' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(s.events('pusher:ping')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(conn.state).toBe('reconnecting');
    expect(changes.at(-1)?.reason).toBe('heartbeat timeout');
    expect(s.closed).toBe(true);
  });

  it('uses the server activity_timeout when shorter than heartbeatMs', async () => {
    const { conn } = connection({ heartbeatMs: 30_000 });
    conn.connect();
    await flush();
    FakeSocket.last.establish('1.1', 3);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(FakeSocket.last.events('pusher:ping')).toHaveLength(1);
  });

  it('checks the connection with a short ping when the page becomes visible or the network changes', async () => {
    const { conn, env } = connection({ checkTimeoutMs: 1_000 });
    conn.connect();
    await flush();
    FakeSocket.last.establish();
    env.becomeVisible();
    expect(FakeSocket.last.events('pusher:ping')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(conn.state).toBe('reconnecting');
  });

  it('answers server pings', async () => {
    const { conn } = connection();
    conn.connect();
    await flush();
    FakeSocket.last.establish();
    FakeSocket.last.frame({ event: 'pusher:ping', data: '{}' });
    expect(FakeSocket.last.events('pusher:pong')).toHaveLength(1);
  });

  it('gives up on an attempt that is not established within connectTimeoutMs', async () => {
    const { conn } = connection({ connectTimeoutMs: 2_000 });
    conn.connect();
    await flush();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(FakeSocket.all[0]?.closed).toBe(true);
    expect(conn.state).toBe('connecting');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeSocket.all.length).toBe(2);
  });

  it('close() ends everything and stops watching the environment', async () => {
    const { conn, env, changes } = connection();
    conn.connect();
    await flush();
    FakeSocket.last.establish();
    expect(env.watched).toBe(true);
    conn.close();
    expect(conn.state).toBe('disconnected');
    expect(changes.at(-1)?.reason).toBe('closed');
    expect(FakeSocket.last.closed).toBe(true);
    expect(env.watched).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  describe('tokens', () => {
    it('connects with a token, refreshes it on token_expiring', async () => {
      let n = 0;
      const getToken = vi.fn(async () => `t${++n}`);
      const { conn } = connection({ getToken });
      conn.connect();
      await flush();
      expect(FakeSocket.last.url).toContain('token=t1');
      FakeSocket.last.establish();
      FakeSocket.last.frame({ event: 'herald_internal:token_expiring', data: '{"expires_at":"2030-01-01T00:00:00Z"}' });
      await flush();
      expect(FakeSocket.last.events('herald:refresh')).toEqual([{ event: 'herald:refresh', data: { token: 't2' } }]);
      expect(conn.currentToken).toBe('t2');
    });

    it('asks for a new token once on a 4009 close, then fails', async () => {
      let n = 0;
      const getToken = vi.fn(async () => `t${++n}`);
      const { conn } = connection({ getToken });
      conn.connect();
      await flush();
      FakeSocket.last.establish();
      FakeSocket.last.serverClose(4009, 'token expired');
      await vi.advanceTimersByTimeAsync(0);
      expect(FakeSocket.last.url).toContain('token=t2');
      FakeSocket.last.serverClose(4009, 'token refused');
      await vi.advanceTimersByTimeAsync(0);
      expect(conn.state).toBe('failed');
      expect(getToken).toHaveBeenCalledTimes(2);
      // connect() after failed asks for a new token: the refused one is
      // never offered again.
      conn.connect();
      await flush();
      expect(getToken).toHaveBeenCalledTimes(3);
      expect(FakeSocket.last.url).toContain('token=t3');
    });

    it('replaces a cached token close to its exp before reconnecting', async () => {
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const jwt = (n: number, expInS: number) =>
        `${b64({ alg: 'HS256' })}.${b64({ n, exp: Math.floor(Date.now() / 1000) + expInS })}.sig`;
      let n = 0;
      const getToken = vi.fn(async () => jwt(++n, n === 1 ? 20 : 600));
      const { conn } = connection({ getToken, random: () => 0 });
      conn.connect();
      await flush();
      FakeSocket.last.establish();
      FakeSocket.last.serverClose(1006);
      await vi.advanceTimersByTimeAsync(0);
      expect(getToken).toHaveBeenCalledTimes(2);
      expect(FakeSocket.last.url).toContain(encodeURIComponent(jwt(2, 600)).slice(0, 20));
      FakeSocket.last.establish();
      FakeSocket.last.serverClose(1006);
      await vi.advanceTimersByTimeAsync(0);
      // A fresh token is reused.
      expect(getToken).toHaveBeenCalledTimes(2);
    });

    it('a token provider that throws is an error event with the cause, then tried again after the backoff', async () => {
      const cause = new Error('backend down');
      const getToken = vi.fn(async (): Promise<string> => {
        throw cause;
      });
      const { conn, changes } = connection({ getToken, random: () => 0.5 });
      const errors: unknown[] = [];
      conn.on('error', (e) => errors.push(e));
      conn.connect();
      await vi.advanceTimersByTimeAsync(0);
      // An outage of the provider is not a refusal: no second ask at once,
      // no failed state, and no socket without a token.
      expect(getToken).toHaveBeenCalledTimes(1);
      expect(errors).toEqual([{ message: 'token provider failed: backend down', cause }]);
      // Never connected yet: it stays connecting, as after a network failure.
      expect(conn.state).toBe('connecting');
      expect(changes.map((c) => c.current)).not.toContain('failed');
      expect(FakeSocket.all).toHaveLength(0);
      // The provider recovers: the next attempt, after its backoff, connects.
      getToken.mockResolvedValueOnce('t1');
      await vi.advanceTimersByTimeAsync(500);
      expect(getToken).toHaveBeenCalledTimes(2);
      expect(FakeSocket.last.url).toContain('token=t1');
    });

    it('a token provider that never settles is an error event after connectTimeoutMs, then asked again after the backoff', async () => {
      const getToken = vi.fn((): Promise<string> => new Promise(() => {}));
      const { conn, changes } = connection({ getToken, connectTimeoutMs: 3_000, random: () => 0.5 });
      const errors: Array<{ message?: string }> = [];
      conn.on('error', (e) => errors.push(e));
      conn.connect();
      await vi.advanceTimersByTimeAsync(2_999);
      expect(errors).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(errors).toMatchObject([{ message: 'token provider failed: no token within 3000 ms' }]);
      expect(conn.state).toBe('connecting');
      expect(changes.map((c) => c.current)).not.toContain('failed');
      expect(FakeSocket.all).toHaveLength(0);
      getToken.mockResolvedValueOnce('t1');
      await vi.advanceTimersByTimeAsync(500);
      expect(getToken).toHaveBeenCalledTimes(2);
      expect(FakeSocket.last.url).toContain('token=t1');
    });

    it.each([
      { returned: '', message: 'it returned an empty token' },
      { returned: undefined, message: 'it must return a string, not undefined' },
      { returned: null, message: 'it must return a string, not null' },
      { returned: 42, message: 'it must return a string, not number' },
      { returned: { token: 't' }, message: 'it must return a string, not object' },
    ])('a token provider returning $returned is an error event, never a connection without a token', async ({ returned, message }) => {
      const getToken = vi.fn(async () => returned as unknown as string);
      const { conn } = connection({ getToken, random: () => 0.5 });
      const errors: Array<{ message?: string }> = [];
      conn.on('error', (e) => errors.push(e));
      conn.connect();
      await vi.advanceTimersByTimeAsync(0);
      expect(errors).toMatchObject([{ message: `token provider failed: ${message}` }]);
      expect(FakeSocket.all).toHaveLength(0);
      expect(conn.state).toBe('connecting');
      getToken.mockResolvedValueOnce('t1');
      await vi.advanceTimersByTimeAsync(500);
      expect(FakeSocket.last.url).toContain('token=t1');
    });

    it('a refresh whose provider never settles is an error event; the connection stays up until the server closes it, then asks again', async () => {
      let n = 0;
      const getToken = vi.fn((): Promise<string> => (++n === 2 ? new Promise(() => {}) : Promise.resolve(`t${n}`)));
      const { conn } = connection({ getToken, connectTimeoutMs: 3_000 });
      const errors: Array<{ message?: string }> = [];
      conn.on('error', (e) => errors.push(e));
      conn.connect();
      await flush();
      FakeSocket.last.establish();
      FakeSocket.last.frame({ event: 'herald_internal:token_expiring', data: '{"expires_at":"2030-01-01T00:00:00Z"}' });
      await vi.advanceTimersByTimeAsync(3_000);
      expect(errors).toMatchObject([{ message: 'token provider failed: no token within 3000 ms' }]);
      expect(conn.state).toBe('connected');
      expect(FakeSocket.last.events('herald:refresh')).toEqual([]);
      FakeSocket.last.serverClose(4009, 'token expired');
      await vi.advanceTimersByTimeAsync(0);
      expect(getToken).toHaveBeenCalledTimes(3);
      expect(FakeSocket.last.url).toContain('token=t3');
    });

    it('a token provider that throws on a refresh is an error event; the connection stays up', async () => {
      let n = 0;
      const getToken = vi.fn(async () => {
        if (++n === 2) throw new Error('refresh refused');
        return `t${n}`;
      });
      const { conn } = connection({ getToken });
      const errors: unknown[] = [];
      conn.on('error', (e) => errors.push(e));
      conn.connect();
      await flush();
      FakeSocket.last.establish();
      FakeSocket.last.frame({ event: 'herald_internal:token_expiring', data: '{"expires_at":"2030-01-01T00:00:00Z"}' });
      await flush();
      expect(errors).toMatchObject([{ message: 'token provider failed: refresh refused' }]);
      expect(conn.state).toBe('connected');
    });

    it('fails at once, without asking for a token, when the app terminated the connection', async () => {
      let n = 0;
      const getToken = vi.fn(async () => `t${++n}`);
      const { conn, changes } = connection({ getToken });
      const errors: unknown[] = [];
      conn.on('error', (e) => errors.push(e));
      conn.connect();
      await flush();
      FakeSocket.last.establish();
      FakeSocket.last.frame({
        event: 'pusher:error',
        data: JSON.stringify({ code: 4009, message: 'connection terminated by the application', reason: TERMINATED_REASON }),
      });
      FakeSocket.last.serverClose(4009, 'connection terminated by the application');
      await vi.advanceTimersByTimeAsync(60_000);
      expect(conn.state).toBe('failed');
      expect(changes.at(-1)).toMatchObject({
        current: 'failed',
        reason: 'connection terminated by the application',
        code: 4009,
      });
      expect(errors).toEqual([
        { code: 4009, message: 'connection terminated by the application', reason: 'terminated' },
      ]);
      expect(getToken).toHaveBeenCalledTimes(1);
      expect(FakeSocket.all).toHaveLength(1);
    });

    it('fails at once on 4009 without a token provider', async () => {
      const { conn } = connection();
      conn.connect();
      await flush();
      FakeSocket.last.serverClose(4009, 'origin not allowed');
      expect(conn.state).toBe('failed');
    });
  });
});
