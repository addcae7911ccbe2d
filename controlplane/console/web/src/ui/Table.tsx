import type { ComponentChildren } from 'preact';

export interface Column<T> {
  /** The header text. */
  label: string;
  render: (row: T) => ComponentChildren;
  /** Right-aligns the column (numbers). */
  numeric?: boolean;
  /** Keeps the cells on one line (ids, times). */
  nowrap?: boolean;
}

interface Props<T> {
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string | number;
  /** Shown in place of the rows when there are none. */
  empty?: ComponentChildren;
  caption?: string;
  testId?: string;
}

function cellClass<T>(c: Column<T>): string | undefined {
  return [c.numeric ? 'num' : '', c.nowrap ? 'nowrap' : ''].filter(Boolean).join(' ') || undefined;
}

/** A data table; cells are text or elements, never raw HTML. */
export function Table<T>({ columns, rows, rowKey, empty = 'Nothing yet.', caption, testId }: Props<T>) {
  return (
    <div class="table-wrap">
      <table data-testid={testId}>
        {caption && <caption class="visually-hidden">{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" class={cellClass(c)} key={c.label}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td class="empty" colSpan={columns.length}>
                {empty}
              </td>
            </tr>
          ) : (
            rows.map((r) => (
              <tr key={rowKey(r)}>
                {columns.map((c) => (
                  <td class={cellClass(c)} key={c.label}>
                    {c.render(r)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
