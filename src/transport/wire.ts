/**
 * Wire types of the sync protocol (docs/protocol.md), shared by the client (transport/)
 * and the server (server/). JSON over HTTP; every request carries
 * `Authorization: Bearer <token>` and `X-Device-Id: <device id>`.
 */
import type { Constraint } from '../model/constraint.ts';
import type { SyncObject, Values } from '../model/values.ts';

export type ChangeKind = 'create' | 'update' | 'delete';

/** One committed local change, sent by the upload phase. */
export interface ChangeRequest {
  /** Made by the device, unique per change: a repeat is answered with the first result. */
  changeId: string;
  entity: string;
  id: string;
  kind: ChangeKind;
  /** create: all members; update: the changed members only; delete: the last local values (kept on failure). */
  data: Values;
  /**
   * Update only, optional: the changedDate of the server version the change was made on. When
   * given, the server refuses the update with reason `conflict` if the object changed since
   * (a named sync up in mode leaveIfChanged); absent, the changed members simply win.
   */
  base?: string | null;
}

/** POST /api/upload  (at most 1,000 changes per request) */
export interface UploadRequest {
  changes: ChangeRequest[];
}

export type FailureReason = 'deleted' | 'inaccessible' | 'rejected' | 'invalid' | 'conflict';

export type FailureStatus = 'open' | 'resolved' | 'dismissed';

/** A change the server could not apply, kept so nothing is lost. */
export interface SynchronizationFailure {
  id: string;
  user: string;
  device: string;
  entity: string;
  objectId: string;
  changeId: string;
  kind: ChangeKind;
  /** The discarded change's data. */
  data: Values;
  reason: FailureReason;
  message: string;
  status: FailureStatus;
  createdDate: string;
  /**
   * Device side, reason `conflict`: the server's version the change was not applied over (the
   * other of the two versions; `data` is the device's). Not sent by the server.
   */
  server?: SyncObject | null;
  /**
   * Device side: file contents the server refused for good (object gone, read-only, too large),
   * kept on the device with this failure (`runtime.failureFile(id)`) until retried or dismissed.
   * The server never had such a failure; `changeId` is the refused upload's id. Not sent by the server.
   */
  file?: { size: number; contentType: string };
  /**
   * Device side: a change the server could not receive in any request (over its body limit), by
   * its size as sent. Kept with its data until retried (sent again, with the object as the device
   * holds it then) or dismissed. The server never had it. Not sent by the server.
   */
  tooLarge?: { bytes: number };
}

/** Whether a failure was made on the device (refused file contents, a change too large to send): the server never had it. */
export function isDeviceSideFailure(failure: SynchronizationFailure): boolean {
  return Boolean(failure.file || failure.tooLarge);
}

export type ChangeResult =
  | { changeId: string; status: 'applied'; object: SyncObject | null }
  | { changeId: string; status: 'failed'; failure: SynchronizationFailure };

export interface UploadResponse {
  results: ChangeResult[];
  /**
   * Other objects the upload wrote (its handlers, or deletes clearing references to the deleted
   * objects), present when there are any: a device holding them brings them up to date.
   */
  written?: ObjectRef[];
  /**
   * Objects the upload removed besides those of its own delete changes (a handler's delete, the
   * objects that required a deleted one) that the user could read, present when there are any:
   * a device holding them removes them.
   */
  deleted?: ObjectRef[];
}

/** An object named by entity and id. */
export interface ObjectRef {
  entity: string;
  id: string;
}

/** POST /api/download: one batch of an entity, ordered by (changedDate, id). */
export interface DownloadRequest {
  entity: string;
  constraint?: Constraint;
  /** Opaque; null or absent starts at the beginning (or at `since`). */
  cursor?: string | null;
  /** Only objects with changedDate > since (an incremental download). */
  since?: string | null;
  /** Batch size, 1..5000 (default 1000). */
  limit?: number;
  /** Ask for the number of matching objects (costs a count; ask on the first batch only). */
  count?: boolean;
}

export interface DownloadResponse {
  objects: SyncObject[];
  /** Resume point after this batch; null when there is nothing more. */
  cursor: string | null;
  /** The greatest changedDate in this batch (null when empty). */
  maxChangedDate: string | null;
  total?: number;
}

/** POST /api/fetch: objects by id; ids the user cannot read, or that do not exist, are `missing`. */
export interface FetchRequest {
  entity: string;
  ids: string[];
}

export interface FetchResponse {
  objects: SyncObject[];
  missing: string[];
}

/** POST /api/ids: the ids a user may read (ghost detection), in id order, paged. */
export interface IdsRequest {
  entity: string;
  constraint?: Constraint;
  after?: string | null;
  limit?: number;
}

export interface IdsResponse {
  ids: string[];
  /** Pass as `after` for the next page; null when done. */
  next: string | null;
}

/** GET /api/failures?status=open&limit=500&cursor=...: one page of the user's failures, oldest first. */
export interface FailuresRequest {
  status?: FailureStatus;
  /** Page size, 1..1000 (default 500). */
  limit?: number;
  /** Opaque: the previous page's `nextCursor`; absent starts at the oldest. */
  cursor?: string | null;
}

export interface FailuresResponse {
  failures: SynchronizationFailure[];
  /** Pass as `cursor` for the next page; null when this is the last. */
  nextCursor: string | null;
}

/** POST /api/failures/:id/retry: applies the stored change again. */
export interface RetryResponse {
  result: ChangeResult;
}

/** GET /api/me */
export interface MeResponse {
  user: string;
  roles: string[];
}

/** Error body of every 4xx/5xx answer. */
export interface ErrorBody {
  error: { code: string; message: string; problems?: Array<{ path: string; message: string }> };
}

/**
 * Files: GET /api/files/:entity/:id answers the contents (404 when none);
 * PUT /api/files/:entity/:id stores them (body: the bytes, Content-Type kept).
 * Resumable: GET /api/files/:entity/:id/uploads/:uploadId answers a FileUploadStatus, and
 * PUT /api/files/:entity/:id/uploads/:uploadId?offset=&size= stores one chunk (body: its bytes).
 */
export interface FileUploadStatus {
  /** Bytes the server holds: the next chunk starts here. */
  offset: number;
  /** The declared size of the whole file; null when the server knows no such upload. */
  size: number | null;
  /** The contents are in (swapped into the object's file). */
  complete: boolean;
  /** After the chunk that completed the upload: the object, its changedDate moved. */
  object?: SyncObject;
}

export const MAX_BATCH = 5000;
export const DEFAULT_BATCH = 1000;
export const MAX_UPLOAD_CHANGES = 1000;
export const MAX_FAILURES_PAGE = 1000;
export const DEFAULT_FAILURES_PAGE = 500;
