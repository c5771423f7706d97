import { liveQuery } from 'dexie';
import { useEffect, useState } from 'react';
import { useRuntime } from './SyncflowProvider.ts';

/**
 * How many local changes are not yet on the server (for an "unsynced" badge), kept current:
 * Dexie's `liveQuery` counts again after every commit and every sync, from any tab of the app.
 * `undefined` until the first count.
 *
 * @example
 * const pending = usePendingCount();
 */
export function usePendingCount(): number | undefined {
  const runtime = useRuntime();
  const [count, setCount] = useState<number | undefined>(undefined);
  useEffect(() => {
    // One subscription, so counts arrive in commit order (two racing reads could not overwrite a newer one).
    const subscription = liveQuery(() => runtime.store.pendingCount()).subscribe({
      next: setCount,
      error: (e: unknown) => console.error('syncflow usePendingCount', e),
    });
    return () => subscription.unsubscribe();
  }, [runtime]);
  return count;
}
