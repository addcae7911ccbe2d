import type { ComponentChildren } from 'preact';

/** A header cell: its text; numeric right-aligns it. */
export interface HeadCell {
  label: string;
  numeric?: boolean;
}

interface Props {
  caption: string;
  head: HeadCell[];
  /** Shown in one row across the table when there are no rows. */
  empty: ComponentChildren;
  isEmpty: boolean;
  testId?: string;
  class?: string;
  /** The rows (tr elements): unlike ui/Table, rows of their own making (expansions, data attributes). */
  children: ComponentChildren;
}

/** A table of the live pages: caption, header, rows or the empty text. */
export function LiveTable({ caption, head, empty, isEmpty, testId, class: cls, children }: Props) {
  return (
    <div class="table-wrap">
      <table data-testid={testId} class={cls}>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {head.map((c, i) => (
              <th scope="col" key={i} class={c.numeric ? 'num' : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {isEmpty ? (
            <tr>
              <td class="empty" colSpan={head.length}>
                {empty}
              </td>
            </tr>
          ) : (
            children
          )}
        </tbody>
      </table>
    </div>
  );
}
