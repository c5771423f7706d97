import type { IdsRequest, IdsResponse } from '../transport/wire.ts';
import { MAX_BATCH } from '../transport/wire.ts';
import type { AuthUser } from './AuthUser.ts';
import { constraintSql } from './constraintSql.ts';
import { requestEntity, requestId } from './requests.ts';
import type { ServerContext } from './ServerContext.ts';
import { SqlParams } from './SqlParams.ts';

/**
 * The ids of the objects a user may read (and that match the constraint), in id order, a page at
 * a time: a device removes local objects missing here (ghosts). `next` is the last id of the page
 * when more follow.
 */
export async function listIds(
  ctx: ServerContext,
  user: AuthUser,
  request: Omit<IdsRequest, 'constraint'> & { constraint?: unknown },
): Promise<IdsResponse> {
  requestEntity(ctx.schema, request.entity);
  const limit = request.limit ?? MAX_BATCH;
  const p = new SqlParams();
  const where = [`o.entity = ${p.add(request.entity)}`, ctx.access.sql(request.entity, 'read', user, p)];
  if (request.constraint !== undefined && request.constraint !== null) {
    where.push(constraintSql(ctx.schema, request.entity, request.constraint, user.id, p));
  }
  if (request.after) where.push(`o.id > ${p.add(requestId(request.after, 'after'))}::uuid`);
  const { rows } = await ctx.storage.query<{ id: string }>(
    `SELECT o.id::text AS id FROM sf_objects o WHERE ${where.join(' AND ')} ORDER BY o.id LIMIT ${p.add(limit + 1)}::int`,
    p.values,
  );
  const ids = rows.slice(0, limit).map((r) => r.id);
  return { ids, next: rows.length > limit ? ids[ids.length - 1] : null };
}
