import type { SyncContext } from '../SyncContext.ts';
import { throwIfCancelled } from './throwIfCancelled.ts';

const PARALLEL = 4;

/** An object whose file contents to fetch, and the changedDate they belong to. */
export interface FileToFetch {
  id: string;
  version: string;
}

/**
 * Downloads the file contents of the given objects of a file entity, a few at a time, each
 * stored with its version. An object whose contents the server no longer has keeps no local
 * file. Contents attached on the device and not uploaded yet are never replaced or removed.
 */
export async function downloadFiles(
  ctx: SyncContext,
  entity: string,
  files: readonly FileToFetch[],
  signal?: AbortSignal,
): Promise<number> {
  const ids = files;
  let next = 0;
  let done = 0;
  ctx.onProgress?.({ phase: 'files', entity, done, total: ids.length });
  const worker = async () => {
    while (next < ids.length) {
      throwIfCancelled(signal);
      const { id, version } = ids[next++];
      const file = await ctx.client.getFile(entity, id, signal);
      if (file) await ctx.store.applyServerFile(entity, id, file.data, file.contentType, version);
      else await ctx.store.removeFiles(entity, [id]);
      done++;
      ctx.onProgress?.({ phase: 'files', entity, done, total: ids.length });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, ids.length) }, worker));
  return done;
}

/**
 * After a refresh (unsynchronized and selected modes): downloads the contents of the refreshed
 * objects of file entities that the server has in another version than the device, and forgets
 * the downloaded contents the server no longer has. Pending contents stay as they are.
 */
export async function downloadRefreshedFiles(
  ctx: SyncContext,
  objects: ReadonlyArray<{ entity: string; id: string }>,
  signal?: AbortSignal,
): Promise<number> {
  let count = 0;
  for (const entity of ctx.schema.order) {
    if (!ctx.schema.entities[entity].file) continue;
    const ids = objects.filter((o) => o.entity === entity).map((o) => o.id);
    if (ids.length === 0) continue;
    const plan = await ctx.store.fileRefreshPlan(entity, ids);
    await ctx.store.removeFiles(entity, plan.drop);
    if (plan.fetch.length) count += await downloadFiles(ctx, entity, plan.fetch, signal);
  }
  return count;
}
