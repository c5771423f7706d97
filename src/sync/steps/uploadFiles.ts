import { FileTooLargeError, ServerError, type ErrorCode } from '../../errors.ts';
import type { SyncContext } from '../SyncContext.ts';
import { throwIfCancelled } from './throwIfCancelled.ts';

/** A file the server will not take as it stands; its contents stay on the device, marked. */
export interface FileRefusal {
  entity: string;
  id: string;
  code: ErrorCode;
  message: string;
}

export interface FileUploadOutcome {
  uploaded: number;
  refused: FileRefusal[];
}

/**
 * The version stored for uploaded contents when the answer that completed the upload was lost:
 * it matches no changedDate, so the next download fetches the contents once more.
 */
const UNKNOWN_VERSION = 'uploaded';

/**
 * Uploads the contents attached on the device (of `only` these objects, or all), one file at a
 * time, each resumably in chunks (SyncClient.uploadFile). Runs after the objects' upload: a file
 * whose object is not on the server yet (a pending create) waits for a later sync. Uploaded
 * contents lose their mark unless attached again meanwhile. A file the server refuses for good
 * (too large, object gone or read-only) stays marked and is reported; any other failure (network,
 * server) stops the step and the sync: the marks stay, and the next sync resumes the upload
 * from the bytes the server holds.
 */
export async function uploadFiles(
  ctx: SyncContext,
  only: ReadonlyArray<{ entity: string; id: string }> | null,
  signal?: AbortSignal,
): Promise<FileUploadOutcome> {
  const outcome: FileUploadOutcome = { uploaded: 0, refused: [] };
  let files = await ctx.store.pendingFiles();
  if (only) {
    const wanted = new Set(only.map((o) => `${o.entity}:${o.id}`));
    files = files.filter((f) => wanted.has(`${f.entity}:${f.id}`));
  }
  if (files.length === 0) return outcome;
  ctx.onProgress?.({ phase: 'files', entity: files[0].entity, done: 0, total: files.length });
  for (const [i, { entity, id }] of files.entries()) {
    throwIfCancelled(signal);
    const change = await ctx.store.pendingChange(entity, id);
    if (change && change.kind !== 'update') continue; // not confirmed on the server yet, or being deleted
    const file = await ctx.store.pendingFile(entity, id);
    if (!file || !(await ctx.store.get(entity, id))) continue;
    try {
      const object = await ctx.client.uploadFile(entity, id, file.uploadId, file.data, file.contentType, { signal });
      await ctx.store.markFileUploaded(entity, id, file.uploadId, object?.changedDate ?? UNKNOWN_VERSION);
      if (object) await ctx.store.applyServerObjects(entity, [object]);
      outcome.uploaded++;
    } catch (e) {
      if (!isRefusal(e)) throw e;
      outcome.refused.push({ entity, id, code: e.code, message: e.message });
    }
    ctx.onProgress?.({ phase: 'files', entity, done: i + 1, total: files.length });
  }
  return outcome;
}

/** Answers no retry changes: the size is over the limit, or the object is gone or read-only for the user. */
function isRefusal(e: unknown): e is FileTooLargeError | ServerError {
  return e instanceof FileTooLargeError || (e instanceof ServerError && (e.status === 403 || e.status === 404));
}
