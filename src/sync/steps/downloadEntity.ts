import type { Constraint } from '../../model/constraint.ts';
import type { SyncState } from '../../model/syncState.ts';
import { laterStamp, type SyncObject } from '../../model/values.ts';
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
   * A named sync down: the store records that it holds each object, and stores the state
   * returned by `checkpoint` in the same transaction as the batch (so a crash or stop can
   * neither skip a batch nor store it without its checkpoint).
   */
  sync?: { id: string; run?: string; checkpoint(batch: BatchInfo): SyncState };
  /**
   * Called after each batch is stored locally, never before: a checkpoint saved here can
   * only point past rows that are safely in the store.
   */
  onBatch?: (batch: BatchInfo & { objects: SyncObject[] }) => Promise<void> | void;
}

export interface BatchInfo {
  /** Resume point after this batch (null: the download is complete). */
  cursor: string | null;
  /** Greatest changedDate stored so far by this download. */
  maxChangedDate: string | null;
  /** Objects received so far, and the total when the server counted it. */
  done: number;
  total: number | null;
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
    // A received batch is stored (with its checkpoint) even when a stop came meanwhile: dropping
    // it would only make the resumed run fetch it again. The stop takes effect before the next
    // request instead. Prefetch the next batch; a failure there surfaces when it is awaited.
    pending = batch.cursor && !signal?.aborted ? request(batch.cursor, false) : null;
    pending?.catch(() => undefined);

    const maxChangedDate = laterStamp(outcome.maxChangedDate, batch.maxChangedDate);
    const done = outcome.downloaded + outcome.skipped + batch.objects.length;
    const info: BatchInfo = { cursor: batch.cursor, maxChangedDate, done, total };
    if (batch.objects.length || options.sync) {
      const applied = await ctx.store.applyServerObjects(entity, batch.objects, {
        tag: options.tag,
        overwrite: options.overwrite,
        sync: options.sync && { id: options.sync.id, run: options.sync.run, checkpoint: options.sync.checkpoint(info) },
      });
      outcome.downloaded += applied.written;
      outcome.skipped += applied.skipped;
    }
    outcome.cursor = batch.cursor;
    outcome.maxChangedDate = maxChangedDate;
    await options.onBatch?.({ ...info, objects: batch.objects });
    ctx.onProgress?.({ phase: 'download', entity, done, total });
    if (batch.cursor && !pending) throwIfCancelled(signal);
  }
  return outcome;
}
