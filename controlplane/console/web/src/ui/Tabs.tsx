import { useEffect, useRef } from 'preact/hooks';

import { navigate } from '../router';

export interface TabLink {
  id: string;
  label: string;
}

interface Props {
  tabs: TabLink[];
  current: string;
  /** The route of a tab, as parts for navigate/href. */
  route: (id: string) => string[];
  label: string;
}

/**
 * Tabs that are links (each has its own URL, so a reload keeps it) with
 * the keyboard of a tab list: Left/Right (and Home/End) move to and open
 * the neighbour; Tab leaves the list.
 */
export function Tabs({ tabs, current, route, label }: Props) {
  const listRef = useRef<HTMLDivElement>(null);
  // Set by an arrow key: the focus follows once the new tab is rendered
  // as the selected one (the route changes asynchronously).
  const moved = useRef(false);
  useEffect(() => {
    if (!moved.current) return;
    moved.current = false;
    listRef.current?.querySelector<HTMLElement>('[aria-selected="true"]')?.focus();
  }, [current]);
  const onKeyDown = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.id === current);
    let next = -1;
    if (e.key === 'ArrowRight') next = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = tabs.length - 1;
    if (next < 0) return;
    e.preventDefault();
    if (next === i) return;
    moved.current = true;
    navigate(...route(tabs[next].id));
  };
  return (
    <div class="tabs" role="tablist" aria-label={label} ref={listRef} onKeyDown={onKeyDown}>
      {tabs.map((t) => {
        const selected = t.id === current;
        return (
          <a
            key={t.id}
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={selected ? 'true' : 'false'}
            aria-controls="tabpanel"
            tabIndex={selected ? 0 : -1}
            class={selected ? 'tab selected' : 'tab'}
            href={'#/' + route(t.id).map(encodeURIComponent).join('/')}
            data-testid={`tab-${t.id}`}
          >
            {t.label}
          </a>
        );
      })}
    </div>
  );
}
