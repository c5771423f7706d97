import { fromPromise, setup } from 'xstate';
import type { SyncContext } from '../SyncContext.ts';
import { groupBy } from '../steps/chunk.ts';
import { refreshObjects } from '../steps/refreshObjects.ts';
import type { UploadOutcome } from '../steps/uploadChanges.ts';
import { uploadAll } from './allObjects.ts';
import { downloadingRefreshedFilesState, downloadRefreshedContents, uploadingFilesState, uploadPendingFiles } from './fileStates.ts';
import { finalStates, initialContext, machineOutput, syncMachineTypes, withUploadedChanges, workingState, type SyncMachineContext } from './shared.ts';

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
 * The `refreshing` state (actor `refreshAll`, invoke id `refresh`): refreshes `objects(context)`
 * from the server, counts what it removed with what the upload removed, then goes to `next`.
 */
export function refreshingState<C extends SyncMachineContext>(next: string, objects: (context: C) => RefreshInput['objects']) {
  return workingState({
    id: 'refresh',
    src: 'refreshAll',
    input: (context: C) => ({ sync: context.sync, objects: objects(context) }),
    next,
    done: (context: C, outcome: { refreshed: number; removedIds: string[] }) => {
      const removedIds = [...context.result.removedIds, ...outcome.removedIds];
      return { result: { ...context.result, downloaded: outcome.refreshed, removed: removedIds.length, removedIds } };
    },
  });
}

type Context = SyncMachineContext & { toRefresh: Array<{ entity: string; id: string }> };

/**
 * Synchronize, mode "unsynchronized objects": upload every committed change, deletions
 * included, then refresh exactly the uploaded objects from the server (its event handlers
 * may have calculated attributes). Its cost follows the number of changes, not the store.
 *
 * uploading → uploadingFiles → refreshing → downloadingFiles → done; a failing request → failed; CANCEL → cancelled.
 */
export const unsynchronizedMachine = setup({
  types: syncMachineTypes<Context>(),
  actors: { uploadAll, uploadPendingFiles, refreshAll, downloadRefreshedContents },
}).createMachine({
  id: 'unsynchronized',
  context: (args) => ({ ...initialContext(args), toRefresh: [] }),
  initial: 'uploading',
  states: {
    uploading: workingState({
      id: 'upload',
      src: 'uploadAll',
      input: (context) => context.sync,
      next: 'uploadingFiles',
      done: (context: Context, outcome: UploadOutcome) => ({ result: withUploadedChanges(context.result, outcome), toRefresh: outcome.applied }),
    }),
    uploadingFiles: uploadingFilesState<Context>('refreshing', () => null),
    refreshing: refreshingState<Context>('downloadingFiles', (context) => context.toRefresh),
    downloadingFiles: downloadingRefreshedFilesState<Context>('done', (context) => context.toRefresh),
    ...finalStates,
  },
  output: machineOutput,
});
