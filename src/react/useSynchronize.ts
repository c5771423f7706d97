import { useCallback } from 'react';
import type { SyncMode, SyncResult } from '../sync/types.ts';
import { useRuntime } from './SyncflowProvider.ts';
import { useSyncStatus } from './useSyncStatus.ts';

export interface SynchronizeHandle {
  /** Runs one synchronization; rejects (SimultaneousSyncError, network, ...) as runtime.synchronize does. */
  synchronize(): Promise<SyncResult>;
  running: boolean;
  lastResult: SyncResult | null;
  lastError: { code: string; message: string } | null;
}

/**
 * A Synchronize of one mode (`all` or `unsynchronized`; selected objects go through a flow or
 * `runtime.synchronize`), with the status of the runtime's synchronization.
 *
 * @example
 * const { synchronize, running, lastError } = useSynchronize('unsynchronized');
 * <button disabled={running} onClick={() => synchronize().catch(() => {})}>Sync</button>
 */
export function useSynchronize(mode: Exclude<SyncMode, 'selected'>): SynchronizeHandle {
  const runtime = useRuntime();
  const status = useSyncStatus();
  const synchronize = useCallback(() => runtime.synchronize({ mode } as Parameters<typeof runtime.synchronize>[0]), [runtime, mode]);
  return { synchronize, running: status.running, lastResult: status.lastResult, lastError: status.lastError };
}
