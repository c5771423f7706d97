import Dexie from 'dexie';
import { newId, wireNow } from '../model/values.ts';
import type { FailureReason, SynchronizationFailure } from '../transport/wire.ts';
import { FILES, objectKey } from './tables.ts';

/**
 * The `version` of contents attached on the device and not yet on the server. Downloaded
 * contents carry the object's changedDate instead, so one index read tells both apart and no
 * sync ever replaces or deletes contents that have not reached the server.
 */
export const PENDING_VERSION = '';

/** A row of the `$files` table. */
export interface FileRow {
  entity: string;
  id: string;
  data: Uint8Array;
  contentType: string;
  version: string;
  /** Pending contents only: the resumable upload's id, new for each attach (a re-attach starts over). */
  uploadId?: string;
}

/** Contents waiting for upload, as the upload step reads them. */
export interface PendingFile {
  data: Uint8Array;
  contentType: string;
  uploadId: string;
}

/** A file attached on the device: pending until `markUploaded` with the same upload id. */
export function attachedRow(entity: string, id: string, data: Uint8Array, contentType: string): FileRow {
  return { entity, id, data, contentType, version: PENDING_VERSION, uploadId: newId() };
}

/** Version of every stored file of an entity, by object id (an index read: no contents loaded). */
export async function fileVersionsOf(db: Dexie, entity: string): Promise<Map<string, string>> {
  const keys = (await db
    .table(FILES)
    .where('[entity+id+version]')
    .between([entity, Dexie.minKey, Dexie.minKey], [entity, Dexie.maxKey, Dexie.maxKey])
    .keys()) as unknown as Array<[string, string, string]>;
  return new Map(keys.map(([, id, version]) => [id, version]));
}

/** Ids of an entity's objects whose contents have not reached the server. */
export async function pendingFileIds(db: Dexie, entity: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const [id, version] of await fileVersionsOf(db, entity)) if (version === PENDING_VERSION) ids.add(id);
  return ids;
}

/** Keys of the given objects' stored contents, leaving out pending ones (inside a transaction on FILES). */
export async function notPendingKeys(db: Dexie, entity: string, ids: readonly string[]): Promise<Array<[string, string]>> {
  if (ids.length === 0) return [];
  const rows = (await db.table(FILES).bulkGet(ids.map((id) => objectKey(entity, id)))) as Array<FileRow | undefined>;
  return ids.filter((_, i) => rows[i] && rows[i]!.version !== PENDING_VERSION).map((id) => objectKey(entity, id));
}

/** A row of the `$failedFiles` table: refused contents, kept by the failure that reports them. */
export interface FailedFileRow {
  /** The SynchronizationFailure's id. */
  id: string;
  entity: string;
  objectId: string;
  data: Uint8Array;
  contentType: string;
}

/** Why the server will not take contents, as a SynchronizationFailure says it. */
export interface FileRefusalReason {
  reason: FailureReason;
  message: string;
}

/**
 * The device-side SynchronizationFailure that keeps refused contents (`file` set): open, of kind
 * `update` (the contents were an update of the object), its `changeId` the refused upload's id.
 */
export function fileFailure(
  row: FileRow,
  why: FileRefusalReason,
  who: { user: string; device: string },
): { failure: SynchronizationFailure; bytes: FailedFileRow } {
  const id = newId();
  const failure: SynchronizationFailure = {
    id,
    user: who.user,
    device: who.device,
    entity: row.entity,
    objectId: row.id,
    changeId: row.uploadId ?? id,
    kind: 'update',
    data: {},
    reason: why.reason,
    message: why.message,
    status: 'open',
    createdDate: wireNow(),
    file: { size: row.data.byteLength, contentType: row.contentType },
  };
  return { failure, bytes: { id, entity: row.entity, objectId: row.id, data: row.data, contentType: row.contentType } };
}

/** A row of the `$partialFiles` table: the first bytes of an interrupted download. */
export interface PartialFileRow {
  entity: string;
  id: string;
  /** The server's ETag of the version these bytes belong to (sent back as If-Range). */
  etag: string;
  data: Uint8Array;
  contentType: string;
  /** The whole file's size. */
  size: number;
}
