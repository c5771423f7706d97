import { SyncflowError, ValidationError } from '../errors.ts';
import { DEFAULT_FAILURES_PAGE, type ChangeKind, type ChangeResult, type FailuresResponse, type FailureStatus, type SynchronizationFailure } from '../transport/wire.ts';
import { applyChange } from './applyChange.ts';
import type { AuthUser } from './AuthUser.ts';
import { tickClock } from './clock.ts';
import { isWireDate } from './isoDates.ts';
import { FAILURE_COLUMNS } from './failureRecords.ts';
import { ObjectTx } from './ObjectTx.ts';
import type { ServerContext } from './ServerContext.ts';

const FAILURE_CURSOR = 'f1';

/** An opaque position in a user's failures list: after the failure with this (createdDate, seq). */
function encodeFailureCursor(createdDate: string, seq: string): string {
  return Buffer.from(`${FAILURE_CURSOR}|${createdDate}|${seq}`, 'utf8').toString('base64url');
}

function decodeFailureCursor(cursor: string): { createdDate: string; seq: string } {
  const bad = () => ValidationError.at('query.cursor', 'is not a cursor of this server (pass back the nextCursor of the previous page)');
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw bad();
  const [version, createdDate, seq, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (version !== FAILURE_CURSOR || rest.length || !isWireDate(createdDate) || !/^[1-9][0-9]{0,17}$/.test(seq ?? '')) throw bad();
  return { createdDate, seq };
}

/**
 * One page of the user's own failures with this status, oldest first, after `cursor`.
 * The position is (createdDate, seq), not an offset: failures recorded or resolved meanwhile
 * neither shift nor repeat the pages (a failure that changes status leaves this list).
 */
export async function listFailures(
  ctx: ServerContext,
  user: AuthUser,
  request: { status: FailureStatus; limit?: number; cursor?: string | null },
): Promise<FailuresResponse> {
  const limit = request.limit ?? DEFAULT_FAILURES_PAGE;
  const after = request.cursor ? decodeFailureCursor(request.cursor) : null;
  const params: unknown[] = [user.id, request.status, limit + 1];
  const where = ['f.user_id = $1', 'f.status = $2'];
  if (after) {
    params.push(after.createdDate, after.seq);
    where.push('(f.created_date, f.seq) > ($4::timestamptz, $5::bigint)');
  }
  // One row more than asked tells whether another page follows.
  const { rows } = await ctx.storage.query<SynchronizationFailure & { seq: string }>(
    `SELECT ${FAILURE_COLUMNS}, f.seq::text AS seq FROM sf_failures f WHERE ${where.join(' AND ')}
      ORDER BY f.created_date, f.seq LIMIT $3::int`,
    params,
  );
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > limit && last ? encodeFailureCursor(last.createdDate, last.seq) : null;
  return { failures: page.map(({ seq: _seq, ...failure }) => failure), nextCursor };
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
