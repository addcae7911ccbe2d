// The app settings the console edits, with what they mean
// (channels/app.go: Settings, its defaults and its bounds; the API checks
// them and names the field at fault).

export type SettingKind = 'bool' | 'int' | 'list';

export interface SettingDef {
  /** The JSON name under settings. */
  name: string;
  label: string;
  kind: SettingKind;
  hint: string;
}

export const settingDefs: SettingDef[] = [
  { name: 'client_events', label: 'Client events', kind: 'bool', hint: 'Let subscribers of private and presence channels send client-* events.' },
  { name: 'max_connections', label: 'Max connections', kind: 'int', hint: 'Concurrent connections of the app; 0 means no limit.' },
  { name: 'max_message_bytes', label: 'Max message bytes', kind: 'int', hint: 'Largest message a client or the API may send (1 to 1048576).' },
  { name: 'max_channels_per_publish', label: 'Max channels per publish', kind: 'int', hint: 'Channels one API publish may name (1 to 1000).' },
  { name: 'max_presence_members', label: 'Max presence members', kind: 'int', hint: 'Members of one presence channel (1 to 10000).' },
  { name: 'max_presence_user_info_bytes', label: 'Max presence user info bytes', kind: 'int', hint: "Size of a member's user_info (1 to 65536)." },
  { name: 'client_event_rate', label: 'Client event rate', kind: 'int', hint: 'Client events per second per connection (1 to 10000).' },
  { name: 'activity_timeout_s', label: 'Activity timeout (s)', kind: 'int', hint: 'Seconds of silence before the server pings a client (1 to 3600).' },
  {
    name: 'resume_window_s',
    label: 'Resume window (s)',
    kind: 'int',
    hint: 'How long a dropped connection may resume and get what it missed; 0 turns resume off.',
  },
  { name: 'history_retention_s', label: 'History retention (s)', kind: 'int', hint: 'How long channel history is kept; 0 keeps none.' },
  { name: 'cache_ttl_s', label: 'Cache TTL (s)', kind: 'int', hint: 'How long the last message of a cache-* channel is kept (1 to 604800).' },
  { name: 'allowed_origins', label: 'Allowed origins', kind: 'list', hint: 'One per line; browsers from other origins are refused. Empty allows all.' },
];
