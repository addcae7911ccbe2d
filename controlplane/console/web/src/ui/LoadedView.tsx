import type { ComponentChildren } from 'preact';

import type { Loaded } from '../hooks';
import { ErrorBox } from './ErrorBox';
import { Loading } from './Page';

/** What a load gave: its error, "Loading…" until data, then children(data). */
export function LoadedView<T>({ value, children }: { value: Loaded<T>; children: (data: T) => ComponentChildren }) {
  return (
    <>
      <ErrorBox error={value.error} />
      {value.data !== undefined ? children(value.data) : !value.error && <Loading />}
    </>
  );
}
