import { useSyncExternalStore } from 'react';
import type { SyncStatus } from '../sync/types.ts';
import { useRuntime } from './SyncflowProvider.ts';

/**
 * The live status of the synchronization (running, mode, machine state, phase, progress, the
 * last result or error), as the runtime's status store has it.
 *
 * @example
 * const { running, phase, done, total } = useSyncStatus();
 */
export function useSyncStatus(): SyncStatus {
  const { status } = useRuntime();
  return useSyncExternalStore(status.subscribe, status.getState, status.getState);
}
