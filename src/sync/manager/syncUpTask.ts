import type { SyncState, SyncUpdate, SyncUpTarget } from '../../model/syncState.ts';
import type { SyncContext } from '../SyncContext.ts';
import { uploadChanges } from '../steps/uploadChanges.ts';
import { endState, progressOf, startState } from './syncStates.ts';

/**
 * Runs a named sync up: uploads the entity's committed local changes (deletions included),
 * limited to the target's fields. Local change marks are the delta: a reSync uploads exactly
 * what changed since the last one, and a stopped run resumes with what is still marked.
 * Refused changes become SynchronizationFailures, as in every upload.
 */
export async function runSyncUp(ctx: SyncContext, state: SyncState, signal: AbortSignal, onUpdate: SyncUpdate): Promise<SyncState> {
  const target = state.target as SyncUpTarget;
  let current = await startState(ctx, state, onUpdate);
  try {
    const listed = await ctx.store.pendingChangesAt();
    const changes = listed.changes.filter((c) => c.entity === target.entity);
    current = { ...current, totalSize: changes.length };
    onUpdate(current);
    await uploadChanges(
      {
        ...ctx,
        onProgress: (p) => {
          current = { ...current, progress: progressOf(p.done, p.total) };
          onUpdate(current);
        },
      },
      changes,
      signal,
      { fields: target.fields, leaveIfChanged: state.options.mergeMode === 'leaveIfChanged', listedAt: listed.seq },
    );
  } catch (error) {
    return endState(ctx, current, signal.aborted ? 'stopped' : 'failed', error, onUpdate);
  }
  return endState(ctx, { ...current, progress: 100 }, 'done', null, onUpdate);
}
