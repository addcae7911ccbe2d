// What the hook tests share: a MockHerald per test, components rendered
// under StrictMode (effects run, are cleaned up and run again) inside
// HeraldProvider and a QueryClientProvider.

import { MockHerald, type MockHeraldOptions } from '@herald/testing';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, render } from '@testing-library/react';
import { type ReactNode, StrictMode, version } from 'react';
import { afterEach } from 'vitest';

import { HeraldProvider } from '../src/index.js';

/** The React major under test (the React 18 run aliases react to 18). */
export const REACT_MAJOR = Number(version.split('.')[0]);

const mocks: MockHerald[] = [];

afterEach(() => {
  cleanup();
  for (const m of mocks.splice(0)) m.client.close();
});

export function mockHerald(opts: MockHeraldOptions = {}): MockHerald {
  const m = new MockHerald(opts);
  mocks.push(m);
  return m;
}

/** Renders ui in StrictMode with the mock's client and a fresh QueryClient. */
export function renderWith(mock: MockHerald, ui: ReactNode, queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } })) {
  const wrap = (node: ReactNode) => (
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <HeraldProvider client={mock.client}>{node}</HeraldProvider>
      </QueryClientProvider>
    </StrictMode>
  );
  const result = render(wrap(ui));
  return { ...result, queryClient, rerender: (next: ReactNode) => result.rerender(wrap(next)) };
}

/** Lets the client and React react (pending microtasks, effects). */
export async function settle(mock: MockHerald): Promise<void> {
  await act(() => mock.settle());
}

/** The frames of one kind the client sent for a channel. */
export function framesFor(mock: MockHerald, event: string, channel: string): number {
  return mock.sent.filter((f) => f.event === event && (f.data as { channel?: string } | undefined)?.channel === channel).length;
}
