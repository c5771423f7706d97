import { ValidationError } from '../errors.ts';
import { DEFAULT_BATCH, type DownloadRequest } from '../transport/wire.ts';
import type { AuthUser } from './AuthUser.ts';
import { constraintSql } from './constraintSql.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { isIsoDateTime } from './isoDates.ts';
import { objectJsonSql, wireDateSql } from './objectSql.ts';
import { requestEntity } from './requests.ts';
import type { ServerContext } from './ServerContext.ts';
import { SqlParams } from './SqlParams.ts';

/**
 * One download batch of an entity: the objects the user may read (matching the constraint,
 * changed after `since`), ordered by (changedDate, id), starting after the cursor.
 *
 * Answers the response body as JSON text: the database builds the batch's JSON (`json_agg`),
 * and it is sent without being parsed here, which keeps a large download close to a raw read.
 *
 * Objects of a file entity carry `$file`: the size of their contents, or null when they have
 * none, so a device fetches contents only where they exist and changed (putFile moves changedDate).
 *
 * The cursor is (changedDate, id), not an offset: objects sharing a changedDate (all the rows
 * of one upload) are neither skipped nor repeated across batches, and writes committed
 * meanwhile always get a greater changedDate (see tickClock), so they come after the cursor.
 */
export async function download(
  ctx: ServerContext,
  user: AuthUser,
  request: Omit<DownloadRequest, 'constraint'> & { constraint?: unknown },
): Promise<string> {
  const { entity } = request;
  const def = requestEntity(ctx.schema, entity);
  const limit = request.limit ?? DEFAULT_BATCH;
  const p = new SqlParams();
  const where = [`o.entity = ${p.add(entity)}`, ctx.access.sql(entity, 'read', user, p)];
  if (request.constraint !== undefined && request.constraint !== null) {
    where.push(constraintSql(ctx.schema, entity, request.constraint, user.id, p));
  }
  if (request.since !== undefined && request.since !== null) {
    if (!isIsoDateTime(request.since)) throw ValidationError.at('since', 'must be an ISO 8601 date and time with a zone (a maxChangedDate)');
    where.push(`o.changed_date > ${p.add(request.since)}::timestamptz`);
  }
  const position = request.cursor ? decodeCursor(request.cursor) : null;

  // After the cursor: a resumed download counts what is left, as its progress does.
  if (position) {
    where.push(`(o.changed_date, o.id) > (${p.add(position.changedDate)}::timestamptz, ${p.add(position.id)}::uuid)`);
  }
  let total: number | undefined;
  if (request.count) {
    const { rows } = await ctx.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM sf_objects o WHERE ${where.join(' AND ')}`, p.values);
    total = rows[0].n;
  }

  // One row more than asked tells whether another batch follows.
  const fetchLimit = p.add(limit + 1);
  const keep = p.add(limit);
  const { rows } = await ctx.storage.query<{ objects: string; fetched: number; last_date: string | null; last_id: string | null }>(
    `WITH page AS (
       SELECT o.id, o.changed_date, ${def.file ? `${objectJsonSql('o')} || jsonb_build_object('$file', f.size)` : objectJsonSql('o')} AS obj,
              row_number() OVER (ORDER BY o.changed_date, o.id) AS rn
         FROM sf_objects o${def.file ? ' LEFT JOIN sf_files f ON f.entity = o.entity AND f.id = o.id' : ''}
        WHERE ${where.join(' AND ')}
        ORDER BY o.changed_date, o.id
        LIMIT ${fetchLimit}::int)
     SELECT coalesce(json_agg(obj ORDER BY rn) FILTER (WHERE rn <= ${keep}::int), '[]')::text AS objects,
            count(*)::int AS fetched,
            (array_agg(${wireDateSql('changed_date')} ORDER BY rn DESC) FILTER (WHERE rn <= ${keep}::int))[1] AS last_date,
            (array_agg(id::text ORDER BY rn DESC) FILTER (WHERE rn <= ${keep}::int))[1] AS last_id
       FROM page`,
    p.values,
  );
  const { objects, fetched, last_date: lastDate, last_id: lastId } = rows[0];
  const cursor = fetched > limit && lastDate && lastId ? encodeCursor({ changedDate: lastDate, id: lastId }) : null;
  return (
    `{"objects":${objects},"cursor":${JSON.stringify(cursor)},"maxChangedDate":${JSON.stringify(lastDate)}` +
    (total === undefined ? '}' : `,"total":${total}}`)
  );
}
