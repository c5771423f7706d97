import { FileTooLargeError, RangeNotSatisfiableError, SyncflowError, ValidationError } from '../errors.ts';
import type { SyncObject } from '../model/values.ts';
import type { FileUploadStatus } from '../transport/wire.ts';
import type { AuthUser } from './AuthUser.ts';
import { selectRange } from './byteRange.ts';
import { wireDateSql } from './objectSql.ts';
import { tickClock } from './clock.ts';
import { ObjectTx } from './ObjectTx.ts';
import { requestEntity, requestId } from './requests.ts';
import type { ServerContext } from './ServerContext.ts';
import { SqlParams } from './SqlParams.ts';
import type { Queryable } from './storage/Storage.ts';

function fileEntity(ctx: ServerContext, entity: string): void {
  const def = requestEntity(ctx.schema, entity);
  if (!def.file) throw ValidationError.at('entity', `${entity} objects have no file contents`);
}

const notFound = (entity: string, id: string) =>
  new SyncflowError('not_found', `${entity} ${id} has no file, or was not found, or is not accessible`);

/**
 * The file contents of an object the user may read, with `version`, the object's changedDate
 * (storing contents moves it: one version, one content); `not_found` otherwise (or when it has none).
 */
export async function getFile(
  ctx: ServerContext,
  user: AuthUser,
  entity: string,
  rawId: string,
): Promise<{ content: Uint8Array; contentType: string; version: string }> {
  fileEntity(ctx, entity);
  const id = requestId(rawId);
  const p = new SqlParams();
  const { rows } = await ctx.storage.query<{ content: Uint8Array; content_type: string; version: string }>(
    `SELECT f.content, f.content_type, ${wireDateSql('o.changed_date')} AS version FROM sf_files f
       JOIN sf_objects o ON o.entity = f.entity AND o.id = f.id
      WHERE f.entity = ${p.add(entity)} AND f.id = ${p.add(id)}::uuid AND ${ctx.access.sql(entity, 'read', user, p)}`,
    p.values,
  );
  if (!rows[0]) throw notFound(entity, id);
  return { content: rows[0].content, contentType: rows[0].content_type, version: rows[0].version };
}

/** What GET /api/files answers: the status, the headers about the bytes, and the bytes. */
export interface FileAnswer {
  status: 200 | 206;
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * The answer to a GET of file contents with these request headers: the whole file, or with
 * `Range: bytes=N-` the bytes from N (206, `Content-Range`), so a device resumes an interrupted
 * download. `ETag` is the version (changedDate); `If-Range` with another tag answers the whole
 * file, so bytes of two versions are never glued together. A range that cannot be served
 * throws RangeNotSatisfiableError (416; its `size` goes in `Content-Range: bytes *\/size`).
 *
 * @example
 * const answer = fileAnswer(await getFile(ctx, user, 'Attachment', id), { range: 'bytes=4194304-', ifRange: '"2025-…Z"' });
 */
export function fileAnswer(
  file: { content: Uint8Array; version: string },
  request: { range?: string; ifRange?: string },
): FileAnswer {
  const etag = `"${file.version}"`;
  const size = file.content.byteLength;
  const headers: Record<string, string> = { 'accept-ranges': 'bytes', etag };
  const range = selectRange(request.range, size, request.ifRange, etag);
  if (range.kind === 'full') return { status: 200, headers, body: file.content };
  headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
  return { status: 206, headers, body: file.content.subarray(range.start, range.end + 1) };
}

export { RangeNotSatisfiableError };

/**
 * Stores the file contents of an existing object the user may write, and moves the object's
 * changedDate so devices download the new contents. `not_found` when the object does not exist
 * for the user, `forbidden` when they may read but not write it.
 */
export async function putFile(
  ctx: ServerContext,
  user: AuthUser,
  entity: string,
  rawId: string,
  content: Uint8Array,
  contentType: string,
): Promise<SyncObject> {
  fileEntity(ctx, entity);
  const id = requestId(rawId);
  return ctx.storage.transaction(async (tx) => {
    const otx = new ObjectTx(ctx, tx, await tickClock(tx), user);
    const locked = await otx.lock(entity, id);
    if (!locked?.readable) throw new SyncflowError('not_found', `${entity} ${id} was not found or is not accessible`);
    if (!locked.writable) throw new SyncflowError('forbidden', `You may not change ${entity} ${id}`);
    await tx.query(
      `INSERT INTO sf_files (entity, id, content, content_type, size) VALUES ($1, $2::uuid, $3, $4, $5)
       ON CONFLICT (entity, id) DO UPDATE SET content = excluded.content, content_type = excluded.content_type, size = excluded.size`,
      [entity, id, content, contentType, content.byteLength],
    );
    return (await otx.touch(entity, id))!;
  });
}

/** One chunk of a resumable upload (PUT /api/files/:entity/:id/uploads/:uploadId). */
export interface FileChunk {
  /** Byte position of `data` in the file: must equal the bytes the server already holds. */
  offset: number;
  /** The whole file's size, declared by every chunk (the same each time). */
  size: number;
  contentType: string;
  data: Uint8Array;
}

const emptyStatus = (): FileUploadStatus => ({ offset: 0, size: null, complete: false });

/**
 * The state of the user's upload `uploadId` of this object's contents: how many bytes the
 * server holds (a device resumes from there), or offset 0 when it knows no such upload.
 */
export async function fileUploadStatus(
  ctx: ServerContext,
  user: AuthUser,
  entity: string,
  rawId: string,
  rawUploadId: string,
): Promise<FileUploadStatus> {
  fileEntity(ctx, entity);
  const id = requestId(rawId);
  const uploadId = requestId(rawUploadId, 'uploadId');
  const { rows } = await ctx.storage.query<{ size: string; received: string; completed: boolean }>(
    `SELECT size, received, completed FROM sf_file_uploads
      WHERE upload_id = $1::uuid AND user_id = $2 AND entity = $3 AND id = $4::uuid`,
    [uploadId, user.id, entity, id],
  );
  if (!rows[0]) return emptyStatus();
  return { offset: Number(rows[0].received), size: Number(rows[0].size), complete: rows[0].completed };
}

/**
 * Stores one chunk of a resumable upload. The first chunk opens the upload (the object must
 * exist and be writable for the user); chunks are staged in sf_file_chunks, and the one that
 * completes the declared size swaps the whole file into sf_files and moves the object's
 * changedDate, in one transaction: devices never see half a file. A chunk at another offset
 * than the bytes held is a `conflict` (the device asks the status and resumes from there); a
 * chunk of a completed upload answers `complete` again without storing anything (a lost answer
 * retried). A declared size over `limit` is refused before anything is written.
 */
export async function putFileChunk(
  ctx: ServerContext,
  user: AuthUser,
  entity: string,
  rawId: string,
  rawUploadId: string,
  chunk: FileChunk,
  limit: number,
): Promise<FileUploadStatus> {
  fileEntity(ctx, entity);
  const id = requestId(rawId);
  const uploadId = requestId(rawUploadId, 'uploadId');
  const { offset, size, data } = chunk;
  if (size > limit) throw new FileTooLargeError(size, limit);
  if (offset + data.byteLength > size) throw ValidationError.at('body', `the chunk ends at byte ${offset + data.byteLength}, past the declared size ${size}`);
  if (data.byteLength === 0 && offset < size) throw ValidationError.at('body', 'a chunk is empty only for an empty file');
  return ctx.storage.transaction(async (tx) => {
    const { rows: opened } = await tx.query<{ upload_id: string }>(
      `INSERT INTO sf_file_uploads (upload_id, user_id, entity, id, content_type, size)
       VALUES ($1::uuid, $2, $3, $4::uuid, $5, $6) ON CONFLICT (upload_id) DO NOTHING RETURNING upload_id`,
      [uploadId, user.id, entity, id, chunk.contentType, size],
    );
    if (opened[0]) {
      await checkWritable(ctx, tx, user, entity, id);
      // Abandoned uploads do not pile up: a device that comes back later starts again from 0.
      await tx.query(`DELETE FROM sf_file_uploads WHERE created_date < now() - interval '7 days'`);
    }
    const { rows } = await tx.query<{ user_id: string; entity: string; id: string; size: string; received: string; completed: boolean }>(
      `SELECT user_id, entity, id::text AS id, size, received, completed FROM sf_file_uploads WHERE upload_id = $1::uuid FOR UPDATE`,
      [uploadId],
    );
    const upload = rows[0];
    if (!upload || upload.user_id !== user.id || upload.entity !== entity || upload.id !== id) {
      throw new SyncflowError('not_found', `No upload ${uploadId} of ${entity} ${id}`);
    }
    const declared = Number(upload.size);
    if (declared !== size) throw new SyncflowError('conflict', `Upload ${uploadId} declared ${declared} bytes, not ${size}`);
    if (upload.completed) return { offset: declared, size: declared, complete: true };
    const received = Number(upload.received);
    if (offset !== received) {
      throw new SyncflowError('conflict', `Upload ${uploadId} holds ${received} bytes: send the chunk at offset ${received}`);
    }
    if (data.byteLength) {
      await tx.query('INSERT INTO sf_file_chunks (upload_id, start, data) VALUES ($1::uuid, $2, $3)', [uploadId, offset, data]);
      await tx.query('UPDATE sf_file_uploads SET received = $2 WHERE upload_id = $1::uuid', [uploadId, offset + data.byteLength]);
    }
    if (offset + data.byteLength < size) return { offset: offset + data.byteLength, size, complete: false };
    return { offset: size, size, complete: true, object: await completeUpload(ctx, tx, user, entity, id, uploadId) };
  });
}

/** The user may write the object (else `not_found` / `forbidden`, as PUT /api/files answers). */
async function checkWritable(ctx: ServerContext, tx: Queryable, user: AuthUser, entity: string, id: string): Promise<void> {
  const p = new SqlParams();
  const read = ctx.access.sql(entity, 'read', user, p);
  const write = ctx.access.sql(entity, 'write', user, p);
  const { rows } = await tx.query<{ readable: boolean; writable: boolean }>(
    `SELECT ${read} AS readable, ${write} AS writable FROM sf_objects o WHERE o.entity = ${p.add(entity)} AND o.id = ${p.add(id)}::uuid`,
    p.values,
  );
  if (!rows[0]?.readable) throw new SyncflowError('not_found', `${entity} ${id} was not found or is not accessible`);
  if (!rows[0].writable) throw new SyncflowError('forbidden', `You may not change ${entity} ${id}`);
}

/** Swaps the staged chunks in as the object's file and moves its changedDate (inside the chunk's transaction). */
async function completeUpload(ctx: ServerContext, tx: Queryable, user: AuthUser, entity: string, id: string, uploadId: string): Promise<SyncObject> {
  const otx = new ObjectTx(ctx, tx, await tickClock(tx), user);
  const locked = await otx.lock(entity, id);
  if (!locked?.readable) throw new SyncflowError('not_found', `${entity} ${id} was not found or is not accessible`);
  if (!locked.writable) throw new SyncflowError('forbidden', `You may not change ${entity} ${id}`);
  await tx.query(
    `INSERT INTO sf_files (entity, id, content, content_type, size)
     SELECT $1, $2::uuid, coalesce((SELECT string_agg(c.data, ''::bytea ORDER BY c.start) FROM sf_file_chunks c WHERE c.upload_id = $3::uuid), ''::bytea),
            u.content_type, u.size
       FROM sf_file_uploads u WHERE u.upload_id = $3::uuid
     ON CONFLICT (entity, id) DO UPDATE SET content = excluded.content, content_type = excluded.content_type, size = excluded.size`,
    [entity, id, uploadId],
  );
  await tx.query('DELETE FROM sf_file_chunks WHERE upload_id = $1::uuid', [uploadId]);
  await tx.query('UPDATE sf_file_uploads SET completed = true WHERE upload_id = $1::uuid', [uploadId]);
  return (await otx.touch(entity, id))!;
}
