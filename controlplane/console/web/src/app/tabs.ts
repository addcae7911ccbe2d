// The tabs of an app's page. To add one: write a component taking
// AppTabProps in its own file and add one line below; its id is its URL
// (#/apps/<app id>/<tab id>). The first tab is the default.

import type { ComponentType } from 'preact';

import type { App } from '../types';
import { ChannelsTab } from './ChannelsTab';
import { DebugTab } from './DebugTab';
import { HistoryTab } from './HistoryTab';
import { KeysTab } from './KeysTab';
import { SettingsTab } from './SettingsTab';
import { UsageTab } from './UsageTab';
import { WebhooksTab } from './WebhooksTab';

export interface AppTabProps {
  /** The app as the API last answered. */
  app: App;
  /** Call with the API's answer after a change, so every tab sees it. */
  onAppChange: (app: App) => void;
}

export interface AppTab {
  /** Its part of the URL. */
  id: string;
  label: string;
  component: ComponentType<AppTabProps>;
}

export const appTabs: AppTab[] = [
  { id: 'settings', label: 'Settings', component: SettingsTab },
  { id: 'keys', label: 'Keys', component: KeysTab },
  { id: 'debug', label: 'Debug console', component: DebugTab },
  { id: 'channels', label: 'Channels', component: ChannelsTab },
  { id: 'history', label: 'History', component: HistoryTab },
  { id: 'webhooks', label: 'Webhooks', component: WebhooksTab },
  { id: 'usage', label: 'Usage', component: UsageTab },
];
