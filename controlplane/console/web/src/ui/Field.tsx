import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

import { ApiError } from '../api';

interface Props {
  label: string;
  /** The validation message shown beside the input, if any. */
  error?: string;
  hint?: ComponentChildren;
  /** The API's name of the input (e.g. settings.max_connections); marks the field for tests. */
  name?: string;
  /** Renders the input with the ids that tie it to its label and message. */
  children: (ids: { id: string; describedBy?: string; invalid: boolean }) => ComponentChildren;
}

/** A labelled input with its hint and validation message. */
export function Field({ label, error, hint, name, children }: Props) {
  const id = useId();
  const errId = `${id}-err`;
  const hintId = `${id}-hint`;
  const describedBy = [error ? errId : '', hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${error ? ' invalid' : ''}`} data-field={name}>
      <label for={id}>{label}</label>
      {children({ id, describedBy, invalid: !!error })}
      {hint && (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={errId} role="alert" data-testid="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** The API's message when err names field, else undefined. */
export function fieldError(err: unknown, field: string): string | undefined {
  return err instanceof ApiError && err.field === field ? err.message : undefined;
}

/** An error the form shows at its top: any error no field shows. */
export function formError(err: unknown, shownFields: string[]): Error | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err instanceof ApiError && err.field && shownFields.includes(err.field)) return undefined;
  return err;
}
