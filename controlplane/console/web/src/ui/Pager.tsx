import { useState } from 'preact/hooks';

/**
 * Cursor paging as the API does it: the current cursor, and the cursors
 * of the pages before it to go back.
 */
export function useCursor() {
  const [stack, setStack] = useState<string[]>([]);
  const [cursor, setCursor] = useState<string>('');
  return {
    cursor,
    page: stack.length + 1,
    next: (c: string) => {
      setStack([...stack, cursor]);
      setCursor(c);
    },
    prev: () => {
      setCursor(stack[stack.length - 1] ?? '');
      setStack(stack.slice(0, -1));
    },
    reset: () => {
      setStack([]);
      setCursor('');
    },
  };
}

interface Props {
  pager: ReturnType<typeof useCursor>;
  nextCursor: string | null | undefined;
}

export function Pager({ pager, nextCursor }: Props) {
  if (pager.page === 1 && !nextCursor) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" class="btn small" disabled={pager.page === 1} onClick={pager.prev} data-testid="prev-page">
        Previous
      </button>
      <span class="muted">Page {pager.page}</span>
      <button type="button" class="btn small" disabled={!nextCursor} onClick={() => nextCursor && pager.next(nextCursor)} data-testid="next-page">
        Next
      </button>
    </nav>
  );
}
