import { toSyncflowError, type SyncflowError } from '../../errors.ts';
import type { SyncContext } from '../SyncContext.ts';
import type { SyncMode, SyncRequest, SyncResult } from '../types.ts';

/** Input of every Synchronize machine. */
export interface SyncMachineInput {
  sync: SyncContext;
  request: SyncRequest;
}

export interface SyncMachineContext {
  sync: SyncContext;
  request: SyncRequest;
  result: SyncResult;
  error: SyncflowError | null;
}

/** Every Synchronize machine ends in one of these final states. */
export type SyncOutcomeState = 'done' | 'failed' | 'cancelled';

export interface SyncMachineOutput {
  state: SyncOutcomeState;
  result: SyncResult;
  error: SyncflowError | null;
}

export function initialContext({ input }: { input: SyncMachineInput }): SyncMachineContext {
  return { sync: input.sync, request: input.request, result: emptyResult(input.request.mode), error: null };
}

export function emptyResult(mode: SyncMode): SyncResult {
  return { mode, uploaded: 0, downloaded: 0, removed: 0, failed: 0, failures: [], skipped: [], removedIds: [] };
}

/** The `error` of an `xstate.error.actor.*` event, mapped once to a typed error (use as `assign({ error: errorOf })`). */
export function errorOf({ event }: { event: { error?: unknown } }): SyncflowError {
  return toSyncflowError(event.error);
}

export function outputOf(state: SyncOutcomeState) {
  return ({ context }: { context: SyncMachineContext }): SyncMachineOutput => ({
    state,
    result: context.result,
    error: context.error,
  });
}
