import { href } from '../router';
import { Page } from '../ui/Page';

export function NotFound() {
  return (
    <Page title="Not found">
      <p>
        There is no such page. <a href={href('apps')}>Go to the apps.</a>
      </p>
    </Page>
  );
}
