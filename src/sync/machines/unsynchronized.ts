import { fromPromise, setup } from 'xstate';
import type { SyncContext } from '../SyncContext.ts';
import { groupBy } from '../steps/chunk.ts';
import { refreshObjects } from '../steps/refreshObjects.ts';
import type { UploadOutcome } from '../steps/uploadChanges.ts';
import type { ObjectRef } from '../../transport/wire.ts';
import { uploadAll } from './allObjects.ts';
import { downloadingRefreshedFilesState, downloadRefreshedContents, uploadingFilesState, uploadPendingFiles } from './fileStates.ts';
import { finalStates, initialContext, machineOutput, syncMachineTypes, withAnsweredObjects, workingState, type SyncMachineContext } from './shared.ts';

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
 * from the server, adds what it stored to `downloaded` and what it removed to what the upload
 * removed, then goes to `next`.
 */
export function refreshingState<C extends SyncMachineContext>(next: string, objects: (context: C) => RefreshInput['objects']) {
  return workingState({
    id: 'refresh',
    src: 'refreshAll',
    input: (context: C) => ({ sync: context.sync, objects: objects(context) }),
    next,
    done: (context: C, outcome: { refreshed: number; removedIds: string[] }) => {
      const removedIds = [...context.result.removedIds, ...outcome.removedIds];
      const downloaded = context.result.downloaded + outcome.refreshed;
      return { result: { ...context.result, downloaded, removed: removedIds.length, removedIds } };
    },
  });
}

type Context = SyncMachineContext & { uploaded: ObjectRef[]; toRefresh: ObjectRef[] };

/**
 * Synchronize, mode "unsynchronized objects": upload every committed change, deletions
 * included, then bring exactly the uploaded objects up to the server's version (its event
 * handlers may have calculated attributes). The upload's answers carry most of them: only
 * those they do not settle are refreshed (see UploadOutcome.toRefresh), and the contents of the
 * uploaded objects of file entities are downloaded where the server has others. Its cost
 * follows the number of changes, not the store.
 *
 * uploading → uploadingFiles → refreshing → downloadingFiles → done; a failing request → failed; CANCEL → cancelled.
 */
export const unsynchronizedMachine = setup({
  types: syncMachineTypes<Context>(),
  actors: { uploadAll, uploadPendingFiles, refreshAll, downloadRefreshedContents },
}).createMachine({
  id: 'unsynchronized',
  context: (args) => ({ ...initialContext(args), uploaded: [], toRefresh: [] }),
  initial: 'uploading',
  states: {
    uploading: workingState({
      id: 'upload',
      src: 'uploadAll',
      input: (context) => context.sync,
      next: 'uploadingFiles',
      done: (context: Context, outcome: UploadOutcome) => ({
        result: withAnsweredObjects(context.result, outcome),
        uploaded: outcome.applied,
        toRefresh: outcome.toRefresh,
      }),
    }),
    uploadingFiles: uploadingFilesState<Context>('refreshing', () => null),
    refreshing: refreshingState<Context>('downloadingFiles', (context) => context.toRefresh),
    downloadingFiles: downloadingRefreshedFilesState<Context>('done', (context) => context.uploaded),
    ...finalStates,
  },
  output: machineOutput,
});
