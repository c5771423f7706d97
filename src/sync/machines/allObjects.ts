import { fromPromise, setup } from 'xstate';
import { PENDING_VERSION } from '../../store/fileContents.ts';
import type { SyncContext } from '../SyncContext.ts';
import { downloadEntity } from '../steps/downloadEntity.ts';
import { downloadFiles, type FileToFetch } from '../steps/downloadFiles.ts';
import { uploadChanges, type UploadOutcome } from '../steps/uploadChanges.ts';
import { uploadingFilesState, uploadPendingFiles, withDownloadedFiles } from './fileStates.ts';
import { finalStates, initialContext, machineOutput, syncMachineTypes, withUploadedChanges, workingState, type SyncMachineContext } from './shared.ts';

export interface FullDownloadOutcome {
  downloaded: number;
  removed: number;
  /** Per file entity, the objects whose contents are new or changed. */
  files: Array<{ entity: string; files: FileToFetch[] }>;
}

/** Upload every committed change; the store lists them targets first, deletes last. */
export const uploadAll = fromPromise<UploadOutcome, SyncContext>(async ({ input, signal }) => {
  const { changes, seq } = await input.store.pendingChangesAt();
  return uploadChanges(input, changes, signal, { listedAt: seq });
});

/**
 * Download every entity as the sync configuration says, then make the local synchronized
 * content equal to it: every written row is tagged with this run's id, and what the run did
 * not tag (deleted on the server, no longer readable) is removed — except rows with local
 * changes, which the next sync uploads.
 */
export const downloadAll = fromPromise<FullDownloadOutcome, SyncContext>(async ({ input: ctx, signal }) => {
  const tag = crypto.randomUUID();
  const outcome: FullDownloadOutcome = { downloaded: 0, removed: 0, files: [] };
  for (const entity of ctx.schema.order) {
    const setting = ctx.config[entity] ?? { download: 'all' };
    if (setting.download === 'nothing') continue;
    const isFileEntity = ctx.schema.entities[entity].file;
    // File contents are fetched only where the server has some (`$file`) and the object's
    // changedDate moved since they were stored (putFile on the server moves it).
    const known = isFileEntity ? await ctx.store.fileVersions(entity) : null;
    const changedFiles: FileToFetch[] = [];
    const droppedFiles: string[] = [];
    const result = await downloadEntity(
      ctx,
      entity,
      {
        constraint: setting.download === 'constraint' ? setting.constraint : undefined,
        tag,
        onBatch: known
          ? ({ objects }) => {
              for (const o of objects) {
                // Contents attached on the device and not uploaded yet are neither replaced nor dropped.
                if (known.get(o.id) === PENDING_VERSION) continue;
                if (o.$file == null) {
                  if (known.has(o.id)) droppedFiles.push(o.id);
                } else if (o.changedDate && known.get(o.id) !== o.changedDate) {
                  changedFiles.push({ id: o.id, version: o.changedDate });
                }
              }
            }
          : undefined,
      },
      signal,
    );
    await ctx.store.removeFiles(entity, droppedFiles);
    outcome.downloaded += result.downloaded;
    outcome.removed += await ctx.store.removeUntagged(entity, tag);
    if (changedFiles.length) outcome.files.push({ entity, files: changedFiles });
  }
  return outcome;
});

export const downloadChangedFiles = fromPromise<number, { sync: SyncContext; files: FullDownloadOutcome['files'] }>(
  async ({ input, signal }) => {
    let count = 0;
    for (const { entity, files } of input.files) count += await downloadFiles(input.sync, entity, files, signal);
    return count;
  },
);

type Context = SyncMachineContext & { files: FullDownloadOutcome['files'] };

/**
 * Synchronize, mode "all objects": upload, then download everything the user may read.
 *
 * uploading → uploadingFiles → downloading → downloadingFiles → done; any request failing → failed;
 * CANCEL → cancelled. Committed local changes stay marked until the server confirms them,
 * so a failed or cancelled run loses nothing and the next one resumes.
 */
export const allObjectsMachine = setup({
  types: syncMachineTypes<Context>(),
  actors: { uploadAll, uploadPendingFiles, downloadAll, downloadChangedFiles },
}).createMachine({
  id: 'allObjects',
  context: (args) => ({ ...initialContext(args), files: [] }),
  initial: 'uploading',
  states: {
    uploading: workingState({
      id: 'upload',
      src: 'uploadAll',
      input: (context) => context.sync,
      next: 'uploadingFiles',
      // Objects the upload's handlers deleted are removed now: the download's ghost cleaning no longer counts them.
      done: (context: Context, outcome: UploadOutcome) => ({ result: { ...withUploadedChanges(context.result, outcome), removed: outcome.deleted.length } }),
    }),
    uploadingFiles: uploadingFilesState<Context>('downloading', () => null),
    downloading: workingState({
      id: 'download',
      src: 'downloadAll',
      input: (context) => context.sync,
      next: 'downloadingFiles',
      done: (context: Context, outcome: FullDownloadOutcome) => ({
        result: { ...context.result, downloaded: outcome.downloaded, removed: context.result.removed + outcome.removed },
        files: outcome.files,
      }),
    }),
    downloadingFiles: workingState({
      id: 'files',
      src: 'downloadChangedFiles',
      input: (context) => ({ sync: context.sync, files: context.files }),
      next: 'done',
      done: (context: Context, downloaded: number) => ({ result: withDownloadedFiles(context.result, downloaded) }),
    }),
    ...finalStates,
  },
  output: machineOutput,
});
