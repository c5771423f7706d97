import type { SyncContext } from '../SyncContext.ts';
import { throwIfCancelled } from './throwIfCancelled.ts';

const PARALLEL = 4;

/**
 * Downloads the file contents of the given objects of a file entity, a few at a time.
 * An object whose contents the server does not have keeps no local file.
 */
export async function downloadFiles(
  ctx: SyncContext,
  entity: string,
  ids: readonly string[],
  signal?: AbortSignal,
): Promise<number> {
  let next = 0;
  let done = 0;
  ctx.onProgress?.({ phase: 'files', entity, done, total: ids.length });
  const worker = async () => {
    while (next < ids.length) {
      throwIfCancelled(signal);
      const id = ids[next++];
      const file = await ctx.client.getFile(entity, id, signal);
      if (file) await ctx.store.putFile(entity, id, file.data, file.contentType);
      done++;
      ctx.onProgress?.({ phase: 'files', entity, done, total: ids.length });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, ids.length) }, worker));
  return done;
}
