import type { ResumePoint, SyncDownTarget, SyncState, SyncUpdate } from '../../model/syncState.ts';
import type { SyncContext } from '../SyncContext.ts';
import { laterStamp, newId } from '../../model/values.ts';
import { downloadEntity } from '../steps/downloadEntity.ts';
import { endState, progressOf, startState } from './syncStates.ts';

/**
 * Runs a named sync down. `full` downloads everything the target matches and then removes the
 * sync's objects it did not write (ghosts; never locally modified ones); otherwise the run
 * continues an unfinished one strictly after its last stored batch, or fetches only what
 * changed after the last completed run's max time stamp (a defined sync that never ran has
 * none, so its first reSync is full).
 *
 * Batches arrive ordered by (changedDate, id) and each one is stored together with the
 * checkpoint that follows it, in one transaction. A stop, a crash or a network failure thus
 * resumes exactly after the last stored record: nothing is fetched twice and records sharing
 * one changedDate are not skipped (Salesforce resumes with `>=` on the time stamp alone and
 * refetches).
 */
export async function runSyncDown(
  ctx: SyncContext,
  state: SyncState,
  full: boolean,
  signal: AbortSignal,
  onUpdate: SyncUpdate,
): Promise<SyncState> {
  const target = state.target as SyncDownTarget;
  const fresh = (since: string | null): ResumePoint => ({ since, cursor: null, maxTimeStamp: null, run: newId() });
  const resume: ResumePoint = full ? fresh(null) : (state.resume ?? fresh(state.maxTimeStamp));
  let current = await startState(ctx, { ...state, resume }, onUpdate);

  let next = current;
  try {
    await downloadEntity(
      ctx,
      target.entity,
      {
        constraint: target.constraint,
        since: resume.since,
        cursor: resume.cursor,
        overwrite: state.options.mergeMode === 'overwrite',
        batchSize: state.options.batchSize,
        sync: {
          id: state.id,
          run: resume.run,
          // The state after this batch, stored in the batch's transaction; it becomes the
          // current state only once that transaction has committed.
          checkpoint: (batch) =>
            (next = {
              ...current,
              progress: progressOf(batch.done, batch.total),
              totalSize: batch.total,
              resume: { ...resume, cursor: batch.cursor, maxTimeStamp: laterStamp(resume.maxTimeStamp, batch.maxChangedDate) },
            }),
        },
        onBatch: () => {
          current = next;
          onUpdate(current);
        },
      },
      signal,
    );
    if (resume.since === null) {
      // A full run wrote everything the target holds now: what it did not write is gone on the
      // server or no longer matches (ghosts), removed as cleanResyncGhosts would.
      const stale = await ctx.store.staleSyncRowIds(state.id, resume.run);
      await ctx.store.releaseSyncRows(state.id, target.entity, stale);
    }
  } catch (error) {
    // The last checkpoint is already stored with its batch: keep it, so reSync resumes there.
    return endState(ctx, current, signal.aborted ? 'stopped' : 'failed', error, onUpdate);
  }
  const maxTimeStamp = laterStamp(state.maxTimeStamp, current.resume?.maxTimeStamp ?? null);
  return endState(ctx, { ...current, maxTimeStamp, resume: null, progress: 100 }, 'done', null, onUpdate);
}
