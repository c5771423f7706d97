import { SyncflowError } from '../../errors.ts';

/** Steps check between requests, so a cancelled sync stops at a consistent point. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SyncflowError('sync_cancelled', 'The synchronization was cancelled');
}
