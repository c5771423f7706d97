import { SyncflowError } from '../errors.ts';
import type { ChangeKind, ChangeResult, FailureStatus, SynchronizationFailure } from '../transport/wire.ts';
import { applyChange } from './applyChange.ts';
import type { AuthUser } from './AuthUser.ts';
import { tickClock } from './clock.ts';
import { FAILURE_COLUMNS } from './failureRecords.ts';
import { ObjectTx } from './ObjectTx.ts';
import type { ServerContext } from './ServerContext.ts';

/** The user's own failures with this status, oldest first. */
export async function listFailures(ctx: ServerContext, user: AuthUser, status: FailureStatus): Promise<SynchronizationFailure[]> {
  const { rows } = await ctx.storage.query<SynchronizationFailure>(
    `SELECT ${FAILURE_COLUMNS} FROM sf_failures f WHERE f.user_id = $1 AND f.status = $2 ORDER BY f.created_date, f.seq`,
    [user.id, status],
  );
  return rows;
}

/**
 * Applies a stored failure's change again, now, for its user (access rules and handlers as for
 * an upload). Success resolves the failure; another refusal keeps it open with the new reason
 * and message. Only open failures can be retried (`conflict` otherwise); someone else's
 * failure does not exist (`not_found`).
 */
export async function retryFailure(ctx: ServerContext, user: AuthUser, failureId: string): Promise<ChangeResult> {
  return ctx.storage.transaction(async (tx) => {
    const stamp = await tickClock(tx);
    const { rows } = await tx.query<SynchronizationFailure>(
      `SELECT ${FAILURE_COLUMNS} FROM sf_failures f WHERE f.id = $1::uuid AND f.user_id = $2 FOR UPDATE`,
      [failureId, user.id],
    );
    const failure = rows[0];
    if (!failure) throw new SyncflowError('not_found', `No synchronization failure ${failureId}`);
    if (failure.status !== 'open') throw new SyncflowError('conflict', `The failure is ${failure.status}: only open failures can be retried`);
    const change = {
      changeId: failure.changeId,
      entity: failure.entity,
      id: failure.objectId,
      kind: failure.kind as ChangeKind,
      data: failure.data,
    };
    const outcome = await applyChange(new ObjectTx(ctx, tx, stamp, user), change);
    if (outcome.status === 'applied') {
      const result: ChangeResult = { changeId: change.changeId, status: 'applied', object: outcome.object };
      await tx.query(
        `UPDATE sf_failures SET status = 'resolved', resolved_date = $2::timestamptz, result = $3::text::jsonb WHERE id = $1::uuid`,
        [failureId, stamp, JSON.stringify(result)],
      );
      return result;
    }
    const { rows: updated } = await tx.query<SynchronizationFailure>(
      `UPDATE sf_failures f SET reason = $2, message = $3 WHERE f.id = $1::uuid RETURNING ${FAILURE_COLUMNS}`,
      [failureId, outcome.reason, outcome.message],
    );
    return { changeId: change.changeId, status: 'failed', failure: updated[0] };
  });
}

/** Marks an open failure dismissed (again: no change); a resolved one cannot be (`conflict`). */
export async function dismissFailure(ctx: ServerContext, user: AuthUser, failureId: string): Promise<SynchronizationFailure> {
  return ctx.storage.transaction(async (tx) => {
    const { rows } = await tx.query<SynchronizationFailure>(
      `SELECT ${FAILURE_COLUMNS} FROM sf_failures f WHERE f.id = $1::uuid AND f.user_id = $2 FOR UPDATE`,
      [failureId, user.id],
    );
    const failure = rows[0];
    if (!failure) throw new SyncflowError('not_found', `No synchronization failure ${failureId}`);
    if (failure.status === 'resolved') throw new SyncflowError('conflict', 'The failure is resolved: it cannot be dismissed');
    const { rows: updated } = await tx.query<SynchronizationFailure>(
      `UPDATE sf_failures f SET status = 'dismissed', resolved_date = coalesce(resolved_date, now()) WHERE f.id = $1::uuid
       RETURNING ${FAILURE_COLUMNS}`,
      [failureId],
    );
    return updated[0];
  });
}
