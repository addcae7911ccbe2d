import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';

import { type Optimistic, optimisticList } from '../src/index.js';

interface Message extends Optimistic {
  text: string;
}

interface ChatStore {
  messages: Message[];
}

// The Zustand example of the README: the helper reads and writes the
// store's list; components select it as usual.
function chatStore() {
  const store = createStore<ChatStore>(() => ({ messages: [] }));
  const messages = optimisticList<Message>({
    get: () => store.getState().messages,
    set: (next) => store.setState({ messages: next }),
  });
  return { store, messages };
}

describe('optimisticList over a Zustand store', () => {
  it('adds pending, confirms, fails, and lets the server copy replace the optimistic one once', () => {
    const { store, messages } = chatStore();
    messages.add({ id: 'a', text: 'hi' });
    messages.add({ id: 'b', text: 'yo' });
    const snapshot = store.getState().messages;
    expect(snapshot.map((m) => m.status)).toEqual(['pending', 'pending']);

    messages.confirm('a');
    messages.fail('b');
    expect(store.getState().messages.map((m) => `${m.id}:${m.status}`)).toEqual(['a:sent', 'b:failed']);
    // Never mutated in place.
    expect(snapshot.map((m) => m.status)).toEqual(['pending', 'pending']);

    messages.receive({ id: 'a', text: 'hi (server)' });
    messages.receive({ id: 'a', text: 'duplicate' });
    messages.receive({ id: 'c', text: 'from Bo' });
    messages.receive({ id: 'c', text: 'duplicate' });
    expect(store.getState().messages).toEqual([
      { id: 'a', text: 'hi (server)' },
      { id: 'b', text: 'yo', status: 'failed' },
      { id: 'c', text: 'from Bo' },
    ]);

    messages.add({ id: 'b', text: 'yo' });
    expect(store.getState().messages[1]?.status).toBe('pending');
    messages.remove('b');
    expect(store.getState().messages.map((m) => m.id)).toEqual(['a', 'c']);
  });

  it('does not turn a sent item back into a failed one', () => {
    const { store, messages } = chatStore();
    messages.add({ id: 'a', text: 'hi' });
    messages.confirm('a', { text: 'hi!' });
    messages.fail('a');
    expect(store.getState().messages).toEqual([{ id: 'a', text: 'hi!', status: 'sent' }]);
  });

  it('leaves the server copy alone when the confirmation comes after the echo', () => {
    const { store, messages } = chatStore();
    messages.add({ id: 'a', text: 'hi' });
    messages.receive({ id: 'a', text: 'hi (server)' });
    messages.confirm('a');
    messages.fail('a');
    expect(store.getState().messages).toEqual([{ id: 'a', text: 'hi (server)' }]);
  });
});
