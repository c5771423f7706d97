import { isUuid, type SyncObject } from '../model/values.ts';
import type { AuthUser } from './AuthUser.ts';
import { objectJsonSql } from './objectSql.ts';
import type { ServerContext } from './ServerContext.ts';
import { SqlParams, sqlLiteral } from './SqlParams.ts';
import type { Queryable } from './storage/Storage.ts';

/** `CASE o.entity WHEN ... THEN <access condition> END` over the given entities. */
export function accessCase(ctx: ServerContext, entities: Iterable<string>, mode: 'read' | 'write', user: AuthUser, p: SqlParams, alias = 'o'): string {
  const whens = [...new Set(entities)].map((e) => `WHEN ${sqlLiteral(e)} THEN ${ctx.access.sql(e, mode, user, p, alias)}`);
  return whens.length ? `(CASE ${alias}.entity ${whens.join(' ')} ELSE FALSE END)` : 'FALSE';
}

/**
 * One statement: which of these (entity, id) exist and may be read by the user, keyed
 * `entity:id` (id in lower case). With `objects` (the default), answers each as the device
 * gets it; otherwise the map's values are null. Unknown entities and ids that are not UUIDs
 * are left out.
 */
export async function readableObjects(
  ctx: ServerContext,
  tx: Queryable,
  user: AuthUser,
  targets: ReadonlyArray<readonly [string, string]>,
  objects = true,
): Promise<Map<string, SyncObject | null>> {
  const wanted = targets.filter(([e, id]) => Object.hasOwn(ctx.schema.entities, e) && isUuid(id));
  const out = new Map<string, SyncObject | null>();
  if (!wanted.length) return out;
  const p = new SqlParams();
  const req = p.json(wanted.map(([e, id]) => [e, id.toLowerCase()]));
  const read = accessCase(ctx, wanted.map(([e]) => e), 'read', user, p);
  const { rows } = await tx.query<{ entity: string; id: string; object: SyncObject | null }>(
    `SELECT o.entity, o.id::text AS id, ${objects ? objectJsonSql('o') : 'NULL::jsonb'} AS object
       FROM sf_objects o WHERE (o.entity, o.id) IN (SELECT r->>0, (r->>1)::uuid FROM jsonb_array_elements(${req}) AS r) AND ${read}`,
    p.values,
  );
  for (const r of rows) out.set(`${r.entity}:${r.id}`, r.object);
  return out;
}
