import type { PartialDownload } from '../../transport/SyncClient.ts';
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
 * stored with its version; a large file's download resumes where an earlier one broke off. An object whose contents the server no longer has keeps no local
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
      const file = await fetchResumably(ctx, entity, id, signal);
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
 * One object's contents, resumably: the bytes kept of an interrupted download are sent back
 * (Range + If-Range) so only the rest comes, unless the contents changed since; a download that
 * breaks off (network fault, cancel) keeps what arrived when the file is larger than one chunk
 * (`chunkSize`), smaller ones are cheaper to fetch again than to keep.
 */
async function fetchResumably(ctx: SyncContext, entity: string, id: string, signal?: AbortSignal) {
  const kept = await ctx.store.partialFile(entity, id);
  let partial: PartialDownload | undefined;
  try {
    return await ctx.client.getFile(entity, id, { signal, resume: kept && { etag: kept.etag, data: kept.data }, onPartial: (p) => (partial = p) });
  } catch (e) {
    if (partial && partial.size > ctx.client.fileChunkSize && partial.data.byteLength > (kept?.data.byteLength ?? 0)) {
      await ctx.store.keepPartialFile({ entity, id, ...partial });
    }
    throw e;
  }
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
