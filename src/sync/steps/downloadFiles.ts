import type { SyncContext } from '../SyncContext.ts';
import { throwIfCancelled } from './throwIfCancelled.ts';

const PARALLEL = 4;

/** An object whose file contents to fetch, and the changedDate they belong to. */
export interface FileToFetch {
  id: string;
  version: string | null;
}

/**
 * Downloads the file contents of the given objects of a file entity, a few at a time, each
 * stored with its version. An object whose contents the server no longer has keeps no local file.
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
      if (file) await ctx.store.putFile(entity, id, file.data, file.contentType, version);
      else await ctx.store.removeFiles(entity, [id]);
      done++;
      ctx.onProgress?.({ phase: 'files', entity, done, total: ids.length });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, ids.length) }, worker));
  return done;
}
