import type { Schema } from '../model/schema.ts';
import { isUuid } from '../model/values.ts';
import type { ChangeRequest, ChangeResult } from '../transport/wire.ts';
import { applyChange, type ChangeOutcome } from './applyChange.ts';
import type { AuthUser } from './AuthUser.ts';
import { tickClock } from './clock.ts';
import { recordFailure } from './failureRecords.ts';
import { ObjectTx } from './ObjectTx.ts';
import { refusedChange } from './requests.ts';
import type { ServerContext } from './ServerContext.ts';
import type { Queryable } from './storage/Storage.ts';

/** How often one upload may try its cycles of new objects before checking them one by one. */
const CYCLE_ATTEMPTS = 3;

/**
 * Applies a device's changes in one transaction, each atomic on its own: a change the server
 * cannot apply becomes a stored SynchronizationFailure and the others still apply. Every
 * object written gets the transaction's changedDate; results come in the order of `changes`.
 *
 * References are always checked against what is stored when the change applies, so a
 * reference to an object created later in the same upload counts only once that create has
 * applied for this user: a change naming such an object waits until its create has been tried
 * (then its reference is checked like any other), and the changes of the same object (or
 * changeId) after it wait behind it. New objects that refer to each other in a cycle are tried
 * together at the end, and kept only when every create of the cycle they relied on applied.
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
    const otx = new ObjectTx(ctx, tx, stamp, user);
    let known = await storedResults(tx, user.id, changes.map((c) => c.changeId));
    const results: ChangeResult[] = new Array(changes.length);
    let fresh: ChangeResult[] = [];

    const refs = changes.map((c) => referencedKeys(ctx.schema, c));
    const objectKey = (i: number) => key(changes[i].entity, changes[i].id);
    // Creates of this upload not tried yet, and the objects some create of it applied (readable or not).
    let untried = new Map<string, number>();
    for (let i = 0; i < changes.length; i++) if (changes[i].kind === 'create') untried.set(objectKey(i), (untried.get(objectKey(i)) ?? 0) + 1);
    let applied = new Map<string, { readable: boolean }>();
    const unresolved = (k: string) => (untried.get(k) ?? 0) > 0 && !applied.has(k);

    /** Applies (or answers again) change i; `exempt` lets references to those keys pass unchecked, noting them in `used`. */
    const run = async (i: number, exempt?: { keys: Set<string>; used: Set<string> }): Promise<void> => {
      const change = changes[i];
      let result = known.get(change.changeId);
      if (!result) {
        const refusal = refusedChange(change);
        const pending = exempt && ((entity: string, id: string) => {
          const k = key(entity, id);
          if (!exempt.keys.has(k) || !unresolved(k)) return false;
          exempt.used.add(k);
          return true;
        });
        const outcome: ChangeOutcome = refusal
          ? { status: 'failed', reason: 'invalid', message: refusal }
          : await applyChange(otx, change, pending);
        result =
          outcome.status === 'applied'
            ? { changeId: change.changeId, status: 'applied', object: outcome.object }
            : {
                changeId: change.changeId,
                status: 'failed',
                failure: await recordFailure(tx, { user: user.id, device, change, reason: outcome.reason, message: outcome.message, stamp }),
              };
        known.set(change.changeId, result);
        fresh.push(result);
        if (change.kind === 'create' && result.status === 'applied') applied.set(objectKey(i), { readable: result.object !== null });
      }
      if (change.kind === 'create') untried.set(objectKey(i), untried.get(objectKey(i))! - 1);
      results[i] = result;
    };

    // Changes waiting for a create of this upload, in upload order.
    let waiting: number[] = [];
    const waits = (i: number, ahead: { objects: Set<string>; changeIds: Set<string> }) =>
      refs[i].some(unresolved) || ahead.objects.has(objectKey(i)) || ahead.changeIds.has(changes[i].changeId);
    const note = (ahead: { objects: Set<string>; changeIds: Set<string> }, i: number) => {
      ahead.objects.add(objectKey(i));
      ahead.changeIds.add(changes[i].changeId);
    };
    /** Applies every waiting change that may go now, until none may. */
    const drain = async () => {
      for (let progressed = true; progressed && waiting.length; ) {
        progressed = false;
        const ahead = { objects: new Set<string>(), changeIds: new Set<string>() };
        for (const i of [...waiting]) {
          if (waits(i, ahead)) {
            note(ahead, i);
            continue;
          }
          waiting = waiting.filter((w) => w !== i);
          await run(i);
          progressed = true;
        }
      }
    };

    const queued = { objects: new Set<string>(), changeIds: new Set<string>() };
    for (let i = 0; i < changes.length; i++) {
      if (waits(i, queued)) {
        waiting.push(i);
        note(queued, i);
        continue;
      }
      await run(i);
      if (waiting.length) {
        await drain();
        queued.objects = new Set(waiting.map(objectKey));
        queued.changeIds = new Set(waiting.map((w) => changes[w].changeId));
      }
    }

    // What still waits is caught in cycles of new objects (or behind them).
    for (let attempt = 0; waiting.length; attempt++) {
      if (attempt < CYCLE_ATTEMPTS) {
        // Try them all in order, a reference to a waiting create passing unchecked; keep the
        // outcome only if every create relied upon applied readable.
        const saved = { known: new Map(known), fresh: [...fresh], untried: new Map(untried), applied: new Map(applied) };
        const keys = new Set(waiting.filter((i) => changes[i].kind === 'create').map(objectKey));
        const used = new Map(waiting.map((i) => [i, new Set<string>()]));
        await tx.query('SAVEPOINT sf_cycle');
        for (const i of waiting) await run(i, { keys, used: used.get(i)! });
        const broken = waiting.filter(
          (i) => results[i].status === 'applied' && [...used.get(i)!].some((k) => !applied.get(k)?.readable),
        );
        if (!broken.length) {
          await tx.query('RELEASE SAVEPOINT sf_cycle');
          waiting = [];
          break;
        }
        await tx.query('ROLLBACK TO SAVEPOINT sf_cycle');
        await tx.query('RELEASE SAVEPOINT sf_cycle');
        ({ known, fresh, untried, applied } = saved);
        // Check one by one the changes that relied on a failed create, and the changes waiting before them on the same object.
        const first = waiting.filter((i) =>
          broken.some((b) => b === i || (i < b && (objectKey(b) === objectKey(i) || changes[b].changeId === changes[i].changeId))),
        );
        for (const i of first) {
          waiting = waiting.filter((w) => w !== i);
          await run(i);
        }
      } else {
        const i = waiting.shift()!;
        await run(i);
      }
      await drain();
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

const key = (entity: string, id: string) => `${entity}:${id.toLowerCase()}`;

/** The objects a change's data names in its associations (not the object itself). */
function referencedKeys(schema: Schema, change: ChangeRequest): string[] {
  if (change.kind === 'delete') return [];
  const out: string[] = [];
  for (const [name, a] of Object.entries(schema.entities[change.entity].associations)) {
    const target = Object.hasOwn(change.data, name) ? change.data[name] : undefined;
    if (!isUuid(target) || (a.target === change.entity && target.toLowerCase() === change.id)) continue;
    out.push(key(a.target, target));
  }
  return out;
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
