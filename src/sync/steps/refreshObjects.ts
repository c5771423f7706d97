import { DEFAULT_BATCH } from '../../transport/wire.ts';
import type { SyncContext } from '../SyncContext.ts';
import { chunk } from './chunk.ts';
import { throwIfCancelled } from './throwIfCancelled.ts';

export interface RefreshOutcome {
  refreshed: number;
  /** Ids removed locally: the server no longer has them, or the user may no longer read them. */
  removedIds: string[];
}

/**
 * Brings the given objects up to the server's version (calculated attributes, event handler
 * changes). An object the server no longer returns is removed locally, unless it has a local
 * change made meanwhile (uploaded by the next sync and decided by the server) or was created on
 * this device and refused by the server (it stays with its failure until retried or dismissed).
 *
 * Parts of 1,000 are fetched one after the other, the next one while the last one is stored.
 */
export async function refreshObjects(
  ctx: SyncContext,
  entity: string,
  ids: readonly string[],
  signal?: AbortSignal,
): Promise<RefreshOutcome> {
  const outcome: RefreshOutcome = { refreshed: 0, removedIds: [] };
  const parts = chunk([...new Set(ids)], DEFAULT_BATCH);
  const fetchPart = (k: number) => handled(ctx.client.fetchObjects(entity, parts[k], signal));
  throwIfCancelled(signal);
  let next = parts.length ? fetchPart(0) : undefined;
  try {
    for (let k = 0; k < parts.length; k++) {
      const { objects, missing } = await next!;
      next = k + 1 < parts.length ? fetchPart(k + 1) : undefined;
      if (objects.length) {
        outcome.refreshed += (await ctx.store.applyServerObjects(entity, objects)).written;
      }
      if (missing.length) {
        const keep = new Set<string>();
        for (const id of missing) if (await ctx.store.pendingChange(entity, id)) keep.add(id);
        const gone = missing.filter((id) => !keep.has(id));
        await ctx.store.removeObjects(entity, gone);
        // The store keeps device-created objects the server refused: they were never "gone".
        const left = await ctx.store.getMany(entity, gone);
        outcome.removedIds.push(...gone.filter((_, i) => !left[i]));
      }
      ctx.onProgress?.({ phase: 'refresh', entity, done: outcome.refreshed + outcome.removedIds.length, total: ids.length });
      // A part received is stored before a cancel takes effect.
      if (next) throwIfCancelled(signal);
    }
  } finally {
    await next?.catch(() => undefined); // no request of this refresh outlives it
  }
  return outcome;
}

/** Marks a promise as handled (it is awaited later). */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
