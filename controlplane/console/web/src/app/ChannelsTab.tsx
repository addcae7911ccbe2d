import '../live/live.css';

import { useState } from 'preact/hooks';

import { get, seg } from '../api';
import { fmtNumber } from '../format';
import { useLoad } from '../hooks';
import { LiveTable } from '../live/LiveTable';
import { usePoll } from '../live/usePoll';
import { ErrorBox } from '../ui/ErrorBox';
import { Loading } from '../ui/Page';
import type { AppTabProps } from './tabs';

/** How often the occupied channels are read again while the tab is visible. */
export const CHANNELS_POLL_MS = 3000;
/** The most presence channels whose user counts are read per refresh. */
export const MAX_PRESENCE_DETAILS = 50;

const PRESENCE = 'presence-';

interface ChannelInfo {
  subscription_count?: number;
  user_count?: number;
}

interface ChannelRow extends ChannelInfo {
  name: string;
}

async function loadChannels(appId: string, prefix: string, signal: AbortSignal): Promise<ChannelRow[]> {
  const base = `/apps/${seg(appId)}/channels`;
  const list = await get<{ channels: Record<string, ChannelInfo> }>(base, { info: 'subscription_count', filter_by_prefix: prefix }, signal);
  const rows: ChannelRow[] = Object.entries(list.channels ?? {})
    .map(([name, info]) => ({ name, ...info }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const presence = rows.filter((r) => r.name.startsWith(PRESENCE)).slice(0, MAX_PRESENCE_DETAILS);
  await Promise.all(
    presence.map(async (r) => {
      try {
        const one = await get<ChannelInfo>(`${base}/${seg(r.name)}`, { info: 'user_count,subscription_count' }, signal);
        r.user_count = one.user_count;
        r.subscription_count = one.subscription_count ?? r.subscription_count;
      } catch {
        // The channel emptied between the two requests: keep the list's counts.
      }
    }),
  );
  return rows;
}

const kindOf = (name: string) =>
  name.startsWith(PRESENCE) ? 'presence' : name.startsWith('private-encrypted-') ? 'encrypted' : name.startsWith('private-') ? 'private' : name.startsWith('#') ? 'user' : 'public';

/** The app's occupied channels with their counts, and presence members, refreshed live. */
export function ChannelsTab({ app }: AppTabProps) {
  const [prefix, setPrefix] = useState('');
  const tick = usePoll(CHANNELS_POLL_MS);
  const chans = useLoad((signal) => loadChannels(app.id, prefix.trim(), signal), [app.id, prefix, tick]);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (name: string) => {
    const next = new Set(open);
    if (!next.delete(name)) next.add(name);
    setOpen(next);
  };
  const rows = chans.data ?? [];
  return (
    <div class="stack" data-testid="channels-tab" data-app={app.id}>
      <div class="toolbar">
        <label class="field">
          Channel name prefix
          <input value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} placeholder="e.g. presence-" data-testid="channels-prefix" />
        </label>
        <p class="muted small">
          Occupied channels across every gateway, refreshed every {CHANNELS_POLL_MS / 1000} s while this page is visible.
        </p>
        <button type="button" class="btn" onClick={chans.reload} data-testid="channels-refresh">
          Refresh now
        </button>
      </div>
      <ErrorBox error={chans.error} />
      {!chans.data && !chans.error ? (
        <Loading />
      ) : (
        <LiveTable
          testId="channels"
          caption="Occupied channels"
          head={[{ label: 'Channel' }, { label: 'Kind' }, { label: 'Subscriptions', numeric: true }, { label: 'Users', numeric: true }, { label: 'Members' }]}
          isEmpty={rows.length === 0}
          empty={prefix ? 'No occupied channel starts with this prefix.' : 'No occupied channels.'}
        >
          {rows.map((r) => (
            <ChannelEntry key={r.name} appId={app.id} row={r} open={open.has(r.name)} onToggle={() => toggle(r.name)} tick={tick} />
          ))}
        </LiveTable>
      )}
      <p class="muted small" aria-live="polite" data-testid="channels-total">
        {fmtNumber(rows.length)} occupied channel{rows.length === 1 ? '' : 's'}
      </p>
    </div>
  );
}

function ChannelEntry({ appId, row, open, onToggle, tick }: { appId: string; row: ChannelRow; open: boolean; onToggle: () => void; tick: number }) {
  const presence = row.name.startsWith(PRESENCE);
  return (
    <>
      <tr data-testid="channel-row" data-channel={row.name}>
        <td>
          <code>{row.name}</code>
        </td>
        <td>{kindOf(row.name)}</td>
        <td class="num" data-testid="subscription-count">
          {fmtNumber(row.subscription_count)}
        </td>
        <td class="num" data-testid="user-count">
          {presence ? fmtNumber(row.user_count) : ''}
        </td>
        <td>
          {presence && (
            <button type="button" class="btn small" aria-expanded={open ? 'true' : 'false'} onClick={onToggle} data-testid="members-toggle">
              {open ? 'Hide members' : 'Show members'}
            </button>
          )}
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={5}>
            <Members appId={appId} channel={row.name} tick={tick} />
          </td>
        </tr>
      )}
    </>
  );
}

/** A presence channel's users, read again at each refresh. */
function Members({ appId, channel, tick }: { appId: string; channel: string; tick: number }) {
  const users = useLoad((signal) => get<{ users: { id: string }[] }>(`/apps/${seg(appId)}/channels/${seg(channel)}/users`, undefined, signal), [appId, channel, tick]);
  if (users.error) return <ErrorBox error={users.error} />;
  if (!users.data) return <Loading />;
  if (users.data.users.length === 0) return <p class="muted">No members.</p>;
  return (
    <ul class="members" data-testid="members" aria-label={`Members of ${channel}`}>
      {users.data.users.map((u) => (
        <li key={u.id} data-testid="member">
          {u.id}
        </li>
      ))}
    </ul>
  );
}
