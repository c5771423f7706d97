import Dexie from 'dexie';
import { newId } from '../model/values.ts';
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
