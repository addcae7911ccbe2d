/** A source of numbers in [0, 1), like Math.random; injected in tests. */
export type RandomSource = () => number;

/** How reconnection attempts are spaced. */
export interface BackoffOptions {
  /** The first ceiling, doubled at each failed attempt (ms). */
  baseMs: number;
  /** The largest ceiling (ms). */
  maxMs: number;
  random: RandomSource;
}

/** Defaults: 1 s doubling up to 30 s. */
export const DEFAULT_BACKOFF_BASE_MS = 1_000;
export const DEFAULT_BACKOFF_MAX_MS = 30_000;

/**
 * The wait before attempt number `attempt` (0 for the first retry):
 * exponential backoff with full jitter, uniform in [0, min(max, base·2^n)),
 * so clients that lost the same server do not come back in step.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(opts.random() * ceiling);
}

/** What a close code asks the client to do (docs/protocol.md, "Codes"). */
export type CloseAction = 'fail' | 'backoff' | 'now' | 'token';

/** Pusher's close code ranges: 4000–4099 fatal, 4100–4199 back off, 4200–4299 at once. */
export function closeAction(code: number): CloseAction {
  if (code === 4009) return 'token';
  if (code >= 4000 && code < 4100) return 'fail';
  if (code >= 4200 && code < 4300) return 'now';
  return 'backoff';
}
