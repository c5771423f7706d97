import type { Schema } from '../model/schema.ts';
import { isUuid } from '../model/values.ts';
import type { ChangeRequest, ChangeResult, ObjectRef } from '../transport/wire.ts';
import { applyChange, type ChangeOutcome } from './applyChange.ts';
import type { AuthUser } from './AuthUser.ts';
import { tickClock } from './clock.ts';
import { recordFailure } from './failureRecords.ts';
import { ObjectTx } from './ObjectTx.ts';
import { OthersByChange } from './OthersByChange.ts';
import { readableObjects } from './readableObjects.ts';
import { refusedChange } from './requests.ts';
import type { ServerContext } from './ServerContext.ts';
import type { Queryable } from './storage/Storage.ts';

/** How often one upload may try its cycles of new objects before checking them one by one. */
const CYCLE_ATTEMPTS = 3;

/**
 * The per-change path of an upload: applies the changes one after the other, each atomic on its
 * own (a SAVEPOINT per change), so a change the server cannot apply becomes a stored
 * SynchronizationFailure and the others still apply. It takes the clock first and holds it for
 * the whole transaction, so it serves what the set-based path (uploadBatch.ts) cannot keep exact:
 * several changes of one object, deletes before creates, a handler refusing after it wrote.
 *
 * References are always checked against what is stored when the change applies, so a
 * reference to an object created later in the same upload counts only once that create has
 * applied for this user: a change naming such an object waits until its create has been tried
 * (then its reference is checked like any other), and the changes of the same object (or
 * changeId) after it wait behind it. New objects that refer to each other in a cycle are tried
 * together at the end, and kept only when every create of the cycle they relied on applied.
 *
 * `stored` holds the results of change ids applied by earlier uploads (answered again, not
 * applied); answers every change's result (in order), the results new to this upload, the
 * objects the transaction wrote and removed, and per change the other objects it touched (the
 * writes between its start and its end, handlers' and cascades' included).
 */
export async function applyInOrder(
  ctx: ServerContext,
  tx: Queryable,
  user: AuthUser,
  device: string,
  changes: readonly ChangeRequest[],
  stored: ReadonlyMap<string, ChangeResult>,
): Promise<{ results: ChangeResult[]; fresh: ChangeResult[]; stamp: string; written: ObjectRef[]; removed: ObjectRef[]; touched: OthersByChange }> {
    const stamp = await tickClock(tx);
    const otx = new ObjectTx(ctx, tx, stamp, user);
    // Noted anew each time a change is tried (a cycle's savepoint rolled back tries it again).
    const touched = new OthersByChange();
    let known = new Map(stored);
    const results: ChangeResult[] = new Array(changes.length);
    // otx.writes when each applied change was answered: a later write of its object (a later
    // change's handler, a delete clearing a reference) makes that answer stale.
    let answeredAt = new Map<ChangeResult, number>([...stored.values()].filter((r) => r.status === 'applied' && r.object).map((r) => [r, 0]));
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
        const mark = otx.writes;
        const outcome: ChangeOutcome = refusal
          ? { status: 'failed', reason: 'invalid', message: refusal }
          : await applyChange(otx, change, pending);
        touched.note(change, otx.touchedSince(mark), otx);
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
        if (result.status === 'applied' && change.kind !== 'delete') answeredAt.set(result, otx.writes);
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
        const saved = { known: new Map(known), fresh: [...fresh], untried: new Map(untried), applied: new Map(applied), answeredAt: new Map(answeredAt) };
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
        ({ known, fresh, untried, applied, answeredAt } = saved);
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

    await reanswerStale(ctx, otx, user, changes, results, answeredAt);
    return { results, fresh, stamp, written: otx.written(), removed: otx.removed(), touched };
}

/**
 * The device stores each applied change's answer as the server's version of the object, and
 * refreshes nothing it was answered: an answer must hold the object as the transaction commits
 * it. Objects written again after their answer are read again (one statement) and their
 * answers replaced in place (a repeated changeId shares its result).
 */
async function reanswerStale(
  ctx: ServerContext,
  otx: ObjectTx,
  user: AuthUser,
  changes: readonly ChangeRequest[],
  results: ChangeResult[],
  answeredAt: ReadonlyMap<ChangeResult, number>,
): Promise<void> {
  const stale = new Map<ChangeResult, ChangeRequest>();
  results.forEach((r, i) => {
    const at = answeredAt.get(r);
    if (at !== undefined && otx.writtenAt(changes[i].entity, changes[i].id) > at) stale.set(r, changes[i]);
  });
  if (!stale.size) return;
  const now = await readableObjects(ctx, otx.tx, user, [...stale.values()].map((c) => [c.entity, c.id] as const));
  for (const [result, c] of stale) {
    if (result.status === 'applied') result.object = now.get(`${c.entity}:${c.id.toLowerCase()}`) ?? null;
  }
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

