import type { ComponentChildren } from 'preact';

import { useTitle } from '../hooks';

/** A page's heading, its actions on the right, and its content. */
export function Page({ title, actions, children, sub }: { title: string; actions?: ComponentChildren; sub?: ComponentChildren; children: ComponentChildren }) {
  useTitle(title);
  return (
    <section class="page">
      <header class="page-head">
        <div>
          <h1 tabIndex={-1}>{title}</h1>
          {sub && <p class="muted sub">{sub}</p>}
        </div>
        {actions && <div class="actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function Loading() {
  return (
    <p class="muted loading" aria-busy="true">
      Loading…
    </p>
  );
}
