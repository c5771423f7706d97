import { assign, fromPromise, setup } from 'xstate';
import type { SyncContext } from '../SyncContext.ts';
import { groupBy } from '../steps/chunk.ts';
import { refreshObjects } from '../steps/refreshObjects.ts';
import { uploadAll } from './allObjects.ts';
import { downloadRefreshedContents, uploadPendingFiles, withDownloadedFiles, withUploadedFiles } from './fileStates.ts';
import { errorOf, initialContext, outputOf, type SyncMachineContext, type SyncMachineInput, type SyncMachineOutput } from './shared.ts';

export interface RefreshInput {
  sync: SyncContext;
  objects: ReadonlyArray<{ entity: string; id: string }>;
}

/** Refreshes objects of several entities from the server; reports what it removed. */
export const refreshAll = fromPromise<{ refreshed: number; removedIds: string[] }, RefreshInput>(
  async ({ input, signal }) => {
    const out = { refreshed: 0, removedIds: [] as string[] };
    for (const [entity, group] of groupBy(input.objects, (o) => o.entity)) {
      const r = await refreshObjects(input.sync, entity, group.map((o) => o.id), signal);
      out.refreshed += r.refreshed;
      out.removedIds.push(...r.removedIds);
    }
    return out;
  },
);

/**
 * Synchronize, mode "unsynchronized objects": upload every committed change, deletions
 * included, then refresh exactly the uploaded objects from the server (its event handlers
 * may have calculated attributes). Its cost follows the number of changes, not the store.
 *
 * uploading → uploadingFiles → refreshing → downloadingFiles → done; a failing request → failed; CANCEL → cancelled.
 */
export const unsynchronizedMachine = setup({
  types: {
    input: {} as SyncMachineInput,
    context: {} as SyncMachineContext & { toRefresh: Array<{ entity: string; id: string }> },
    events: {} as { type: 'CANCEL' },
    output: {} as SyncMachineOutput,
  },
  actors: { uploadAll, uploadPendingFiles, refreshAll, downloadRefreshedContents },
}).createMachine({
  id: 'unsynchronized',
  context: (args) => ({ ...initialContext(args), toRefresh: [] }),
  initial: 'uploading',
  states: {
    uploading: {
      invoke: {
        id: 'upload',
        src: 'uploadAll',
        input: ({ context }) => context.sync,
        onDone: {
          target: 'uploadingFiles',
          actions: assign({
            result: ({ context, event }) => ({
              ...context.result,
              uploaded: event.output.uploaded,
              failed: event.output.failures.length,
              failures: event.output.failures,
              removedIds: event.output.removedIds,
            }),
            toRefresh: ({ event }) => event.output.applied,
          }),
        },
        onError: { target: 'failed', actions: assign({ error: errorOf }) },
      },
      on: { CANCEL: 'cancelled' },
    },
    uploadingFiles: {
      invoke: {
        id: 'uploadFiles',
        src: 'uploadPendingFiles',
        input: ({ context }) => ({ sync: context.sync, only: null }),
        onDone: {
          target: 'refreshing',
          actions: assign({ result: ({ context, event }) => withUploadedFiles(context.result, event.output) }),
        },
        onError: { target: 'failed', actions: assign({ error: errorOf }) },
      },
      on: { CANCEL: 'cancelled' },
    },
    refreshing: {
      invoke: {
        id: 'refresh',
        src: 'refreshAll',
        input: ({ context }) => ({ sync: context.sync, objects: context.toRefresh }),
        onDone: {
          target: 'downloadingFiles',
          actions: assign({
            result: ({ context, event }) => {
              const removedIds = [...context.result.removedIds, ...event.output.removedIds];
              return { ...context.result, downloaded: event.output.refreshed, removed: removedIds.length, removedIds };
            },
          }),
        },
        onError: { target: 'failed', actions: assign({ error: errorOf }) },
      },
      on: { CANCEL: 'cancelled' },
    },
    downloadingFiles: {
      invoke: {
        id: 'files',
        src: 'downloadRefreshedContents',
        input: ({ context }) => ({ sync: context.sync, objects: context.toRefresh }),
        onDone: {
          target: 'done',
          actions: assign({ result: ({ context, event }) => withDownloadedFiles(context.result, event.output) }),
        },
        onError: { target: 'failed', actions: assign({ error: errorOf }) },
      },
      on: { CANCEL: 'cancelled' },
    },
    done: { type: 'final', output: outputOf('done') },
    failed: { type: 'final', output: outputOf('failed') },
    cancelled: { type: 'final', output: outputOf('cancelled') },
  },
  output: ({ event }) => event.output as SyncMachineOutput,
});
