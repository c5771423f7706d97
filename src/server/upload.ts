import type { ChangeRequest, ChangeResult, ObjectRef, UploadResponse } from '../transport/wire.ts';
import type { AuthUser } from './AuthUser.ts';
import { recordFailure } from './failureRecords.ts';
import { otherObjects } from './otherObjects.ts';
import { OthersByChange, storedRefs } from './OthersByChange.ts';
import { readableObjects } from './readableObjects.ts';
import type { ServerContext } from './ServerContext.ts';
import type { SqlParams } from './SqlParams.ts';
import type { Queryable } from './storage/Storage.ts';
import { applyBatch, batchEligible, NeedsPerChangePath } from './uploadBatch.ts';
import { applyInOrder } from './uploadInOrder.ts';

/** Attempts of one upload when PostgreSQL picks its transaction as a deadlock victim. */
const ATTEMPTS = 3;

/**
 * Applies a device's changes in one transaction, each atomic on its own: a change the server
 * cannot apply becomes a stored SynchronizationFailure and the others still apply. Every
 * object written gets the transaction's changedDate; results come in the order of `changes`.
 *
 * Idempotent per (user, changeId): the change ids are claimed first (`INSERT ... ON CONFLICT`
 * on sf_applied), so of two copies of an upload sent to two server processes at once, the
 * second waits on the first's claim and then answers its results, applying nothing. A claim
 * keeps only a failure; an applied change is answered again with its object as it is now.
 *
 * A batch goes the set-based way (uploadBatch.ts: a few statements for the whole batch, the
 * clock taken only for the final writes) unless only the per-change path keeps it exact
 * (uploadInOrder.ts: several changes of one object, deletes first, a value the database
 * refuses, a handler refusing after it wrote); then the set-based attempt's transaction is
 * rolled back and the per-change path applies the batch in a new one. (No savepoint around the
 * set-based attempt: a subtransaction made every row it wrote cost more, for a rare fallback.)
 *
 * Besides the results, answers the other objects the upload wrote (`written`: a handler's
 * writes, references cleared by a delete) and removed (`deleted`: a handler's deletes, the objects
 * that required a deleted one), of those the user may read (see otherObjects), so that a device
 * holding them brings them up to date or removes them. A change that touched other objects keeps
 * their refs in its claim (sf_applied.others, see OthersByChange), so a replayed change (its
 * answer lost) names them again, as they are now; it writes nothing again.
 *
 * `changes` must be checked already (known entities, UUID ids): see parseUploadRequest.
 */
export async function upload(
  ctx: ServerContext,
  user: AuthUser,
  device: string,
  changes: readonly ChangeRequest[],
): Promise<UploadResponse> {
  let path = ctx.uploadPath ?? 'auto';
  for (let attempt = 1; ; ) {
    try {
      return await ctx.storage.transaction((tx) => uploadIn(ctx, tx, user, device, changes, path));
    } catch (e) {
      if (e instanceof NeedsPerChangePath && path === 'auto') {
        path = 'inOrder';
        continue;
      }
      // 40P01 deadlock, 40001 serialization failure: nothing was written, try again.
      const state = (e as { code?: unknown })?.code;
      if (++attempt > ATTEMPTS || (state !== '40P01' && state !== '40001')) throw e;
    }
  }
}

async function uploadIn(
  ctx: ServerContext,
  tx: Queryable,
  user: AuthUser,
  device: string,
  changes: readonly ChangeRequest[],
  path: 'auto' | 'inOrder',
): Promise<UploadResponse> {
  if (!changes.length) return { results: [] };
  const { claimed, earlier, replayed } = await claimChanges(ctx, tx, user.id, changes.map((c) => c.changeId));
  const stored = await answerAgain(ctx, tx, user, changes, earlier);
  const todo = changes.filter((c) => claimed.has(c.changeId));
  const unique = new Set(todo.map((c) => c.changeId)).size === todo.length;
  // The replayed claims' refs are checked both ways: named as they are now (live or gone).
  const others = (written: readonly ObjectRef[], removed: readonly ObjectRef[], alongside?: (p: SqlParams) => string) =>
    otherObjects(ctx, tx, user, changes, [...written, ...replayed], [...removed, ...replayed], alongside);

  if (!todo.length) return { results: changes.map((c) => stored.get(c.changeId)!), ...(await others([], [])) };
  if (path === 'auto' && unique && batchEligible(todo)) {
    const { outcomes, stamp, written, removed, touched } = await applyBatch(ctx, tx, user, todo);
    const fresh: ChangeResult[] = [];
    const byId = new Map<string, ChangeResult>();
    for (let i = 0; i < todo.length; i++) {
      const change = todo[i];
      const outcome = outcomes[i];
      const result: ChangeResult =
        outcome.status === 'applied'
          ? { changeId: change.changeId, status: 'applied', object: outcome.object }
          : {
              changeId: change.changeId,
              status: 'failed',
              failure: await recordFailure(tx, { user: user.id, device, change, reason: outcome.reason, message: outcome.message, stamp }),
            };
      fresh.push(result);
      byId.set(change.changeId, result);
    }
    const results = changes.map((c) => byId.get(c.changeId) ?? stored.get(c.changeId)!);
    return { results, ...(await others(written, removed, claimOutcomes(user.id, claimed, fresh, stamp, touched))) };
  }
  const inOrder = await applyInOrder(ctx, tx, user, device, changes, stored);
  const claims = claimOutcomes(user.id, claimed, inOrder.fresh, inOrder.stamp, inOrder.touched);
  return { results: inOrder.results, ...(await others(inOrder.written, inOrder.removed, claims)) };
}

/** A change id applied or refused by an earlier upload: its stored failure, or `applied` (no result kept). */
type Earlier = ChangeResult | 'applied';

/**
 * A claim as an earlier upload left it: its result, and the other objects its change touched
 * (its own refs, and those of the claims it names: see OthersByChange).
 */
const EARLIER_CLAIM = `a.change_id, a.result, a.others,
  CASE WHEN a.others IS NOT NULL THEN (
    SELECT jsonb_agg(s.others) FROM sf_applied s
     WHERE s.user_id = a.user_id
       AND s.change_id IN (SELECT e #>> '{}' FROM jsonb_array_elements(a.others) AS e WHERE jsonb_typeof(e) = 'string')) END AS shared`;

/**
 * Claims the upload's change ids for this transaction: a row per id not seen before, its
 * result JSON `null` (`ON CONFLICT DO NOTHING` waits for a concurrent claim of the same id to
 * commit or roll back). A claim that commits with its upload and keeps `null` was applied; only
 * a refused change gets its result stored (claimOutcomes). Answers the ids claimed here, what is
 * known of the others, and the other objects those earlier changes touched (`replayed`).
 */
async function claimChanges(
  ctx: ServerContext,
  tx: Queryable,
  user: string,
  changeIds: string[],
): Promise<{ claimed: Set<string>; earlier: Map<string, Earlier>; replayed: ObjectRef[] }> {
  type Row = { change_id: string; result: ChangeResult | null; others: unknown; shared: unknown };
  const ids = JSON.stringify([...new Set(changeIds)]);
  const { rows } = await tx.query<Row & { claimed: boolean }>(
    `WITH ids AS (SELECT DISTINCT jsonb_array_elements_text($2::text::jsonb) AS id),
     claimed AS (
       INSERT INTO sf_applied (user_id, change_id, result, applied_date)
       SELECT $1, id, 'null'::jsonb, now() FROM ids
       ON CONFLICT (user_id, change_id) DO NOTHING RETURNING change_id)
     SELECT change_id, NULL::jsonb AS result, NULL::jsonb AS others, NULL::jsonb AS shared, true AS claimed FROM claimed
     UNION ALL
     SELECT ${EARLIER_CLAIM}, false FROM sf_applied a
      WHERE a.user_id = $1 AND a.change_id IN (SELECT id FROM ids) AND a.change_id NOT IN (SELECT change_id FROM claimed)`,
    [user, ids],
  );
  const claimed = new Set(rows.filter((r) => r.claimed).map((r) => r.change_id));
  const earlier = new Map<string, Earlier>();
  const replayed: ObjectRef[] = [];
  const remember = (r: Row) => {
    earlier.set(r.change_id, r.result ?? 'applied');
    replayed.push(...storedRefs(ctx.schema, r.others, r.shared));
  };
  rows.filter((r) => !r.claimed).forEach(remember);
  // A claim that waited for another transaction's commit is not visible to the statement that
  // waited (its snapshot is older): read those again.
  const missing = [...new Set(changeIds)].filter((id) => !claimed.has(id) && !earlier.has(id));
  if (missing.length) {
    const again = await tx.query<Row>(
      `SELECT ${EARLIER_CLAIM} FROM sf_applied a WHERE a.user_id = $1 AND a.change_id IN (SELECT jsonb_array_elements_text($2::text::jsonb))`,
      [user, JSON.stringify(missing)],
    );
    again.rows.forEach(remember);
    const lost = missing.filter((id) => !earlier.has(id));
    if (lost.length) throw new Error(`change ids ${lost.join(', ')} are neither claimed nor stored`);
  }
  return { claimed, earlier, replayed };
}

/**
 * The answers to change ids an earlier upload handled: its stored failure, or for an applied
 * change the object as the user may read it now (one statement for all of them), as fresh
 * as a refresh would bring it; null for a delete, or an object gone or not readable.
 */
async function answerAgain(
  ctx: ServerContext,
  tx: Queryable,
  user: AuthUser,
  changes: readonly ChangeRequest[],
  earlier: ReadonlyMap<string, Earlier>,
): Promise<Map<string, ChangeResult>> {
  const out = new Map<string, ChangeResult>();
  const applied = new Map<string, ChangeRequest>();
  for (const c of changes) {
    const known = earlier.get(c.changeId);
    if (known === 'applied') applied.set(c.changeId, applied.get(c.changeId) ?? c);
    else if (known) out.set(c.changeId, known);
  }
  if (!applied.size) return out;
  const live = [...applied.values()].filter((c) => c.kind !== 'delete');
  const now = await readableObjects(ctx, tx, user, live.map((c) => [c.entity, c.id] as const));
  for (const [changeId, c] of applied) {
    out.set(changeId, { changeId, status: 'applied', object: c.kind === 'delete' ? null : (now.get(`${c.entity}:${c.id.toLowerCase()}`) ?? null) });
  }
  return out;
}

/**
 * The write that completes this upload's claims, made with the statement that names the other
 * objects (otherObjects' `alongside`): a refused change's result, and for a change that touched
 * other objects their refs (`others`). An applied change's claim keeps `null`, and one that touched
 * nothing else keeps no refs: a plain upload makes no such write. Every claim must have a result
 * of this upload.
 */
function claimOutcomes(
  user: string,
  claimed: ReadonlySet<string>,
  fresh: readonly ChangeResult[],
  stamp: string,
  touched: OthersByChange,
): ((p: SqlParams) => string) | undefined {
  const filled = new Set(fresh.map((r) => r.changeId));
  if (filled.size !== claimed.size || [...claimed].some((id) => !filled.has(id))) {
    throw new Error(`upload: ${claimed.size} change ids claimed, ${filled.size} results`);
  }
  const rows = fresh.flatMap((r) => {
    const others = touched.stored(r.changeId);
    const failed = r.status === 'failed';
    return failed || others ? [{ changeId: r.changeId, ...(failed ? { result: r } : {}), ...(others ? { others } : {}) }] : [];
  });
  if (!rows.length) return undefined;
  return (p) =>
    `UPDATE sf_applied a SET result = coalesce(r->'result', a.result), others = r->'others',
            applied_date = CASE WHEN r->'result' IS NULL THEN a.applied_date ELSE ${p.add(stamp)}::timestamptz END
       FROM jsonb_array_elements(${p.json(rows)}) AS r WHERE a.user_id = ${p.add(user)} AND a.change_id = r->>'changeId'`;
}
