import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

interface Props {
  /** The button's text. */
  children: ComponentChildren;
  /** The question asked before acting, e.g. "Revoke key abc?". */
  question: string;
  /** The confirming button's text (default: the button's). */
  confirmLabel?: string;
  onConfirm: () => void | Promise<void>;
  danger?: boolean;
  disabled?: boolean;
  testId?: string;
}

/**
 * A button that asks before it acts: the question and a confirm and a
 * cancel button appear in its place, focus on cancel (the safe choice);
 * Escape cancels.
 */
export function ConfirmButton({ children, question, confirmLabel, onConfirm, danger = true, disabled, testId }: Props) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    if (asking) cancelRef.current?.focus();
    else if (wasAsking.current) openRef.current?.focus();
    wasAsking.current = asking;
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" ref={openRef} class={danger ? 'btn danger' : 'btn'} disabled={disabled} onClick={() => setAsking(true)} data-testid={testId}>
        {children}
      </button>
    );
  }
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
      setAsking(false);
    }
  };
  return (
    <span class="confirm" role="group" aria-label={question} onKeyDown={(e) => e.key === 'Escape' && setAsking(false)}>
      <span class="confirm-question">{question}</span>
      <button type="button" class={danger ? 'btn danger' : 'btn primary'} disabled={busy} onClick={confirm} data-testid={testId && `${testId}-confirm`}>
        {confirmLabel ?? children}
      </button>
      <button type="button" class="btn" ref={cancelRef} disabled={busy} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
