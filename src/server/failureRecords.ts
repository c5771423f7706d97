import type { ChangeRequest, FailureReason, SynchronizationFailure } from '../transport/wire.ts';
import { wireDateSql } from './objectSql.ts';
import type { Queryable } from './storage/Storage.ts';

/** SQL columns rendering a sf_failures row (aliased `f`) as a SynchronizationFailure. */
export const FAILURE_COLUMNS = `f.id::text AS id, f.user_id AS "user", f.device, f.entity, f.object_id::text AS "objectId",
  f.change_id AS "changeId", f.kind, f.data, f.reason, f.message, f.status, ${wireDateSql('f.created_date')} AS "createdDate"`;

/**
 * JSON text PostgreSQL can store: jsonb and text refuse U+0000, so it becomes U+FFFD. Only a
 * failure record needs this (it keeps data the server refused, which may hold anything).
 */
export function storableJson(value: unknown): string {
  // An escape preceded by an even number of backslashes is a real \u0000, not an escaped backslash.
  return JSON.stringify(value).replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd');
}

const storableText = (text: string) => text.replaceAll('\u0000', '\ufffd');

/** Stores a change the server could not apply; answers the record the device gets too. */
export async function recordFailure(
  tx: Queryable,
  failure: { user: string; device: string; change: ChangeRequest; reason: FailureReason; message: string; stamp: string },
): Promise<SynchronizationFailure> {
  const { change } = failure;
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
      storableJson(change.data ?? {}),
      failure.reason,
      storableText(failure.message),
      failure.stamp,
    ],
  );
  return rows[0];
}
