import type { ChangeRequest, ChangeResult } from '../transport/wire.ts';
import { applyChange } from './applyChange.ts';
import type { AuthUser } from './AuthUser.ts';
import { tickClock } from './clock.ts';
import { recordFailure } from './failureRecords.ts';
import { ObjectTx } from './ObjectTx.ts';
import type { ServerContext } from './ServerContext.ts';
import type { Queryable } from './storage/Storage.ts';

/**
 * Applies a device's changes in order, in one transaction, each atomic on its own: a change
 * the server cannot apply becomes a stored SynchronizationFailure and the others still apply.
 * Every object written gets the transaction's changedDate.
 *
 * Idempotent per (user, changeId): a change seen before is answered with its stored result and
 * not applied again. The lookup happens after the clock lock, which serializes writers across
 * processes, so two copies of a change sent to two servers at once are applied once.
 *
 * `changes` must be checked already (known entities, UUID ids): see parseUploadRequest.
 */
export async function upload(
  ctx: ServerContext,
  user: AuthUser,
  device: string,
  changes: readonly ChangeRequest[],
): Promise<ChangeResult[]> {
  return ctx.storage.transaction(async (tx) => {
    const stamp = await tickClock(tx);
    const known = await storedResults(tx, user.id, changes.map((c) => c.changeId));
    const otx = new ObjectTx(ctx, tx, stamp, user);

    // Creates still to come in this upload: references to them are accepted in any order.
    const creates = new Map<string, number>();
    const key = (entity: string, id: string) => `${entity}:${id}`;
    for (const c of changes) if (c.kind === 'create') creates.set(key(c.entity, c.id), (creates.get(key(c.entity, c.id)) ?? 0) + 1);
    const pending = (entity: string, id: string) => (creates.get(key(entity, id)) ?? 0) > 0;

    const results: ChangeResult[] = [];
    const fresh: ChangeResult[] = [];
    for (const change of changes) {
      if (change.kind === 'create') creates.set(key(change.entity, change.id), creates.get(key(change.entity, change.id))! - 1);
      const prior = known.get(change.changeId);
      if (prior) {
        results.push(prior);
        continue;
      }
      const outcome = await applyChange(otx, change, pending);
      const result: ChangeResult =
        outcome.status === 'applied'
          ? { changeId: change.changeId, status: 'applied', object: outcome.object }
          : {
              changeId: change.changeId,
              status: 'failed',
              failure: await recordFailure(tx, { user: user.id, device, change, reason: outcome.reason, message: outcome.message, stamp }),
            };
      known.set(change.changeId, result);
      fresh.push(result);
      results.push(result);
    }
    if (fresh.length) {
      await tx.query(
        `INSERT INTO sf_applied (user_id, change_id, result, applied_date)
         SELECT $1, r->>'changeId', r, $3::timestamptz FROM jsonb_array_elements($2::text::jsonb) AS r
         ON CONFLICT (user_id, change_id) DO NOTHING`,
        [user.id, JSON.stringify(fresh), stamp],
      );
    }
    return results;
  });
}

async function storedResults(
  tx: Queryable,
  user: string,
  changeIds: string[],
): Promise<Map<string, ChangeResult>> {
  const { rows } = await tx.query<{ change_id: string; result: ChangeResult }>(
    `SELECT change_id, result FROM sf_applied
      WHERE user_id = $1 AND change_id = ANY(ARRAY(SELECT jsonb_array_elements_text($2::text::jsonb)))`,
    [user, JSON.stringify([...new Set(changeIds)])],
  );
  return new Map(rows.map((r) => [r.change_id, r.result]));
}
