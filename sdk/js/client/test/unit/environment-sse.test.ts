import { afterEach, describe, expect, it, vi } from 'vitest';

import { HeraldStream, type StreamState, TERMINATED_REASON } from '../../src/index.js';
import { globalEnvironment } from '../../src/environment.js';

afterEach(() => vi.unstubAllGlobals());

describe('globalEnvironment', () => {
  it('follows navigator.onLine, online/offline and page visibility', () => {
    const scope = new EventTarget();
    const doc = Object.assign(new EventTarget(), { visibilityState: 'hidden' });
    const nav = { onLine: true };
    vi.stubGlobal('addEventListener', scope.addEventListener.bind(scope));
    vi.stubGlobal('removeEventListener', scope.removeEventListener.bind(scope));
    vi.stubGlobal('navigator', nav);
    vi.stubGlobal('document', doc);
    const env = globalEnvironment();
    const calls: string[] = [];
    const off = env.watch({ online: () => calls.push('online'), offline: () => calls.push('offline'), visible: () => calls.push('visible') });
    expect(env.isOnline()).toBe(true);
    nav.onLine = false;
    expect(env.isOnline()).toBe(false);
    scope.dispatchEvent(new Event('offline'));
    scope.dispatchEvent(new Event('online'));
    doc.dispatchEvent(new Event('visibilitychange'));
    doc.visibilityState = 'visible';
    doc.dispatchEvent(new Event('visibilitychange'));
    expect(calls).toEqual(['offline', 'online', 'visible']);
    off();
    scope.dispatchEvent(new Event('online'));
    doc.dispatchEvent(new Event('visibilitychange'));
    expect(calls).toHaveLength(3);
  });

  it('is always online where there is no navigator (Node)', () => {
    vi.stubGlobal('navigator', undefined);
    expect(globalEnvironment().isOnline()).toBe(true);
  });
});

/** A fetch whose answers the test scripts: each call takes the next one. */
function scriptedFetch(answers: Array<() => Response>) {
  const urls: string[] = [];
  const fn = (async (url: string) => {
    urls.push(url);
    const next = answers.shift();
    if (!next) return new Promise<Response>(() => {});
    return next();
  }) as typeof fetch;
  return { fn, urls };
}

function streamOf(text: string): Response {
  return new Response(
    new ReadableStream({
      start(c) {
        // Split mid-line, as the network does.
        const bytes = new TextEncoder().encode(text);
        c.enqueue(bytes.slice(0, 7));
        c.enqueue(bytes.slice(7));
        c.close();
      },
    }),
    { status: 200, headers: { 'content-type': 'text/event-stream' } },
  );
}

const frame = (serial: number) =>
  `id: c${serial}\nevent: tick\ndata: ${JSON.stringify({ event: 'tick', channel: 'news', data: JSON.stringify({ n: serial }), serial })}\n\n`;

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe('HeraldStream', () => {
  it('parses events, resumes with the last id and reports resume_result', async () => {
    const { fn, urls } = scriptedFetch([
      () => streamOf(`: comment\n${frame(1)}${frame(2)}`),
      () => streamOf(`event: herald_internal:resume_result\ndata: {"recovered":true}\n\n${frame(3)}`),
    ]);
    const s = new HeraldStream({ key: 'k', url: 'http://h.invalid/', channels: ['news', 'b'], fetch: fn, random: () => 0 });
    const got: Array<[unknown, number | undefined]> = [];
    s.bind('news', 'tick', (d, m) => got.push([d, m.serial]));
    const resumed: boolean[] = [];
    s.on('resumed', (r) => resumed.push(r.recovered));
    await until(() => got.length === 3);
    expect(got).toEqual([
      [{ n: 1 }, 1],
      [{ n: 2 }, 2],
      [{ n: 3 }, 3],
    ]);
    expect(resumed).toEqual([true]);
    expect(urls[0]).toBe('http://h.invalid/sse?key=k&channel=news&channel=b');
    expect(urls[1]).toBe('http://h.invalid/sse?key=k&channel=news&channel=b&last_event_id=c2');
    s.close();
    expect(s.state).toBe('closed');
  });

  it('asks for a new token after the stream ends with 4009', async () => {
    let n = 0;
    const { fn, urls } = scriptedFetch([
      () => streamOf('event: pusher:error\ndata: {"code":4009,"message":"token expired"}\n\n'),
      () => streamOf(frame(1)),
    ]);
    const s = new HeraldStream({ key: 'k', url: 'http://h.invalid', channels: ['news'], fetch: fn, random: () => 0, tokenProvider: async () => `t${++n}` });
    const errors: Array<number | undefined> = [];
    s.on('error', (e) => errors.push(e.code));
    await until(() => urls.length >= 2);
    expect(errors).toContain(4009);
    expect(urls[0]).toContain('token=t1');
    expect(urls[1]).toContain('token=t2');
    s.close();
  });

  it('fails for good when the app terminated the connection', async () => {
    let asked = 0;
    const { fn, urls } = scriptedFetch([
      () =>
        streamOf(
          'event: pusher:error\ndata: {"code":4009,"message":"connection terminated by the application","reason":"terminated"}\n\n',
        ),
      () => streamOf(frame(1)),
    ]);
    const s = new HeraldStream({
      key: 'k',
      url: 'http://h.invalid',
      channels: ['private-x'],
      fetch: fn,
      random: () => 0,
      tokenProvider: async () => `t${++asked}`,
    });
    const errors: Array<{ code?: number; reason?: string }> = [];
    s.on('error', (e) => errors.push(e));
    await until(() => s.state === 'failed');
    expect(errors).toEqual([{ code: 4009, message: 'connection terminated by the application', reason: TERMINATED_REASON }]);
    // No new token, no second request.
    await new Promise((r) => setTimeout(r, 20));
    expect(asked).toBe(1);
    expect(urls).toHaveLength(1);
  });

  it('fails on a 4xx answer other than 429', async () => {
    const { fn } = scriptedFetch([() => new Response('{"error":{"code":"forbidden"}}', { status: 403 })]);
    const s = new HeraldStream({ key: 'k', url: 'http://h.invalid', channels: ['private-x'], fetch: fn, random: () => 0 });
    const states: StreamState[] = [];
    s.on('state', (st) => states.push(st));
    await until(() => s.state === 'failed');
    expect(states).toEqual(['failed']);
  });
});
