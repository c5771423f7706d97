import type { ObjectRef } from '../../transport/wire.ts';
import type { SyncContext } from '../SyncContext.ts';
import { groupBy } from './chunk.ts';

/** What removeDeleted did with the objects the server named. */
export interface RemovedByServer {
  /** Held by the device and removed (here, or by the answer to the device's own change of it). */
  removed: ObjectRef[];
  /**
   * Held by the device and kept, as a refresh keeps an object the server no longer has: it has a
   * pending local change (the next upload hands it to the server, which refuses it as `deleted`
   * and the device keeps it as a SynchronizationFailure), or it is held with a failure or unsent
   * file contents. Nothing local is dropped without a failure that keeps it.
   */
  kept: ObjectRef[];
}

/**
 * Removes the objects an upload's answer says the server removed besides the device's own deletes
 * (its `deleted`: a handler's deletes), like a refresh removes an object the server no longer has.
 * The answer is the server's word but checked like any input: entries of unknown entities or that
 * are not `{ entity, id }` strings are ignored, as are objects the device does not hold.
 *
 * `held` lists objects the device held during the upload (its changes' objects): one the server
 * names that is no longer there was removed by its change's answer (applied, without its object,
 * which `confirm` takes as gone) and counts as removed here, not fetched again.
 *
 * @example
 * const { removed } = await removeDeleted(ctx, response.deleted ?? [], outcome.toRefresh);
 */
export async function removeDeleted(ctx: SyncContext, deleted: readonly unknown[], held: readonly ObjectRef[] = []): Promise<RemovedByServer> {
  const out: RemovedByServer = { removed: [], kept: [] };
  const known = deleted.filter(
    (d): d is ObjectRef =>
      typeof (d as ObjectRef)?.entity === 'string' && Object.hasOwn(ctx.schema.entities, (d as ObjectRef).entity) && typeof (d as ObjectRef).id === 'string',
  );
  const wasHeld = new Set(held.map((h) => `${h.entity}:${h.id}`));
  for (const [entity, group] of groupBy(known, (d) => d.entity)) {
    const ids = [...new Set(group.map((d) => d.id))];
    const rows = await ctx.store.getMany(entity, ids);
    for (const [i, id] of ids.entries()) if (!rows[i] && wasHeld.has(`${entity}:${id}`)) out.removed.push({ entity, id });
    const present = ids.filter((_, i) => rows[i]);
    if (!present.length) continue;
    // The store keeps objects with pending changes, held failures or unsent contents.
    await ctx.store.removeObjects(entity, present);
    const left = await ctx.store.getMany(entity, present);
    present.forEach((id, i) => (left[i] ? out.kept : out.removed).push({ entity, id }));
  }
  return out;
}
