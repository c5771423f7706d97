import type { Constraint } from '../../model/constraint.ts';
import type { SyncObject } from '../../model/values.ts';
import { DEFAULT_BATCH, type DownloadResponse } from '../../transport/wire.ts';
import type { SyncContext } from '../SyncContext.ts';
import { throwIfCancelled } from './throwIfCancelled.ts';

export interface DownloadOptions {
  constraint?: Constraint;
  /** Incremental: only objects changed after this stamp. */
  since?: string | null;
  /** Resume after this cursor (a checkpoint of an earlier, stopped run). */
  cursor?: string | null;
  /** Stored on every written row: all-objects mode removes what a run did not tag. */
  tag?: string;
  /** Server values win over local changes (whose marks are cleared). Default: leave-if-changed. */
  overwrite?: boolean;
  batchSize?: number;
  /**
   * Called after each batch is stored locally, never before: a checkpoint saved here can
   * only point past rows that are safely in the store.
   */
  onBatch?: (batch: { cursor: string | null; maxChangedDate: string | null; objects: SyncObject[] }) => Promise<void> | void;
}

export interface DownloadOutcome {
  downloaded: number;
  skipped: number;
  cursor: string | null;
  maxChangedDate: string | null;
}

/**
 * Downloads one entity in batches ordered by (changedDate, id) and stores each batch.
 * The next batch is requested while the current one is written, so the network and the
 * local database work at the same time; the batches are still stored in order.
 */
export async function downloadEntity(
  ctx: SyncContext,
  entity: string,
  options: DownloadOptions = {},
  signal?: AbortSignal,
): Promise<DownloadOutcome> {
  const limit = options.batchSize ?? DEFAULT_BATCH;
  const outcome: DownloadOutcome = { downloaded: 0, skipped: 0, cursor: options.cursor ?? null, maxChangedDate: null };
  let total: number | null = null;
  const request = (cursor: string | null, count: boolean) =>
    ctx.client.download(
      { entity, constraint: options.constraint, since: options.since ?? null, cursor, limit, count },
      signal,
    );

  throwIfCancelled(signal);
  ctx.onProgress?.({ phase: 'download', entity, done: 0, total: null });
  let pending: Promise<DownloadResponse> | null = request(outcome.cursor, true);
  while (pending) {
    const batch: DownloadResponse = await pending;
    total ??= batch.total ?? null;
    throwIfCancelled(signal);
    // Prefetch the next batch; a failure there surfaces when it is awaited.
    pending = batch.cursor ? request(batch.cursor, false) : null;
    pending?.catch(() => undefined);

    if (batch.objects.length) {
      const applied = await ctx.store.applyServerObjects(entity, batch.objects, {
        tag: options.tag,
        overwrite: options.overwrite,
      });
      outcome.downloaded += applied.written;
      outcome.skipped += applied.skipped;
    }
    outcome.cursor = batch.cursor;
    if (batch.maxChangedDate && (!outcome.maxChangedDate || batch.maxChangedDate > outcome.maxChangedDate)) {
      outcome.maxChangedDate = batch.maxChangedDate;
    }
    await options.onBatch?.({ cursor: batch.cursor, maxChangedDate: batch.maxChangedDate, objects: batch.objects });
    ctx.onProgress?.({ phase: 'download', entity, done: outcome.downloaded + outcome.skipped, total });
  }
  return outcome;
}
