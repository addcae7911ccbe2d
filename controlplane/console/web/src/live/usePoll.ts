import { useEffect, useState } from 'preact/hooks';

/**
 * A number that grows every intervalMs while the page is visible (and at
 * once when it becomes visible again): a dependency that reloads live data.
 */
export function usePoll(intervalMs: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const bump = () => {
      if (document.visibilityState === 'visible') setTick((t) => t + 1);
    };
    const timer = setInterval(bump, intervalMs);
    document.addEventListener('visibilitychange', bump);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', bump);
    };
  }, [intervalMs]);
  return tick;
}
