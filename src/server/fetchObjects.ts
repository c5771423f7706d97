import type { FetchRequest } from '../transport/wire.ts';
import type { AuthUser } from './AuthUser.ts';
import { ValidationError, type Problem } from '../errors.ts';
import { isUuid } from '../model/values.ts';
import { objectJsonSql } from './objectSql.ts';
import { requestEntity } from './requests.ts';
import type { ServerContext } from './ServerContext.ts';
import { SqlParams } from './SqlParams.ts';

/**
 * Objects by id (refresh after upload, selected-objects sync). Ids that do not exist and ids
 * the user may not read are both `missing`: the answer does not tell them apart.
 * Answers the response body as JSON text built by the database.
 */
export async function fetchObjects(ctx: ServerContext, user: AuthUser, request: FetchRequest): Promise<string> {
  requestEntity(ctx.schema, request.entity);
  const problems: Problem[] = [];
  request.ids.forEach((id, i) => {
    if (!isUuid(id)) problems.push({ path: `ids[${i}]`, message: 'must be a UUID' });
  });
  if (problems.length) throw new ValidationError(problems);
  const ids = [...new Set(request.ids.map((id) => id.toLowerCase()))];
  if (!ids.length) return '{"objects":[],"missing":[]}';

  const p = new SqlParams();
  // Objects of a file entity carry `$file` (size or null), as in /api/download: a refresh knows which contents to fetch.
  const file = ctx.schema.entities[request.entity].file;
  const { rows } = await ctx.storage.query<{ objects: string; found: string[] | null }>(
    `SELECT coalesce(json_agg(x.obj ORDER BY x.id), '[]')::text AS objects, array_agg(x.id::text) AS found
       FROM (SELECT o.id, ${file ? `${objectJsonSql('o')} || jsonb_build_object('$file', f.size)` : objectJsonSql('o')} AS obj
               FROM sf_objects o${file ? ' LEFT JOIN sf_files f ON f.entity = o.entity AND f.id = o.id' : ''}
              WHERE o.entity = ${p.add(request.entity)} AND o.id = ANY(${p.array(ids, 'uuid')})
                AND ${ctx.access.sql(request.entity, 'read', user, p)}) x`,
    p.values,
  );
  const found = new Set(rows[0].found ?? []);
  return `{"objects":${rows[0].objects},"missing":${JSON.stringify(ids.filter((id) => !found.has(id)))}}`;
}
