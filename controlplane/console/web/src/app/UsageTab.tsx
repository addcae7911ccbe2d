import { UsageView } from '../usage/UsageView';
import type { AppTabProps } from './tabs';

/** The app's usage charts and numbers. */
export function UsageTab({ app }: AppTabProps) {
  return <UsageView scope={{ kind: 'apps', id: app.id }} />;
}
