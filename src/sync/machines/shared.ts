import { assign, type DoneActorEvent, type ErrorActorEvent } from 'xstate';
import { toSyncflowError, type SyncflowError } from '../../errors.ts';
import type { SyncContext } from '../SyncContext.ts';
import type { UploadOutcome } from '../steps/uploadChanges.ts';
import type { SyncMode, SyncRequest, SyncResult } from '../types.ts';

/** Input of every Synchronize machine. */
export interface SyncMachineInput {
  sync: SyncContext;
  request: SyncRequest;
}

/** The one event a Synchronize machine takes from outside. */
export type SyncMachineEvent = { type: 'CANCEL' };

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

/** The run's result after its objects' upload. */
export function withUploadedChanges(result: SyncResult, outcome: UploadOutcome): SyncResult {
  return { ...result, uploaded: outcome.uploaded, failed: outcome.failures.length, failures: outcome.failures, removedIds: outcome.removedIds };
}

/**
 * The run's result after the upload of a mode that refreshes (unsynchronized, selected):
 * `downloaded` counts the objects stored with the server's version, first those the upload's
 * answers brought (`answered`: not fetched again), then those the refresh adds.
 */
export function withAnsweredObjects(result: SyncResult, outcome: UploadOutcome): SyncResult {
  return { ...withUploadedChanges(result, outcome), downloaded: outcome.answered.length };
}

export function initialContext({ input }: { input: SyncMachineInput }): SyncMachineContext {
  return { sync: input.sync, request: input.request, result: emptyResult(input.request.mode), error: null };
}

export function emptyResult(mode: SyncMode): SyncResult {
  return { mode, uploaded: 0, downloaded: 0, removed: 0, failed: 0, failures: [], skipped: [], removedIds: [] };
}

/** The `error` of an `xstate.error.actor.*` event, mapped once to a typed error. */
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

/** The `types` of a Synchronize machine's setup, with its own context `C`. */
export function syncMachineTypes<C extends SyncMachineContext>() {
  return {
    input: {} as SyncMachineInput,
    context: {} as C,
    events: {} as SyncMachineEvent,
    output: {} as SyncMachineOutput,
  };
}

/** A Synchronize machine's output: its final state's. */
export const machineOutput = ({ event }: { event: { output?: unknown } }) => event.output as SyncMachineOutput;

/** The three final states every Synchronize machine ends in (spread into its `states`). */
export const finalStates = {
  done: { type: 'final', output: outputOf('done') },
  failed: { type: 'final', output: outputOf('failed') },
  cancelled: { type: 'final', output: outputOf('cancelled') },
} as const;

/**
 * A working state of a Synchronize machine: invokes `src` (as `id`) with `input(context)`; when
 * it is done, `done` says what changes in the context and the machine goes to `next`; a failing
 * request goes to `failed`, CANCEL to `cancelled`. Every working state has this shape, so that a
 * failed or cancelled run always ends the same way. Annotate `done`'s parameters: the types
 * follow from them, and `src` and `input` are then checked against the machine's actors.
 */
export function workingState<C extends SyncMachineContext, O, S extends string, I>(spec: {
  id: string;
  src: S;
  input: (context: C) => I;
  next: string;
  /** What changes in the context (the machine's own fields, or only the shared ones). */
  done: (context: C, output: O) => Partial<C> | Partial<SyncMachineContext>;
}) {
  return {
    invoke: {
      id: spec.id,
      src: spec.src,
      input: ({ context }: { context: C }) => spec.input(context),
      onDone: {
        target: spec.next,
        actions: assign<C, DoneActorEvent<O>, undefined, SyncMachineEvent, never>(({ context, event }) => spec.done(context, event.output) as Partial<C>),
      },
      onError: { target: 'failed', actions: assign<C, ErrorActorEvent, undefined, SyncMachineEvent, never>((args) => ({ error: errorOf(args) }) as Partial<C>) },
    },
    on: { CANCEL: 'cancelled' },
  };
}
