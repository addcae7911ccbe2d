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

/** Whether the API's field path names field or an element of it: "settings.allowed_origins[2]" is the list's input's. */
function names(path: string | undefined, field: string): boolean {
  return path === field || (path?.startsWith(field + '[') ?? false);
}

/** The API's message when err names field (or an element of it), else undefined. */
export function fieldError(err: unknown, field: string): string | undefined {
  return err instanceof ApiError && names(err.field, field) ? err.message : undefined;
}

/** An error the form shows at its top: any error no field shows. */
export function formError(err: unknown, shownFields: string[]): Error | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err instanceof ApiError && shownFields.some((f) => names(err.field, f))) return undefined;
  return err;
}

interface TextFieldProps {
  label: string;
  /** The API's name of the input; its message shows when the API names it. */
  name: string;
  value: string;
  onValue: (v: string) => void;
  /** The last error of the form's action. */
  error: unknown;
  hint?: ComponentChildren;
  /** Numeric keyboards on phones. */
  numeric?: boolean;
  multiline?: boolean;
  testId?: string;
}

/** A labelled text input (or textarea) showing the API's message for its name. */
export function TextField({ label, name, value, onValue, error, hint, numeric, multiline, testId }: TextFieldProps) {
  return (
    <Field label={label} name={name} hint={hint} error={fieldError(error, name)}>
      {(f) => {
        const common = { id: f.id, 'aria-describedby': f.describedBy, 'aria-invalid': f.invalid, value, 'data-testid': testId };
        return multiline ? (
          <textarea {...common} rows={3} onInput={(e) => onValue(e.currentTarget.value)} />
        ) : (
          <input {...common} inputMode={numeric ? 'numeric' : undefined} onInput={(e) => onValue(e.currentTarget.value)} />
        );
      }}
    </Field>
  );
}
