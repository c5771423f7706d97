import { storableText, unstorableText } from '../model/values.ts';
import type { ChangeRequest, FailureReason, SynchronizationFailure } from '../transport/wire.ts';
import { wireDateSql } from './objectSql.ts';
import type { Queryable } from './storage/Storage.ts';

/** SQL columns rendering a sf_failures row (aliased `f`) as a SynchronizationFailure. */
export const FAILURE_COLUMNS = `f.id::text AS id, f.user_id AS "user", f.device, f.entity, f.object_id::text AS "objectId",
  f.change_id AS "changeId", f.kind, f.data, f.reason, f.message, f.status, ${wireDateSql('f.created_date')} AS "createdDate"`;

/**
 * A copy of a JSON value PostgreSQL can store: jsonb and text refuse U+0000 and lone UTF-16
 * surrogates (an emoji cut in half), in keys as in strings, so each becomes U+FFFD; `replaced`
 * counts them. Only a failure record needs this (it keeps data the server refused, which may
 * hold anything); the request parser bounds the nesting depth (MAX_DATA_DEPTH).
 */
export function storableCopy(value: unknown): { value: unknown; replaced: number } {
  let replaced = 0;
  const text = (s: string): string => {
    if (unstorableText(s) === null) return s;
    const fixed = storableText(s);
    for (let i = 0; i < s.length; i++) if (s[i] !== fixed[i]) replaced++;
    return fixed;
  };
  const copy = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) return v.map(copy);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), copy(x)]));
  };
  return { value: copy(value), replaced };
}


/** Stores a change the server could not apply; answers the record the device gets too. */
export async function recordFailure(
  tx: Queryable,
  failure: { user: string; device: string; change: ChangeRequest; reason: FailureReason; message: string; stamp: string },
): Promise<SynchronizationFailure> {
  const { change } = failure;
  const data = storableCopy(change.data ?? {});
  const message = data.replaced
    ? `${failure.message} (the stored copy of the data has ${data.replaced} unstorable character${data.replaced === 1 ? '' : 's'} replaced by U+FFFD)`
    : failure.message;
  const { rows } = await tx.query<SynchronizationFailure>(
    `INSERT INTO sf_failures AS f (id, user_id, device, entity, object_id, change_id, kind, data, reason, message, status, created_date)
     VALUES ($1::uuid, $2, $3, $4, $5::uuid, $6, $7, $8::text::jsonb, $9, $10, 'open', $11::timestamptz)
     RETURNING ${FAILURE_COLUMNS}`,
    [
      crypto.randomUUID(),
      failure.user,
      failure.device,
      change.entity,
      change.id,
      change.changeId,
      change.kind,
      JSON.stringify(data.value),
      failure.reason,
      storableText(message),
      failure.stamp,
    ],
  );
  return rows[0];
}
