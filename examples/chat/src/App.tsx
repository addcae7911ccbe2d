import { useConnectionState, useHerald, usePresence, useRealtimeCache, useRealtimeMutation, useSubscription, useTyping } from '@herald/react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';

/** The rooms of this demo; each is the presence channel `presence-chat-<room>`. */
const ROOMS = ['general', 'random'];
/** How many messages a room shows from its history when opened. */
const HISTORY_LIMIT = 50;

interface Message {
  id: string;
  text: string;
  from: string;
  /** Only on this user's own messages until the server has them. */
  status?: 'pending' | 'sent' | 'failed';
}

export function App({ user, initialRoom }: { user: string; initialRoom: string }) {
  const [room, setRoom] = useState(initialRoom);
  return (
    <div className="app">
      <header>
        <h1>Herald chat</h1>
        <span data-testid="me">{user}</span>
        <ConnectionBadge />
      </header>
      <nav>
        {ROOMS.map((r) => (
          <button key={r} data-testid={`room-${r}`} aria-pressed={r === room} onClick={() => setRoom(r)}>
            #{r}
          </button>
        ))}
      </nav>
      <Room key={room} room={room} user={user} />
    </div>
  );
}

function ConnectionBadge() {
  const state = useConnectionState();
  return (
    <span data-testid="connection-status" data-state={state} className={`badge ${state}`}>
      {state}
    </span>
  );
}

function Room({ room, user }: { room: string; user: string }) {
  const channel = `presence-chat-${room}` as const;
  const key = ['messages', room];
  const herald = useHerald();
  const queryClient = useQueryClient();
  const { members } = usePresence<{ name: string }>(channel);
  const { users: typers, typing, stop } = useTyping(channel);
  // Others' messages arrive live (and, after a reconnection, through resume).
  useRealtimeCache<Message>(key, channel, { onAdd: 'message' });
  // History on open, merged with whatever arrived live meanwhile.
  const messages = useQuery({
    queryKey: key,
    queryFn: async () => {
      const page = await herald.history(channel, { limit: HISTORY_LIMIT, direction: 'backwards' });
      // The history holds every event of the channel, typing included.
      const past = page.items
        .filter((i) => i.event === 'message')
        .reverse()
        .map((i) => i.data as Message);
      const live = (queryClient.getQueryData<Message[]>(key) ?? []).filter((m) => !past.some((p) => p.id === m.id));
      return [...past, ...live];
    },
  });
  // This user's messages: shown at once, pending until the server's ack.
  const send = useRealtimeMutation<{ text: string }, { serial: number }, Message>(
    (v, { id }) => herald.publish(channel, 'message', { id, text: v.text, from: user }, { id }),
    { channel, matchEvent: 'message', queryKey: key, toItem: (v, id) => ({ id, text: v.text, from: user }) },
  );
  const [draft, setDraft] = useState('');
  // After a reconnection the channel resumes from its last message: the
  // server replays what was missed. When it cannot (away longer than the
  // app's resume window), read the room again.
  const subscription = useSubscription(channel);
  const [resume, setResume] = useState<'recovered' | 'filled' | 'refetched'>();
  useEffect(
    () =>
      subscription?.on('resumed', ({ recovered, filled }) => {
        setResume(recovered ? 'recovered' : filled ? 'filled' : 'refetched');
        if (!recovered && !filled) void queryClient.invalidateQueries({ queryKey: ['messages', room] });
      }),
    [subscription, queryClient, room],
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const text = draft.trim();
    if (!text) return;
    stop();
    setDraft('');
    void send.mutate({ text });
  };

  return (
    <main>
      <aside>
        <h2>Here</h2>
        <ul data-testid="presence">
          {members.map((m) => (
            <li key={m.id} data-testid="member">
              {m.info?.name ?? m.id}
            </li>
          ))}
        </ul>
      </aside>
      <section>
        <ol data-testid="messages" data-resume={resume}>
          {messages.isError && <li className="error">history unavailable</li>}
          {(messages.data ?? []).map((m) => (
            <li key={m.id} data-testid="message" data-status={m.status ?? 'stored'} className={m.status}>
              <b>{m.from}</b>: <span data-testid="text">{m.text}</span>
              {m.status === 'pending' && <small> sending…</small>}
              {m.status === 'failed' && (
                <button data-testid="retry" onClick={() => void send.retry(m.id)}>
                  retry
                </button>
              )}
            </li>
          ))}
        </ol>
        <p data-testid="typing" className="typing">
          {typers.length > 0 ? `${typers.join(', ')} ${typers.length === 1 ? 'is' : 'are'} typing…` : ''}
        </p>
        <form onSubmit={submit}>
          <input
            data-testid="composer"
            value={draft}
            placeholder={`Message #${room}`}
            onChange={(e) => {
              setDraft(e.target.value);
              if (e.target.value) typing();
              else stop();
            }}
          />
          <button type="submit">Send</button>
        </form>
      </section>
    </main>
  );
}
