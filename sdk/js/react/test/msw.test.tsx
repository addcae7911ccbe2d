// @vitest-environment jsdom
// A component against a scripted Herald over Mock Service Worker's
// WebSocket interception: a real client, a real WebSocket API, a fake
// server (@herald/testing/msw).

import { Herald } from '@herald/client';
import { HeraldMsw } from '@herald/testing/msw';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { setupServer } from 'msw/node';
import { StrictMode, useState } from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { HeraldProvider, type PublishState, useChannel, useConnectionState, usePresence, usePublish } from '../src/index.js';
import { REACT_MAJOR } from './render.js';

const herald = new HeraldMsw({ url: 'http://herald.test', key: 'app-key', user: { id: 'ann', info: { name: 'Ann' } } });
const server = setupServer(herald.handler);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => cleanup());
afterAll(() => server.close());

let publishApi: PublishState<{ text: string }> | undefined;
function Room() {
  const state = useConnectionState();
  const { members } = usePresence<{ name: string }>('presence-room');
  const [lines, setLines] = useState<string[]>([]);
  useChannel<{ text: string }>('presence-room', 'message', (m) => setLines((l) => [...l, m.text]));
  publishApi = usePublish<{ text: string }>('presence-room', 'message');
  return (
    <div>
      <p data-testid="state">{state}</p>
      <p data-testid="members">{members.map((m) => m.info.name).join(',')}</p>
      <p data-testid="lines">{lines.join(',')}</p>
      <p data-testid="mine">{publishApi.messages.map((m) => `${m.data.text}:${m.status}`).join(',')}</p>
    </div>
  );
}

async function shows(testId: string, text: string): Promise<void> {
  await waitFor(() => expect(screen.getByTestId(testId).textContent).toBe(text));
}

describe(`HeraldMsw with the hooks (React ${REACT_MAJOR}, StrictMode)`, () => {
  it('connects, delivers events and presence, acks publishes, and reconnects', async () => {
    const client = new Herald({
      key: 'app-key',
      url: 'http://herald.test',
      authorizer: async () => ({ auth: 'app-key:signature', channel_data: JSON.stringify({ user_id: 'ann', user_info: { name: 'Ann' } }) }),
    });
    try {
      await herald.setMembers('presence-room', { bo: { name: 'Bo' } });
      render(
        <StrictMode>
          <HeraldProvider client={client}>
            <Room />
          </HeraldProvider>
        </StrictMode>,
      );
      await shows('state', 'connected');
      await shows('members', 'Bo,Ann');
      expect(herald.sent.filter((f) => f.event === 'pusher:subscribe')).toHaveLength(1);

      act(() => herald.memberAdded('presence-room', 'cy', { name: 'Cy' }));
      await shows('members', 'Bo,Ann,Cy');
      act(() => {
        herald.emit('presence-room', 'message', { text: 'hi' }, { userId: 'bo' });
      });
      await shows('lines', 'hi');

      act(() => {
        void publishApi!.publish({ text: 'yo' }, 'p1');
      });
      await waitFor(() => expect(herald.pendingPublishes.map((p) => p.id)).toEqual(['p1']));
      await shows('mine', 'yo:pending');
      act(() => {
        herald.ack('p1');
      });
      await shows('mine', 'yo:sent');

      // The server closes with 4200: the client reconnects at once and resumes.
      act(() => herald.disconnect());
      await waitFor(() => expect(herald.connectionCount).toBe(2));
      await shows('state', 'connected');
      await waitFor(() => expect(herald.channels).toEqual(['presence-room']));
      act(() => {
        herald.emit('presence-room', 'message', { text: 'again' });
      });
      await shows('lines', 'hi,again');
    } finally {
      client.close();
    }
  });
});
