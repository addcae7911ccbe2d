// @vitest-environment jsdom
import { act, render, screen } from '@testing-library/react';
import { StrictMode, useState } from 'react';
import { describe, expect, it, vi } from 'vitest';

import { channelHolders, useChannel, useConnectionState, useHerald } from '../src/index.js';
import { REACT_MAJOR, framesFor, mockHerald, renderWith, settle } from './render.js';

function Status() {
  return <p data-testid="state">{useConnectionState()}</p>;
}

function Listener({ channel, label }: { channel: string; label: string }) {
  const [seen, setSeen] = useState<string[]>([]);
  // A new handler on every render: it must not resubscribe.
  const state = useChannel<{ text: string }>(channel, 'message', (m) => setSeen((s) => [...s, `${label}:${m.text}`]));
  return (
    <p data-testid={`seen-${label}`} data-state={state}>
      {seen.join(',')}
    </p>
  );
}

describe(`useConnectionState (React ${REACT_MAJOR})`, () => {
  it('follows the connection through a cut and back', async () => {
    const mock = mockHerald();
    renderWith(mock, <Status />);
    await settle(mock);
    expect(screen.getByTestId('state').textContent).toBe('connected');
    await act(() => mock.disconnect());
    expect(screen.getByTestId('state').textContent).toBe('reconnecting');
    await act(() => mock.connect());
    expect(screen.getByTestId('state').textContent).toBe('connected');
  });
});

describe(`useChannel (React ${REACT_MAJOR}, StrictMode)`, () => {
  it('subscribes once, calls the latest handler, and re-renders never resubscribe', async () => {
    const mock = mockHerald();
    // Connected first, so StrictMode's second effect run would show as a second subscribe.
    await mock.settle();
    const { rerender } = renderWith(mock, <Listener channel="news" label="a" />);
    await settle(mock);
    expect(framesFor(mock, 'pusher:subscribe', 'news')).toBe(1);
    expect(screen.getByTestId('seen-a').dataset.state).toBe('subscribed');
    await act(() => mock.emit('news', 'message', { text: 'one' }));
    rerender(<Listener channel="news" label="a" />);
    rerender(<Listener channel="news" label="a" />);
    await act(() => mock.emit('news', 'message', { text: 'two' }));
    expect(screen.getByTestId('seen-a').textContent).toBe('a:one,a:two');
    expect(framesFor(mock, 'pusher:subscribe', 'news')).toBe(1);
    expect(framesFor(mock, 'pusher:unsubscribe', 'news')).toBe(0);
  });

  it('shares one subscription between components and leaves with the last', async () => {
    const mock = mockHerald();
    await mock.settle();
    const both = (
      <>
        <Listener channel="room" label="a" />
        <Listener channel="room" label="b" />
      </>
    );
    const { rerender, unmount } = renderWith(mock, both);
    await settle(mock);
    expect(framesFor(mock, 'pusher:subscribe', 'room')).toBe(1);
    expect(channelHolders(mock.client, 'room')).toBe(2);
    await act(() => mock.emit('room', 'message', { text: 'hi' }));
    expect(screen.getByTestId('seen-a').textContent).toBe('a:hi');
    expect(screen.getByTestId('seen-b').textContent).toBe('b:hi');

    rerender(<Listener channel="room" label="a" />);
    await settle(mock);
    expect(channelHolders(mock.client, 'room')).toBe(1);
    expect(framesFor(mock, 'pusher:unsubscribe', 'room')).toBe(0);
    expect(mock.client.channel('room')?.handlerCount()).toBeGreaterThan(0);

    unmount();
    await settle(mock);
    expect(framesFor(mock, 'pusher:unsubscribe', 'room')).toBe(1);
    expect(mock.client.channelCount).toBe(0);
    expect(channelHolders(mock.client, 'room')).toBe(0);
  });

  it('moves to another channel when the name changes', async () => {
    const mock = mockHerald();
    const { rerender } = renderWith(mock, <Listener channel="one" label="a" />);
    await settle(mock);
    rerender(<Listener channel="two" label="a" />);
    await settle(mock);
    expect(framesFor(mock, 'pusher:unsubscribe', 'one')).toBe(1);
    expect(framesFor(mock, 'pusher:subscribe', 'two')).toBe(1);
    await act(() => mock.emit('two', 'message', { text: 'x' }));
    expect(screen.getByTestId('seen-a').textContent).toBe('a:x');
    expect(mock.client.channelCount).toBe(1);
  });
});

describe(`HeraldProvider (React ${REACT_MAJOR})`, () => {
  it('is required: a hook outside it says so', () => {
    function Orphan() {
      useHerald();
      return null;
    }
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(() =>
        render(
          <StrictMode>
            <Orphan />
          </StrictMode>,
        ),
      ).toThrow(/HeraldProvider/);
    } finally {
      quiet.mockRestore();
    }
  });
});
