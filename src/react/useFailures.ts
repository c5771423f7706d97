import { liveQuery } from 'dexie';
import { useCallback, useEffect, useState } from 'react';
import type { ChangeResult, SynchronizationFailure } from '../transport/wire.ts';
import { useRuntime } from './SyncflowProvider.ts';

export interface FailuresHandle {
  /** The SynchronizationFailures kept on this device, kept current; `undefined` until read. */
  failures: SynchronizationFailure[] | undefined;
  /** Asks the server to apply the change again (the failure goes when it applies). */
  retry(id: string): Promise<ChangeResult>;
  /** Gives the change up, on the server and on this device. */
  dismiss(id: string): Promise<void>;
}

/**
 * The changes the server could not apply, with retry and dismiss.
 *
 * @example
 * const { failures, retry, dismiss } = useFailures();
 */
export function useFailures(): FailuresHandle {
  const runtime = useRuntime();
  const [failures, setFailures] = useState<SynchronizationFailure[] | undefined>(undefined);
  useEffect(() => {
    const subscription = liveQuery(() => runtime.listFailures()).subscribe({
      next: setFailures,
      error: (e: unknown) => console.error('syncflow useFailures', e),
    });
    return () => subscription.unsubscribe();
  }, [runtime]);
  const retry = useCallback((id: string) => runtime.retryFailure(id), [runtime]);
  const dismiss = useCallback((id: string) => runtime.dismissFailure(id), [runtime]);
  return { failures, retry, dismiss };
}
