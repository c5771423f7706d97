import type { ChangeRequest, ObjectRef, UploadResponse } from '../transport/wire.ts';
import type { AuthUser } from './AuthUser.ts';
import { accessCase } from './readableObjects.ts';
import type { ServerContext } from './ServerContext.ts';
import { SqlParams } from './SqlParams.ts';
import type { Queryable } from './storage/Storage.ts';

/**
 * What an upload's response says of the objects it touched besides its own changes (their
 * answers say it all for the rest):
 * - `written`: objects it wrote (a handler's writes, references a delete cleared) that the user
 *   may read now;
 * - `deleted`: objects it removed other than by the upload's delete changes (a handler's delete,
 *   the objects that required a deleted one) that are still gone when it commits (a savepoint
 *   rolled back brings one back; one inserted again is in `written` instead) and that the user
 *   could read when they were removed: their tombstone is readable, as for a `deleted` failure.
 * Never an object the user may not read: the ids of other users' objects are not the device's
 * business. One statement, only when there is something to check; each list is sorted by entity
 * and id (so that both upload paths answer alike) and absent when empty.
 *
 * A ref may be in both lists (the refs a replayed claim kept): it is named as it is now, in
 * `written` when live, in `deleted` when gone. `alongside` is a write to make in the same statement
 * (a data-modifying WITH, e.g. the upload's claims), saving a round trip; it runs on its own
 * when there is nothing to check.
 *
 * @example
 * const { written, deleted } = await otherObjects(ctx, tx, user, changes, otx.written(), otx.removed());
 */
export async function otherObjects(
  ctx: ServerContext,
  tx: Queryable,
  user: AuthUser,
  changes: readonly ChangeRequest[],
  written: readonly ObjectRef[],
  removed: readonly ObjectRef[],
  alongside?: (p: SqlParams) => string,
): Promise<Pick<UploadResponse, 'written' | 'deleted'>> {
  const nothing = async () => {
    if (alongside) {
      const p = new SqlParams();
      await tx.query(alongside(p), p.values);
    }
    return {};
  };
  if (!written.length && !removed.length) return nothing();
  const key = (entity: string, id: string) => `${entity}:${id.toLowerCase()}`;
  const own = new Set(changes.map((c) => key(c.entity, c.id)));
  const ownDeletes = new Set(changes.filter((c) => c.kind === 'delete').map((c) => key(c.entity, c.id)));
  const live = written.filter((w) => !own.has(key(w.entity, w.id)));
  const gone = removed.filter((r) => !ownDeletes.has(key(r.entity, r.id)));
  if (!live.length && !gone.length) return nothing();

  const p = new SqlParams();
  const also = alongside ? `WITH alongside AS (${alongside(p)}) ` : '';
  const liveRefs = p.json(live.map((w) => [w.entity, w.id]));
  const goneRefs = p.json(gone.map((r) => [r.entity, r.id]));
  const readLive = accessCase(ctx, live.map((w) => w.entity), 'read', user, p);
  const readGone = accessCase(ctx, gone.map((r) => r.entity), 'read', user, p);
  const { rows } = await tx.query<{ entity: string; id: string; deleted: boolean }>(
    `${also}SELECT o.entity, o.id::text AS id, false AS deleted FROM sf_objects o
      WHERE (o.entity, o.id) IN (SELECT r->>0, (r->>1)::uuid FROM jsonb_array_elements(${liveRefs}) AS r) AND ${readLive}
     UNION ALL
     SELECT o.entity, o.id::text, true FROM sf_deleted o
      WHERE (o.entity, o.id) IN (SELECT r->>0, (r->>1)::uuid FROM jsonb_array_elements(${goneRefs}) AS r) AND ${readGone}
        AND NOT EXISTS (SELECT 1 FROM sf_objects l WHERE l.entity = o.entity AND l.id = o.id)`,
    p.values,
  );
  // Sorted here, not in SQL: the databases' collations may order text differently.
  const byKey = (a: ObjectRef, b: ObjectRef) => (a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const list = (deleted: boolean) => rows.filter((r) => r.deleted === deleted).map((r) => ({ entity: r.entity, id: r.id })).sort(byKey);
  const out: Pick<UploadResponse, 'written' | 'deleted'> = {};
  const shownWritten = list(false);
  const shownDeleted = list(true);
  if (shownWritten.length) out.written = shownWritten;
  if (shownDeleted.length) out.deleted = shownDeleted;
  return out;
}
