// @vitest-environment jsdom
import { act, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { type PublishState, usePresence, usePublish, useTyping } from '../src/index.js';
import { REACT_MAJOR, framesFor, mockHerald, renderWith, settle } from './render.js';

function Roster() {
  const { members, me } = usePresence<{ name: string }>('presence-room');
  return (
    <p data-testid="roster" data-me={me?.id}>
      {members.map((m) => m.info.name).join(',')}
    </p>
  );
}

let typingApi: { typing: () => void; stop: () => void } | undefined;
function Typers() {
  const t = useTyping('presence-room');
  typingApi = t;
  return <p data-testid="typers">{t.users.join(',')}</p>;
}

let publishApi: PublishState<{ text: string }> | undefined;
function Outbox() {
  const p = usePublish<{ text: string }>('private-chat', 'message');
  publishApi = p;
  return <p data-testid="outbox">{p.messages.map((m) => `${m.data.text}:${m.status}${m.serial ? `@${m.serial}` : ''}`).join(',')}</p>;
}

describe(`usePresence (React ${REACT_MAJOR}, StrictMode)`, () => {
  it('lists the members, then joins and leaves', async () => {
    const mock = mockHerald({ user: { id: 'me', info: { name: 'Me' } } });
    await mock.setMembers('presence-room', { u2: { name: 'Bo' } });
    renderWith(mock, <Roster />);
    await settle(mock);
    expect(framesFor(mock, 'pusher:subscribe', 'presence-room')).toBe(1);
    expect(screen.getByTestId('roster').textContent).toBe('Bo,Me');
    expect(screen.getByTestId('roster').dataset.me).toBe('me');
    await act(() => mock.memberAdded('presence-room', 'u3', { name: 'Cy' }));
    expect(screen.getByTestId('roster').textContent).toBe('Bo,Me,Cy');
    await act(() => mock.memberRemoved('presence-room', 'u2'));
    expect(screen.getByTestId('roster').textContent).toBe('Me,Cy');
  });
});

describe(`useTyping (React ${REACT_MAJOR}, StrictMode)`, () => {
  it('shows remote typers, sends this user’s typing, and shares the channel with usePresence', async () => {
    const mock = mockHerald();
    await mock.settle();
    renderWith(
      mock,
      <>
        <Roster />
        <Typers />
      </>,
    );
    await settle(mock);
    expect(framesFor(mock, 'pusher:subscribe', 'presence-room')).toBe(1);
    await act(() => mock.emit('presence-room', 'client-typing', { typing: true }, { userId: 'u2' }));
    expect(screen.getByTestId('typers').textContent).toBe('u2');
    await act(() => mock.emit('presence-room', 'client-typing', { typing: false }, { userId: 'u2' }));
    expect(screen.getByTestId('typers').textContent).toBe('');

    act(() => typingApi!.typing());
    act(() => typingApi!.stop());
    await settle(mock);
    const sent = mock.sent.filter((f) => f.event === 'client-typing').map((f) => (f.data as { typing: boolean }).typing);
    expect(sent).toEqual([true, false]);
  });
});

describe(`usePublish (React ${REACT_MAJOR}, StrictMode)`, () => {
  it('moves each message from pending to sent or failed, and retries with the same id', async () => {
    const mock = mockHerald();
    renderWith(mock, <Outbox />);
    await settle(mock);

    let first!: Promise<unknown>;
    let second!: Promise<unknown>;
    await act(async () => {
      first = publishApi!.publish({ text: 'a' }, 'm1');
      second = publishApi!.publish({ text: 'b' }, 'm2');
      await mock.settle();
    });
    expect(screen.getByTestId('outbox').textContent).toBe('a:pending,b:pending');
    await act(() => mock.ack('m1', 7));
    await act(() => mock.nack('m2', 4400, 'too big'));
    await act(async () => {
      await first;
      await second;
    });
    expect(screen.getByTestId('outbox').textContent).toBe('a:sent@7,b:failed');
    expect(publishApi!.messages[1]?.error?.message).toContain('too big');

    let retried!: Promise<unknown>;
    await act(async () => {
      retried = publishApi!.retry('m2');
      await mock.settle();
    });
    expect(screen.getByTestId('outbox').textContent).toBe('a:sent@7,b:pending');
    expect(mock.pendingPublishes.map((p) => p.id)).toEqual(['m2']);
    await act(() => mock.ack('m2', 9));
    await act(async () => {
      await retried;
    });
    expect(screen.getByTestId('outbox').textContent).toBe('a:sent@7,b:sent@9');
  });

  it('keeps a message sent while offline pending until the connection is back', async () => {
    const mock = mockHerald({ autoAck: true });
    renderWith(mock, <Outbox />);
    await settle(mock);
    await act(() => mock.disconnect());
    await act(async () => {
      void publishApi!.publish({ text: 'offline' }, 'm3');
      await mock.settle();
    });
    expect(screen.getByTestId('outbox').textContent).toBe('offline:pending');
    await act(() => mock.connect());
    await settle(mock);
    expect(screen.getByTestId('outbox').textContent).toMatch(/^offline:sent@\d+$/);
    expect(mock.sent.filter((f) => f.event === 'herald:publish')).toHaveLength(1);
  });
});
