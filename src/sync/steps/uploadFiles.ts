import { FileTooLargeError, ServerError, type ErrorCode } from '../../errors.ts';
import type { FileRefusalReason } from '../../store/fileContents.ts';
import type { SynchronizationFailure } from '../../transport/wire.ts';
import type { SyncContext } from '../SyncContext.ts';
import { throwIfCancelled } from './throwIfCancelled.ts';

/** A file the server will not take as it stands; its contents are kept by `failure` on the device. */
export interface FileRefusal {
  entity: string;
  id: string;
  code: ErrorCode;
  message: string;
  /** The device-side SynchronizationFailure that keeps the refused contents. */
  failureId?: string;
}

export interface FileUploadOutcome {
  uploaded: number;
  refused: FileRefusal[];
  /** The device-side failures made for refused contents (also kept in the store). */
  failures: SynchronizationFailure[];
}

/**
 * The version stored for uploaded contents when the answer that completed the upload was lost:
 * it matches no changedDate, so the next download fetches the contents once more.
 */
const UNKNOWN_VERSION = 'uploaded';

/**
 * Uploads the contents attached on the device (of `only` these objects, or all), one file at a
 * time, each resumably in chunks (SyncClient.uploadFile). Runs after the objects' upload: a file
 * whose object is not on the server yet (a pending create, or a create the server refused and
 * that waits for a retry) waits for a later sync. Uploaded contents lose their mark unless
 * attached again meanwhile. Contents the server refuses for good (too large, object gone or
 * read-only) leave the object's pending contents and become a device-side SynchronizationFailure
 * that keeps them (retry or dismiss it): they are neither lost nor sent on every sync. Any other
 * failure (network, server) stops the step and the sync: the marks stay, and the next sync
 * resumes the upload from the bytes the server holds.
 */
export async function uploadFiles(
  ctx: SyncContext,
  only: ReadonlyArray<{ entity: string; id: string }> | null,
  signal?: AbortSignal,
): Promise<FileUploadOutcome> {
  const outcome: FileUploadOutcome = { uploaded: 0, refused: [], failures: [] };
  let files = await ctx.store.pendingFiles();
  if (only) {
    const wanted = new Set(only.map((o) => `${o.entity}:${o.id}`));
    files = files.filter((f) => wanted.has(`${f.entity}:${f.id}`));
  }
  if (files.length === 0) return outcome;
  const refusedCreates = await ctx.store.refusedCreates();
  ctx.onProgress?.({ phase: 'files', entity: files[0].entity, done: 0, total: files.length });
  for (const [i, { entity, id }] of files.entries()) {
    throwIfCancelled(signal);
    if (refusedCreates.has(`${entity}:${id}`)) continue; // the server never had the object: retrying its create brings it
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
      const why = refusalReason(e);
      if (!why) throw e;
      const failure = await ctx.store.refuseFile(entity, id, file.uploadId, why);
      outcome.refused.push({ entity, id, code: (e as FileTooLargeError | ServerError).code, message: why.message, failureId: failure?.id });
      if (failure) outcome.failures.push(failure);
    }
    ctx.onProgress?.({ phase: 'files', entity, done: i + 1, total: files.length });
  }
  return outcome;
}

/**
 * The failure reason of an error no retry changes: the size is over the limit (`invalid`), or
 * the object is gone or read-only for the user (`inaccessible`: a 404 does not tell a deleted
 * object from one the user may not read). Undefined for anything else.
 */
export function refusalReason(e: unknown): FileRefusalReason | undefined {
  if (e instanceof FileTooLargeError) return { reason: 'invalid', message: e.message };
  if (e instanceof ServerError && (e.status === 403 || e.status === 404)) return { reason: 'inaccessible', message: e.message };
  return undefined;
}
