import { assign, fromPromise, setup } from 'xstate';
import type { SyncContext } from '../SyncContext.ts';
import { downloadEntity } from '../steps/downloadEntity.ts';
import { downloadFiles } from '../steps/downloadFiles.ts';
import { uploadChanges, type UploadOutcome } from '../steps/uploadChanges.ts';
import { errorOf, initialContext, outputOf, type SyncMachineContext, type SyncMachineInput, type SyncMachineOutput } from './shared.ts';

export interface FullDownloadOutcome {
  downloaded: number;
  removed: number;
  /** Per file entity, the objects whose contents are new or changed. */
  files: Array<{ entity: string; ids: string[] }>;
}

/** Upload every committed change; the store lists them targets first, deletes last. */
export const uploadAll = fromPromise<UploadOutcome, SyncContext>(async ({ input, signal }) =>
  uploadChanges(input, await input.store.pendingChanges(), signal),
);

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
    // File contents are fetched only for objects that are new or changed since the last download.
    const known = isFileEntity ? await localVersions(ctx, entity) : null;
    const changedFiles: string[] = [];
    const result = await downloadEntity(
      ctx,
      entity,
      {
        constraint: setting.download === 'constraint' ? setting.constraint : undefined,
        tag,
        onBatch: known
          ? ({ objects }) => {
              for (const o of objects) if (known.get(o.id) !== o.changedDate) changedFiles.push(o.id);
            }
          : undefined,
      },
      signal,
    );
    outcome.downloaded += result.downloaded;
    outcome.removed += await ctx.store.removeUntagged(entity, tag);
    if (changedFiles.length) outcome.files.push({ entity, ids: changedFiles });
  }
  return outcome;
});

async function localVersions(ctx: SyncContext, entity: string): Promise<Map<string, string | null>> {
  const objects = await ctx.store.query(entity);
  const versions = new Map<string, string | null>();
  for (const o of objects) versions.set(o.id, (await ctx.store.getFile(entity, o.id)) ? o.changedDate : null);
  return versions;
}

export const downloadChangedFiles = fromPromise<number, { sync: SyncContext; files: FullDownloadOutcome['files'] }>(
  async ({ input, signal }) => {
    let count = 0;
    for (const { entity, ids } of input.files) count += await downloadFiles(input.sync, entity, ids, signal);
    return count;
  },
);

/**
 * Synchronize, mode "all objects": upload, then download everything the user may read.
 *
 * uploading → downloading → downloadingFiles → done; any request failing → failed;
 * CANCEL → cancelled. Committed local changes stay marked until the server confirms them,
 * so a failed or cancelled run loses nothing and the next one resumes.
 */
export const allObjectsMachine = setup({
  types: {
    input: {} as SyncMachineInput,
    context: {} as SyncMachineContext & { files: FullDownloadOutcome['files'] },
    events: {} as { type: 'CANCEL' },
    output: {} as SyncMachineOutput,
  },
  actors: { uploadAll, downloadAll, downloadChangedFiles },
}).createMachine({
  id: 'allObjects',
  context: (args) => ({ ...initialContext(args), files: [] }),
  initial: 'uploading',
  states: {
    uploading: {
      invoke: {
        id: 'upload',
        src: 'uploadAll',
        input: ({ context }) => context.sync,
        onDone: {
          target: 'downloading',
          actions: assign({
            result: ({ context, event }) => ({
              ...context.result,
              uploaded: event.output.uploaded,
              failed: event.output.failures.length,
              failures: event.output.failures,
              removedIds: event.output.removedIds,
            }),
          }),
        },
        onError: { target: 'failed', actions: assign({ error: errorOf }) },
      },
      on: { CANCEL: 'cancelled' },
    },
    downloading: {
      invoke: {
        id: 'download',
        src: 'downloadAll',
        input: ({ context }) => context.sync,
        onDone: {
          target: 'downloadingFiles',
          actions: assign({
            result: ({ context, event }) => ({
              ...context.result,
              downloaded: event.output.downloaded,
              removed: event.output.removed,
            }),
            files: ({ event }) => event.output.files,
          }),
        },
        onError: { target: 'failed', actions: assign({ error: errorOf }) },
      },
      on: { CANCEL: 'cancelled' },
    },
    downloadingFiles: {
      invoke: {
        id: 'files',
        src: 'downloadChangedFiles',
        input: ({ context }) => ({ sync: context.sync, files: context.files }),
        onDone: 'done',
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
