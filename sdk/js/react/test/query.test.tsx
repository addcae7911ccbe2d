// @vitest-environment jsdom
import type { Herald } from '@herald/client';
import { useQuery } from '@tanstack/react-query';
import { act, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { type RealtimeMutationResult, useHerald, useRealtimeCache, useRealtimeInvalidation, useRealtimeMutation } from '../src/index.js';
import { REACT_MAJOR, framesFor, mockHerald, renderWith, settle } from './render.js';

/** Waits until the element shows text (React Query notifies on a timer). */
async function shows(testId: string, text: string): Promise<void> {
  await waitFor(() => expect(screen.getByTestId(testId).textContent).toBe(text));
}

interface Todo {
  id: string;
  text: string;
  status?: 'pending' | 'sent' | 'failed';
}

let fetches = 0;
function Counter() {
  useRealtimeInvalidation([{ channel: 'todos', event: 'changed', queryKey: ['todos'] }]);
  const q = useQuery({ queryKey: ['todos', 'count'], queryFn: async () => ++fetches });
  return <p data-testid="count">{q.data ?? '-'}</p>;
}

function Todos() {
  useRealtimeCache<Todo>(['todos'], 'todos', { onAdd: 'added', onUpdate: 'updated', onDelete: 'deleted' });
  const q = useQuery<Todo[]>({ queryKey: ['todos'], queryFn: async () => [], staleTime: Infinity });
  return <p data-testid="todos">{(q.data ?? []).map((t) => `${t.id}=${t.text}${t.status ? `(${t.status})` : ''}`).join(',')}</p>;
}

describe(`useRealtimeInvalidation (React ${REACT_MAJOR}, StrictMode)`, () => {
  it('refetches the matching queries on each event, and re-renders keep one subscription', async () => {
    fetches = 0;
    const mock = mockHerald();
    await mock.settle();
    const { rerender } = renderWith(mock, <Counter />);
    await settle(mock);
    await shows('count', '1');
    rerender(<Counter />);
    await act(() => mock.emit('todos', 'changed', {}));
    await settle(mock);
    await shows('count', '2');
    await act(() => mock.emit('todos', 'other', {}));
    await settle(mock);
    await shows('count', '2');
    expect(framesFor(mock, 'pusher:subscribe', 'todos')).toBe(1);
  });
});

describe(`useRealtimeCache (React ${REACT_MAJOR}, StrictMode)`, () => {
  it('adds once by id, updates and deletes immutably, and replaces optimistic entries', async () => {
    const mock = mockHerald();
    const { queryClient } = renderWith(mock, <Todos />);
    await settle(mock);
    await act(() => mock.emit('todos', 'added', { id: 't1', text: 'milk' }));
    const before = queryClient.getQueryData<Todo[]>(['todos'])!;
    await act(() => mock.emit('todos', 'added', { id: 't1', text: 'milk' }, { serial: 99 }));
    await shows('todos', 't1=milk');

    await act(async () => queryClient.setQueryData<Todo[]>(['todos'], (old = []) => [...old, { id: 't2', text: 'eggs', status: 'pending' }]));
    await shows('todos', 't1=milk,t2=eggs(pending)');
    await act(() => mock.emit('todos', 'added', { id: 't2', text: 'eggs!' }));
    await shows('todos', 't1=milk,t2=eggs!');

    await act(() => mock.emit('todos', 'updated', { id: 't1', text: 'oat milk' }));
    await act(() => mock.emit('todos', 'updated', { id: 'nope', text: 'ignored' }));
    await act(() => mock.emit('todos', 'deleted', { id: 't2' }));
    await shows('todos', 't1=oat milk');
    expect(before).toEqual([{ id: 't1', text: 'milk' }]);
  });
});

let mutationApi: RealtimeMutationResult<{ text: string }, unknown> | undefined;
const restCalls: string[] = [];

/** A mutation through the app's backend (here: a log), confirmed by the echo. */
function RestAdder({ timeoutMs }: { timeoutMs: number }) {
  mutationApi = useRealtimeMutation<{ text: string }, void, Todo>(
    async (_vars, { id }) => {
      restCalls.push(id);
    },
    { channel: 'todos', matchEvent: 'added', timeoutMs, queryKey: ['todos'], toItem: (v, id) => ({ id, text: v.text }) },
  );
  return <p data-testid="entries">{mutationApi.entries.map((e) => `${e.variables.text}:${e.status}`).join(',')}</p>;
}

/** A mutation through herald.publish, confirmed by its ack. */
function PublishAdder() {
  const herald: Herald = useHerald();
  mutationApi = useRealtimeMutation<{ text: string }, { serial: number }>(
    (vars, { id }) => herald.publish('todos', 'added', { ...vars, id }, { id }),
    { channel: 'todos', matchEvent: 'added', timeoutMs: 60_000 },
  );
  return <p data-testid="entries">{mutationApi.entries.map((e) => `${e.variables.text}:${e.status}`).join(',')}</p>;
}

describe(`useRealtimeMutation (React ${REACT_MAJOR}, StrictMode)`, () => {
  it('is pending until its echo, sent after it, and the optimistic item is replaced by the server one', async () => {
    const mock = mockHerald();
    renderWith(
      mock,
      <>
        <RestAdder timeoutMs={60_000} />
        <Todos />
      </>,
    );
    await settle(mock);
    let done!: Promise<unknown>;
    await act(async () => {
      done = mutationApi!.mutate({ text: 'bread' });
      await mock.settle();
    });
    const id = restCalls.at(-1)!;
    await shows('entries', 'bread:pending');
    await shows('todos', `${id}=bread(pending)`);
    await act(() => mock.emit('todos', 'added', { id, text: 'bread (stored)' }));
    await act(async () => {
      await done;
    });
    await shows('entries', 'bread:sent');
    await shows('todos', `${id}=bread (stored)`);
  });

  it('fails when no echo comes in time, and a retry with the same id can succeed', async () => {
    const mock = mockHerald();
    renderWith(
      mock,
      <>
        <RestAdder timeoutMs={30} />
        <Todos />
      </>,
    );
    await settle(mock);
    await act(async () => {
      await mutationApi!.mutate({ text: 'jam' });
    });
    const id = restCalls.at(-1)!;
    await shows('entries', 'jam:failed');
    await shows('todos', `${id}=jam(failed)`);
    expect(mutationApi!.entries[0]?.error?.name).toBe('ConfirmTimeoutError');

    let again!: Promise<unknown>;
    await act(async () => {
      again = mutationApi!.retry(id);
      await mock.settle();
    });
    expect(restCalls.at(-1)).toBe(id);
    await shows('entries', 'jam:pending');
    await act(() => mock.emit('todos', 'added', { id, text: 'jam' }));
    await act(async () => {
      await again;
    });
    await shows('entries', 'jam:sent');
    await shows('todos', `${id}=jam`);
  });

  it('is sent on the ack of herald.publish and failed on its nack', async () => {
    const mock = mockHerald();
    renderWith(mock, <PublishAdder />);
    await settle(mock);
    let a!: Promise<unknown>;
    let b!: Promise<unknown>;
    await act(async () => {
      a = mutationApi!.mutate({ text: 'one' });
      b = mutationApi!.mutate({ text: 'two' });
      await mock.settle();
    });
    await shows('entries', 'one:pending,two:pending');
    await act(() => mock.ack());
    await act(() => mock.nack());
    await act(async () => {
      await a;
      await b;
    });
    await shows('entries', 'one:sent,two:failed');
    expect(mutationApi!.entries[1]?.error?.name).toBe('PublishRejectedError');
  });
});
