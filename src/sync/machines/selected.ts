import { fromPromise, setup } from 'xstate';
import type { LocalChange, LocalObject } from '../../store/types.ts';
import type { SyncContext } from '../SyncContext.ts';
import type { ObjectRef } from '../../transport/wire.ts';
import type { SyncRequest } from '../types.ts';
import { uploadChanges, type UploadOutcome } from '../steps/uploadChanges.ts';
import { refreshAll, refreshingState } from './unsynchronized.ts';
import { downloadingRefreshedFilesState, downloadRefreshedContents, uploadingFilesState, uploadPendingFiles } from './fileStates.ts';
import { finalStates, initialContext, machineOutput, syncMachineTypes, withAnsweredObjects, workingState, type SyncMachineContext } from './shared.ts';

export interface Selection {
  /** Committed changes (creates and updates) of selected objects. */
  changes: LocalChange[];
  /** Selected objects without local changes: refreshed only. */
  unchanged: Array<{ entity: string; id: string }>;
  /** Ids of selected objects skipped because they are not committed. */
  skipped: string[];
}

/**
 * Sorts the selection: an object held uncommitted by the caller's session, or not in the
 * local database at all (never committed, or deleted: deletions are not synchronized in this
 * mode), is skipped; a committed change is uploaded; the rest is only refreshed. New objects
 * the selection refers to (directly or through other new objects) are uploaded with it.
 */
export const classifySelection = fromPromise<Selection, { sync: SyncContext; request: SyncRequest }>(
  async ({ input }) => {
    const selection: Selection = { changes: [], unchanged: [], skipped: [] };
    if (input.request.mode !== 'selected') return selection;
    const { objects, session } = input.request;
    const seen = new Set<string>();
    for (const object of flatten(objects)) {
      const key = `${object.$entity}:${object.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const stored = await input.sync.store.get(object.$entity, object.id);
      if (!stored || session?.isUncommitted(object)) {
        selection.skipped.push(object.id);
        continue;
      }
      const change = await input.sync.store.pendingChange(object.$entity, object.id);
      if (change && change.kind !== 'delete') selection.changes.push(change);
      else selection.unchanged.push({ entity: object.$entity, id: object.id });
    }
    await addReferencedCreates(input.sync, selection, seen);
    // Upload in the store's order: association targets before the objects that refer to them.
    const order = new Map(input.sync.schema.order.map((e, i) => [e, i]));
    selection.changes.sort((a, b) => order.get(a.entity)! - order.get(b.entity)! || a.seq - b.seq);
    return selection;
  },
);

/**
 * Adds the closure of the selection's references over objects created on the device that the
 * server has not confirmed yet: without them the server would refuse the selection's creates
 * as invalid (a reference to an object it does not have). A reference to an object that is on
 * the server already (no pending create) is not followed: it needs nothing.
 */
async function addReferencedCreates(sync: SyncContext, selection: Selection, seen: Set<string>): Promise<void> {
  const queue: Array<{ entity: string; id: string }> = [
    ...selection.changes.map((c) => ({ entity: c.entity, id: c.id })),
    ...selection.unchanged,
  ];
  while (queue.length) {
    const { entity, id } = queue.pop()!;
    const object = await sync.store.get(entity, id);
    if (!object) continue;
    for (const [name, association] of Object.entries(sync.schema.entities[entity].associations)) {
      const target = (object as Record<string, unknown>)[name];
      if (typeof target !== 'string') continue;
      const key = `${association.target}:${target}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const change = await sync.store.pendingChange(association.target, target);
      if (change?.kind !== 'create') continue;
      selection.changes.push(change);
      queue.push({ entity: association.target, id: target });
    }
  }
}

function* flatten(objects: ReadonlyArray<unknown>): Generator<LocalObject> {
  for (const o of objects) {
    if (Array.isArray(o)) yield* flatten(o);
    else if (o && typeof o === 'object' && '$entity' in o && 'id' in o) yield o as LocalObject;
  }
}

export const uploadSelected = fromPromise<UploadOutcome, { sync: SyncContext; changes: LocalChange[] }>(
  ({ input, signal }) => uploadChanges(input.sync, input.changes, signal),
);

type Context = SyncMachineContext & { selection: Selection; uploaded: ObjectRef[]; toRefresh: ObjectRef[] };

/**
 * Synchronize, mode "selected objects" (Mendix's semantics): uncommitted objects are
 * skipped; changed ones are uploaded and brought up to the server's version (by the upload's
 * answers, or by a refresh where those do not settle them: see UploadOutcome.toRefresh);
 * unchanged ones are refreshed. A selected object the server no longer has for this user is
 * removed locally and its discarded change kept as a SynchronizationFailure; `removedIds`
 * tells the flow which variables become empty.
 *
 * classifying → uploading → uploadingFiles → refreshing → downloadingFiles → done; a failing request → failed; CANCEL → cancelled.
 */
export const selectedMachine = setup({
  types: syncMachineTypes<Context>(),
  actors: { classifySelection, uploadSelected, uploadPendingFiles, refreshAll, downloadRefreshedContents },
}).createMachine({
  id: 'selected',
  context: (args) => ({ ...initialContext(args), selection: { changes: [], unchanged: [], skipped: [] }, uploaded: [], toRefresh: [] }),
  initial: 'classifying',
  states: {
    classifying: workingState({
      id: 'classify',
      src: 'classifySelection',
      input: (context) => ({ sync: context.sync, request: context.request }),
      next: 'uploading',
      done: (context: Context, selection: Selection) => ({ selection, result: { ...context.result, skipped: selection.skipped } }),
    }),
    uploading: workingState({
      id: 'upload',
      src: 'uploadSelected',
      input: (context) => ({ sync: context.sync, changes: context.selection.changes }),
      next: 'uploadingFiles',
      done: (context: Context, outcome: UploadOutcome) => ({
        result: withAnsweredObjects(context.result, outcome),
        // Refused objects were already reverted; those the answers settled are not fetched again.
        uploaded: outcome.applied,
        toRefresh: [...outcome.toRefresh, ...context.selection.unchanged.filter((o) => !outcome.deleted.some((d) => d.entity === o.entity && d.id === o.id))],
      }),
    }),
    uploadingFiles: uploadingFilesState<Context>('refreshing', (context) => [...context.uploaded, ...context.selection.unchanged]),
    refreshing: refreshingState<Context>('downloadingFiles', (context) => context.toRefresh),
    downloadingFiles: downloadingRefreshedFilesState<Context>('done', (context) => [...context.uploaded, ...context.selection.unchanged]),
    ...finalStates,
  },
  output: machineOutput,
});
