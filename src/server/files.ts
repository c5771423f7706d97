import { SyncflowError, ValidationError } from '../errors.ts';
import type { SyncObject } from '../model/values.ts';
import type { AuthUser } from './AuthUser.ts';
import { tickClock } from './clock.ts';
import { ObjectTx } from './ObjectTx.ts';
import { requestEntity, requestId } from './requests.ts';
import type { ServerContext } from './ServerContext.ts';
import { SqlParams } from './SqlParams.ts';

function fileEntity(ctx: ServerContext, entity: string): void {
  const def = requestEntity(ctx.schema, entity);
  if (!def.file) throw ValidationError.at('entity', `${entity} objects have no file contents`);
}

const notFound = (entity: string, id: string) =>
  new SyncflowError('not_found', `${entity} ${id} has no file, or was not found, or is not accessible`);

/** The file contents of an object the user may read; `not_found` otherwise (or when it has none). */
export async function getFile(
  ctx: ServerContext,
  user: AuthUser,
  entity: string,
  rawId: string,
): Promise<{ content: Uint8Array; contentType: string }> {
  fileEntity(ctx, entity);
  const id = requestId(rawId);
  const p = new SqlParams();
  const { rows } = await ctx.storage.query<{ content: Uint8Array; content_type: string }>(
    `SELECT f.content, f.content_type FROM sf_files f
       JOIN sf_objects o ON o.entity = f.entity AND o.id = f.id
      WHERE f.entity = ${p.add(entity)} AND f.id = ${p.add(id)}::uuid AND ${ctx.access.sql(entity, 'read', user, p)}`,
    p.values,
  );
  if (!rows[0]) throw notFound(entity, id);
  return { content: rows[0].content, contentType: rows[0].content_type };
}

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
