import { ValidationError, type Problem } from '../errors.ts';
import { entityOf, memberNames, type Schema } from '../model/schema.ts';
import { isUuid, validateValues, type SyncObject, type Values } from '../model/values.ts';
import type { ChangeRequest, ObjectRef } from '../transport/wire.ts';
import {
  applyChange,
  baseConflict,
  batchHandlerContext,
  ChangeFailure,
  notFound,
  nullMembers,
  pick,
  toFailure,
  type ChangeOutcome,
} from './applyChange.ts';
import type { AuthUser } from './AuthUser.ts';
import { tickClock } from './clock.ts';
import { afterCommitItem, beforeCommitItem, HandlerRejection, type BatchHandlerContext, type HandlerContext } from './handlers.ts';
import { ObjectTx } from './ObjectTx.ts';
import { OthersByChange } from './OthersByChange.ts';
import { objectJsonSql } from './objectSql.ts';
import { refusedChange } from './requests.ts';
import type { ServerContext } from './ServerContext.ts';
import { SqlParams } from './SqlParams.ts';
import { accessCase, readableObjects } from './readableObjects.ts';
import type { Queryable } from './storage/Storage.ts';

/**
 * Raised inside the set-based path when only the per-change path keeps a batch's meaning exact
 * (a handler refused a change after writing, a bulk statement hit a value the database cannot
 * store, a handler wrote an object of the batch). The caller rolls the transaction back and
 * applies the batch change by change in a new one.
 */
export class NeedsPerChangePath extends Error {
  override name = 'NeedsPerChangePath';
}

const key = (entity: string, id: string) => `${entity}:${id}`;

/**
 * Whether a batch can go the set-based way: each object at most once, deletes after every
 * create and update (the order the device sends). Anything else goes change by change.
 */
export function batchEligible(changes: readonly ChangeRequest[]): boolean {
  const seen = new Set<string>();
  let deleting = false;
  for (const c of changes) {
    const k = key(c.entity, c.id);
    if (seen.has(k)) return false;
    seen.add(k);
    if (c.kind === 'delete') deleting = true;
    else if (deleting) return false;
  }
  return true;
}

/**
 * The order in which the per-change path (applyInOrder) would apply a batch of one change per
 * object and change id: upload order, except that a change naming a create of the batch not
 * tried yet waits for it (its rule, and its `referencedKeys`, repeated here). Answers each
 * change's place in that order, or null when new objects refer to each other in a cycle (which
 * it tries together, maybe twice).
 */
export function perChangeOrder(schema: Schema, changes: readonly ChangeRequest[]): number[] | null {
  const lower = (entity: string, id: string) => `${entity}:${id.toLowerCase()}`;
  const refs = changes.map((c) =>
    c.kind === 'delete'
      ? []
      : Object.entries(schema.entities[c.entity].associations).flatMap(([name, a]) => {
          const target = Object.hasOwn(c.data, name) ? c.data[name] : undefined;
          return isUuid(target) && !(a.target === c.entity && target.toLowerCase() === c.id) ? [lower(a.target, target)] : [];
        }),
  );
  const untried = new Set(changes.filter((c) => c.kind === 'create').map((c) => lower(c.entity, c.id)));
  const places = new Array<number>(changes.length);
  let next = 0;
  let waiting: number[] = [];
  const waits = (i: number) => refs[i].some((k) => untried.has(k));
  const run = (i: number) => {
    places[i] = next++;
    if (changes[i].kind === 'create') untried.delete(lower(changes[i].entity, changes[i].id));
  };
  for (let i = 0; i < changes.length; i++) {
    if (waits(i)) {
      waiting.push(i);
      continue;
    }
    run(i);
    for (let progressed = true; progressed && waiting.length; ) {
      progressed = false;
      for (const w of [...waiting]) {
        if (waits(w)) continue;
        waiting = waiting.filter((x) => x !== w);
        run(w);
        progressed = true;
      }
    }
  }
  return waiting.length ? null : places;
}

interface Locked {
  object: SyncObject;
  readable: boolean;
  writable: boolean;
}

/** A create or update that passed its checks, on its way to the bulk write. */
interface Planned {
  index: number;
  /** Its place in the order the per-change path would apply the batch (perChangeOrder). */
  at: number;
  change: ChangeRequest;
  /** The full object as it will be written (members, system attributes). */
  object: SyncObject;
  previous: SyncObject | null;
  /** Association targets: [entity, id, member path]. */
  refs: Array<[string, string, string]>;
}

/**
 * Applies a batch of device changes with a few set-based statements instead of round trips per
 * change: one statement locks every object of the batch and reads its tombstones, one checks
 * every reference with its access condition, one writes the creates (`INSERT ... SELECT`), one
 * the updates (`UPDATE ... FROM`), each `RETURNING` what the device gets back. Values are
 * checked in JavaScript first, so a bad change fails alone without a savepoint. The clock
 * (see tickClock) is taken only after the locks and checks, so other writers of the cluster
 * wait for the writes alone.
 *
 * Before-commit handlers run before the batch's writes (beforeCommitBatch once per entity,
 * beforeCommit per object); after-commit handlers after them (afterCommitBatch once per entity,
 * afterCommit per object). Deletes (rare,
 * cascading) go through applyChange one by one, last, as the batch sends them. What handlers
 * read and write is noted (HandlerOrder): when the change-by-change order could let them see
 * another state, the per-change path takes over.
 *
 * Answers the outcome of each change (same order), the transaction's stamp, the objects it
 * wrote and removed through its ObjectTx (handlers, deletes), and per change the other objects
 * it touched (a delete's writes; a handler call's writes count for every item of the call). Throws
 * NeedsPerChangePath when the per-change path must take over (see above).
 */
export async function applyBatch(
  ctx: ServerContext,
  tx: Queryable,
  user: AuthUser,
  changes: readonly ChangeRequest[],
): Promise<{ outcomes: ChangeOutcome[]; stamp: string; written: ObjectRef[]; removed: ObjectRef[]; touched: OthersByChange }> {
  const { schema, access } = ctx;
  const outcomes: ChangeOutcome[] = new Array(changes.length);
  const fail = (i: number, e: unknown) => {
    const failure = toFailure(e);
    if (!failure) throw e;
    outcomes[i] = { status: 'failed', ...failure };
  };

  // Where each change would apply change by change: handlers must see what they would see there.
  const places = perChangeOrder(schema, changes);
  if (!places && changes.some((c) => ctx.handlers[c.entity])) throw new NeedsPerChangePath('new objects of the batch refer to each other in a cycle');
  const at = (i: number) => places?.[i] ?? i;

  const state = await lockBatch(ctx, tx, user, changes);

  // Checks in JavaScript: existence, access, base version, values.
  const planned = new Map<string, Planned>();
  const order = new HandlerOrder();
  const provisional = new Date().toISOString();
  const deletes: number[] = [];
  // Whether the user may read every object of an entity (its read rule renders as TRUE): once per entity, not per reference.
  const everyone = new Map<string, boolean>();
  const readsEvery = (e: string) => everyone.get(e) ?? everyone.set(e, access.sql(e, 'read', user, new SqlParams()) === 'TRUE').get(e)!;
  changes.forEach((change, i) => {
    const refusal = refusedChange(change);
    if (refusal) return (outcomes[i] = { status: 'failed', reason: 'invalid', message: refusal });
    if (change.kind === 'delete') return deletes.push(i);
    const { entity, id, kind } = change;
    const def = entityOf(schema, entity);
    const k = key(entity, id);
    order.device(at(i), k, false);
    const existing = state.live.get(k);
    try {
      let object: SyncObject;
      let values: Values;
      if (existing) {
        if (!existing.readable) throw notFound(entity, id);
        if (!existing.writable) throw new ChangeFailure('inaccessible', `You may not change ${entity} ${id}`);
        const conflict = baseConflict(change, existing.object);
        if (conflict) throw conflict;
        values = validateValues(schema, entity, change.data, { partial: kind === 'update', path: 'data' });
        object = { ...existing.object, ...values };
      } else {
        const dead = state.dead.get(k);
        if (dead?.readable) throw new ChangeFailure('deleted', `${entity} ${id} was deleted on the server`);
        if (dead || kind === 'update') throw notFound(entity, id);
        values = validateValues(schema, entity, change.data, { path: 'data' });
        object = { ...nullMembers(memberNames(def)), ...values, id, owner: user.id, createdDate: provisional, changedDate: provisional };
        if (!access.allows(entity, 'write', user, object)) throw new ChangeFailure('inaccessible', `You may not create this ${entity}`);
      }
      const refs: Planned['refs'] = [];
      for (const [name, a] of Object.entries(def.associations)) {
        const target = values[name];
        if (typeof target === 'string' && !(a.target === entity && target.toLowerCase() === id)) refs.push([a.target, target.toLowerCase(), `data.${name}`]);
      }
      // Only whether it exists counts when the user may read every object of the entity.
      for (const [e, target] of refs) order.device(at(i), key(e, target), false, readsEvery(e));
      planned.set(k, { index: i, at: at(i), change, object, previous: existing?.object ?? null, refs });
    } catch (e) {
      fail(i, e);
    }
  });

  // References: to stored objects the user may read (one statement), or to creates of this
  // batch that apply and that the user may read (a fixpoint: a failed create fails its referrers).
  const external = [...planned.values()].flatMap((p) => p.refs.filter(([e, id]) => !isBatchCreate(planned, e, id)));
  const readable = await readableObjects(ctx, tx, user, external.map(([e, id]) => [e, id] as const), false);
  const refProblems = (p: Planned): Problem[] =>
    p.refs.flatMap(([e, id, path]) => {
      const target = planned.get(key(e, id));
      const ok = target && target.change.kind === 'create' && !target.previous ? access.allows(e, 'read', user, target.object) : readable.has(key(e, id));
      return ok ? [] : [{ path, message: `no ${e} with id ${id} (not found or not accessible)` }];
    });
  for (let changed = true; changed; ) {
    changed = false;
    for (const [k, p] of planned) {
      const problems = refProblems(p);
      if (!problems.length) continue;
      planned.delete(k);
      fail(p.index, new ValidationError(problems));
      changed = true;
    }
  }

  // From here on the batch writes: take the clock for the stamp (held until commit).
  const stamp = await tickClock(tx);
  const otx = new ObjectTx(ctx, tx, stamp, user);
  for (const p of planned.values()) p.object = { ...p.object, ...(p.previous ? {} : { createdDate: stamp }), changedDate: stamp };
  const contexts = new CallContexts(otx);
  const touched = new OthersByChange();
  await runBeforeCommit(ctx, contexts, order, planned, fail, touched);

  const creates = [...planned.values()].filter((p) => !p.previous);
  const updates = [...planned.values()].filter((p) => p.previous);
  const written = new Map<string, { object: SyncObject; readable: boolean }>();
  for (const row of await writeCreates(ctx, tx, user, stamp, creates)) written.set(key(row.entity, row.id), row);
  for (const row of await writeUpdates(ctx, tx, user, stamp, updates)) written.set(key(row.entity, row.id), row);
  for (const p of planned.values()) order.device(p.at, key(p.change.entity, p.change.id), true, !p.previous);

  const applied = [...creates, ...updates].sort((a, b) => a.at - b.at);
  for (const p of applied) {
    const k = key(p.change.entity, p.change.id);
    const row = written.get(k);
    if (!row) throw new Error(`the bulk write did not return ${k}`);
    outcomes[p.index] = { status: 'applied', object: row.readable ? row.object : null };
  }
  await runAfterCommit(ctx, contexts, order, applied, (p) => written.get(key(p.change.entity, p.change.id))!.object, touched);
  const clash = order.clash();
  if (clash) throw new NeedsPerChangePath(`handlers and changes of the batch use ${clash} in another order than change by change`);

  // Deletes one by one, as the per-change path does (each in its savepoint).
  for (const i of deletes) {
    const mark = otx.writes;
    outcomes[i] = await applyChange(otx, changes[i]);
    touched.note(changes[i], otx.touchedSince(mark), otx);
  }

  // The device stores each answer as the server's version (and refreshes nothing it was answered):
  // read again the objects written after the bulk writes, by a handler or by a delete clearing a
  // reference (every write but the bulk ones goes through otx, handlers' writes included).
  const reread = [...planned.values()].filter((p) => otx.writtenAt(p.change.entity, p.change.id) > 0);
  if (reread.length) {
    const now = await readableObjects(ctx, tx, user, reread.map((p) => [p.change.entity, p.change.id] as const));
    for (const p of reread) outcomes[p.index] = { status: 'applied', object: now.get(key(p.change.entity, p.change.id)) ?? null };
  }
  return { outcomes, stamp, written: otx.written(), removed: otx.removed(), touched };
}

function isBatchCreate(planned: Map<string, Planned>, entity: string, id: string): boolean {
  const p = planned.get(key(entity, id));
  return !!p && !p.previous;
}

/**
 * Runs the after-commit handlers of the applied creates and updates, after the bulk writes:
 * afterCommitBatch once per entity with every item (upload order), afterCommit per object, each
 * call where its first change would run change by change (`applied` is in that order). Only the
 * per-change path can undo a change's write: a refusal or an error about the data hands the batch
 * over. So does a delete (it cascades to objects this path does not follow) unless it comes from
 * the call of the last change alone, after every other write of the batch.
 */
async function runAfterCommit(
  ctx: ServerContext,
  contexts: CallContexts,
  order: HandlerOrder,
  applied: Planned[],
  writtenObject: (p: Planned) => SyncObject,
  touched: OthersByChange,
): Promise<void> {
  const calls = handlerCalls(ctx, applied, 'afterCommitBatch', 'afterCommit');
  const kindOf = (p: Planned) => (p.previous ? 'update' : 'create');
  for (const items of calls) {
    const entity = items[0].change.entity;
    const handlers = ctx.handlers[entity];
    const call = order.call(items[0].at, items.at(-1)!.at, 'after');
    // The handler gets the items in upload order.
    const made = handlers.afterCommitBatch
      ? [...items].sort((a, b) => a.index - b.index).map((p) => afterCommitItem({ ...writtenObject(p) }, kindOf(p), p.previous))
      : [];
    const mark = contexts.otx.writes;
    try {
      if (handlers.afterCommitBatch) await handlers.afterCommitBatch(made.map((m) => m.item), contexts.forBatch(call));
      else await handlers.afterCommit!({ ...writtenObject(items[0]) }, contexts.forObject(call, kindOf(items[0]), items[0].previous));
    } catch (e) {
      if (toFailure(e)) throw new NeedsPerChangePath(`${entity} after-commit handler refused a written change: ${(e as Error)?.message}`);
      throw e;
    }
    touched.share(items.map((p) => p.change), contexts.otx.touchedSince(mark), contexts.otx);
    if (made.map((m) => m.decision().rejected).some((r) => r !== null)) throw new NeedsPerChangePath(`${entity} afterCommitBatch refused a written change`);
    if (call.deleted && (items.length > 1 || items[0] !== applied.at(-1))) {
      throw new NeedsPerChangePath(`a ${entity} after-commit handler deleted an object before the batch's last write`);
    }
  }
}

/**
 * The handler calls of one stage for `changes` (in the per-change order): the batch form once per
 * entity with all its changes (placed at its first change), the per-object form once per change.
 */
function handlerCalls(
  ctx: ServerContext,
  changes: readonly Planned[],
  batch: 'beforeCommitBatch' | 'afterCommitBatch',
  single: 'beforeCommit' | 'afterCommit',
): Planned[][] {
  const calls: Planned[][] = [];
  const batchCalls = new Map<string, Planned[]>();
  for (const p of changes) {
    const h = ctx.handlers[p.change.entity];
    if (h?.[batch]) {
      const items = batchCalls.get(p.change.entity);
      if (items) items.push(p);
      else calls.push(batchCalls.set(p.change.entity, [p]).get(p.change.entity)!);
    } else if (h?.[single]) calls.push([p]);
  }
  return calls;
}

/** A create or update's before-commit answer, before it is merged into the object. */
interface Decided {
  p: Planned;
  call: Recorder;
  failure?: unknown;
  values?: Values;
  path: string;
}

/**
 * Runs the before-commit handlers of the planned changes, before any write: beforeCommitBatch
 * once per entity with every item (upload order), beforeCommit per object. The values they set
 * are checked as the per-change path checks them (runBefore in applyChange.ts), references in one
 * statement for the whole batch. A refused or invalid change leaves `planned` and fails alone,
 * unless only the per-change path can undo it: its call wrote something, another change of the
 * batch refers to it, or a batch call threw (which item it concerns is known change by change).
 */
async function runBeforeCommit(
  ctx: ServerContext,
  contexts: CallContexts,
  order: HandlerOrder,
  planned: Map<string, Planned>,
  fail: (i: number, e: unknown) => void,
  touched: OthersByChange,
): Promise<void> {
  const calls = handlerCalls(ctx, [...planned.values()].sort((a, b) => a.at - b.at), 'beforeCommitBatch', 'beforeCommit');

  // A refusal after the call wrote something, or of an object others refer to, cannot be
  // undone here without a savepoint per change.
  const referenced = new Set([...planned.values()].flatMap((p) => p.refs.map(([e, id]) => key(e, id))));
  const mustFallBack = (d: Decided) => {
    const k = key(d.p.change.entity, d.p.change.id);
    if (d.failure !== undefined && (d.call.writes.size || referenced.has(k))) {
      throw new NeedsPerChangePath(`${d.path} refused ${k} after writing, or others refer to it`);
    }
  };
  const decided: Decided[] = [];
  for (const items of calls) {
    const entity = items[0].change.entity;
    const handlers = ctx.handlers[entity];
    const call = order.call(items[0].at, items.at(-1)!.at, 'before');
    items.sort((a, b) => a.index - b.index); // the handler gets them in upload order
    const kindOf = (p: Planned) => (p.previous ? 'update' : 'create');
    let answers: Array<{ rejected: string | null; values: unknown }> = [];
    let thrown: { error: unknown } | null = null;
    const mark = contexts.otx.writes;
    if (handlers.beforeCommitBatch) {
      const made = items.map((p) => beforeCommitItem({ ...p.object }, kindOf(p), p.previous));
      try {
        await handlers.beforeCommitBatch(made.map((m) => m.item), contexts.forBatch(call));
      } catch (e) {
        thrown = { error: e };
      }
      answers = made.map((m) => m.decision());
    } else {
      const [p] = items;
      try {
        answers = [{ rejected: null, values: (await handlers.beforeCommit!({ ...p.object }, contexts.forObject(call, kindOf(p), p.previous))) || undefined }];
      } catch (e) {
        thrown = { error: e };
      }
    }
    if (call.deleted) throw new NeedsPerChangePath(`a ${entity} before-commit handler deleted an object, which may cascade to the batch's objects`);
    touched.share(items.map((p) => p.change), contexts.otx.touchedSince(mark), contexts.otx);
    if (thrown) {
      if (!toFailure(thrown.error)) throw thrown.error;
      if (items.length > 1) throw new NeedsPerChangePath(`${entity} beforeCommitBatch threw: ${(thrown.error as Error)?.message}`);
    }
    const path = `${entity}.${handlers.beforeCommitBatch ? 'beforeCommitBatch' : 'beforeCommit'}`;
    items.forEach((p, n) => {
      const d: Decided = { p, call, path };
      const answer = answers[n];
      if (thrown) d.failure = thrown.error;
      else if (answer.rejected !== null) d.failure = new HandlerRejection(answer.rejected);
      else if (answer.values !== undefined) {
        try {
          d.values = validateValues(ctx.schema, entity, answer.values, { partial: true, path });
        } catch (e) {
          d.failure = e;
        }
      }
      mustFallBack(d); // before running more handlers
      decided.push(d);
    });
  }

  await checkSetReferences(ctx, contexts.tx, decided);

  for (const d of decided) {
    mustFallBack(d);
    if (d.failure === undefined) {
      if (d.values) d.p.object = { ...d.p.object, ...d.values };
      continue;
    }
    planned.delete(key(d.p.change.entity, d.p.change.id));
    fail(d.p.index, d.failure);
  }
}

/**
 * The references among the values handlers set must name existing objects (any user's), as
 * checkReferences checks them change by change: one statement for the batch. Each check is a
 * read by the handler call (HandlerOrder), so a reference to an object the batch creates earlier
 * hands the batch to the per-change path rather than failing here.
 */
async function checkSetReferences(ctx: ServerContext, tx: Queryable, decided: Decided[]): Promise<void> {
  const wanted: Array<[string, string]> = [];
  const refsOf = (d: Decided) =>
    Object.entries(ctx.schema.entities[d.p.change.entity].associations).flatMap(([name, a]) => {
      const target = d.values?.[name];
      return typeof target === 'string' && !(a.target === d.p.change.entity && target === d.p.change.id) ? [{ name, entity: a.target, id: target }] : [];
    });
  for (const d of decided) {
    if (d.failure !== undefined) continue;
    for (const r of refsOf(d)) {
      d.call.read(key(r.entity, r.id), true);
      wanted.push([r.entity, r.id]);
    }
  }
  if (!wanted.length) return;
  const { rows } = await tx.query<{ entity: string; id: string }>(
    `SELECT o.entity, o.id::text AS id FROM sf_objects o
      WHERE (o.entity, o.id) IN (SELECT r->>0, (r->>1)::uuid FROM jsonb_array_elements($1::text::jsonb) AS r)`,
    [JSON.stringify(wanted)],
  );
  const existing = new Set(rows.map((r) => key(r.entity, r.id)));
  for (const d of decided) {
    if (d.failure !== undefined) continue;
    const problems: Problem[] = refsOf(d)
      .filter((r) => !existing.has(key(r.entity, r.id)))
      .map((r) => ({ path: `${d.path}.${r.name}`, message: `no ${r.entity} with id ${r.id} (not found or not accessible)` }));
    if (problems.length) d.failure = new ValidationError(problems);
  }
}

/** What one handler call read and wrote, noted by HandlerOrder. */
interface Recorder {
  /** With `existence`, only whether the object exists counts. */
  read(k: string, existence?: boolean): void;
  write(k: string, creates?: boolean): void;
  readonly writes: Set<string>;
  deleted: boolean;
}

interface Touch {
  key: string;
  write: boolean;
  /** A read of whether the object exists (it conflicts with creates only), or a write that creates it. */
  existence: boolean;
  /** The handler call (or for the device's own reads and writes, -1 - its place). */
  call: number;
  device: boolean;
  /** The changes the call runs for (change by change it runs at one of them, which one is not known). */
  lo: number;
  hi: number;
  /** Within a change, change by change: -1 its checks, 0 before-commit handlers, 0.5 its write, 1 after-commit handlers. */
  stage: number;
  /** When it happened here; -1 for the checks, done before everything else. */
  seq: number;
}

/**
 * Notes what the handlers and the device's changes read and write, and where each happens change
 * by change. Two uses of an object, one a write, must come in the same order both ways: else a
 * handler would see another state than change by change, and the per-change path takes over.
 * (A handler's `cache` is not followed: it is meant for lookups.)
 */
class HandlerOrder {
  private readonly touches: Touch[] = [];
  private seq = 0;
  private calls = 0;

  /** The device's change `i`: its checks read `k`, or (after the handlers) it writes `k`. */
  device(i: number, k: string, write: boolean, existence = false): void {
    this.touches.push({ key: k, write, existence, call: -1 - i, device: true, lo: i, hi: i, stage: write ? 0.5 : -1, seq: write ? this.seq++ : -1 });
  }

  /** A handler call for the changes `lo`..`hi`. */
  call(lo: number, hi: number, stage: 'before' | 'after'): Recorder {
    const call = this.calls++;
    const note = (k: string, write: boolean, existence: boolean) =>
      this.touches.push({ key: k, write, existence, call, device: false, lo, hi, stage: stage === 'before' ? 0 : 1, seq: this.seq++ });
    const writes = new Set<string>();
    return {
      read: (k, existence = false) => note(k, false, existence),
      write: (k, creates = false) => {
        writes.add(k);
        note(k, true, creates);
      },
      writes,
      deleted: false,
    };
  }

  /** An object used in another order here than change by change, if any. */
  clash(): string | null {
    const byKey = new Map<string, Touch[]>();
    for (const t of this.touches) {
      const uses = byKey.get(t.key);
      if (uses) uses.push(t);
      else byKey.set(t.key, [t]);
    }
    for (const [k, uses] of byKey) {
      for (const w of uses) {
        if (!w.write) continue;
        for (const t of uses) {
          // The device's own uses are ordered by the set-based checks (a fixpoint over references).
          if (t === w || t.call === w.call || (t.device && w.device)) continue;
          if (!t.write && t.existence && !w.existence) continue; // an update leaves it existing
          const [first, then] = t.seq < w.seq ? [t, w] : [w, t];
          const sure = first.hi < then.lo || (first.hi === then.lo && first.stage < then.stage);
          if (!sure) return k;
        }
      }
    }
    return null;
  }
}

/**
 * The handler contexts of one batch's calls: one context object per batch rather than per call
 * (a per-object handler on 1,000 changes built 1,000 of them, a measurable share of the upload),
 * pointed at the call that runs now. Calls run one after the other, each awaited: a context is
 * for the call it was given to. It notes what the handler reads and writes in the call's Recorder
 * (references it sets count as reads).
 */
class CallContexts {
  #noted: Recorder | null = null;
  /** The transaction the handlers run in. */
  readonly tx: Queryable;
  /** Its object writes (what each call touched: ObjectTx.touchedSince). */
  readonly otx: ObjectTx;
  readonly #batch: BatchHandlerContext;
  readonly #object: HandlerContext;

  constructor(otx: ObjectTx) {
    this.tx = otx.tx;
    this.otx = otx;
    const ctx = batchHandlerContext(otx);
    const noted = () => this.#noted!;
    const lower = (id: string) => String(id).toLowerCase();
    const refs = (entity: string, values: Values) => {
      for (const [name, a] of Object.entries(otx.ctx.schema.entities[entity]?.associations ?? {})) {
        if (typeof values?.[name] === 'string') noted().read(key(a.target, lower(values[name] as string)), true);
      }
    };
    this.#batch = {
      ...ctx,
      async get(entity, id) {
        noted().read(key(entity, lower(id)));
        return ctx.get(entity, id);
      },
      async getMany(entity, ids) {
        const list = [...ids];
        for (const id of list) noted().read(key(entity, lower(id)));
        return ctx.getMany(entity, list);
      },
      async create(entity, values) {
        const call = noted();
        refs(entity, values);
        const object = await ctx.create(entity, values);
        call.write(key(entity, object.id), true);
        return object;
      },
      async update(entity, id, values) {
        refs(entity, values);
        noted().write(key(entity, lower(id)));
        return ctx.update(entity, id, values);
      },
      async delete(entity, id) {
        const call = noted();
        call.deleted = true;
        call.write(key(entity, lower(id)));
        return ctx.delete(entity, id);
      },
    };
    this.#object = {
      ...this.#batch,
      kind: 'create',
      previous: null,
      reject(message: string): never {
        throw new HandlerRejection(message);
      },
    };
  }

  /** The context of a batch handler call (beforeCommitBatch, afterCommitBatch). */
  forBatch(noted: Recorder): BatchHandlerContext {
    this.#noted = noted;
    return this.#batch;
  }

  /** The context of a per-object handler call (beforeCommit, afterCommit). */
  forObject(noted: Recorder, kind: 'create' | 'update', previous: SyncObject | null): HandlerContext {
    this.#noted = noted;
    this.#object.kind = kind;
    this.#object.previous = previous;
    return this.#object;
  }
}

/**
 * One statement: locks every stored object of the batch (in key order, so concurrent batches
 * do not deadlock on each other) with what the user may do with it, and reads the tombstones.
 */
async function lockBatch(
  ctx: ServerContext,
  tx: Queryable,
  user: AuthUser,
  changes: readonly ChangeRequest[],
): Promise<{ live: Map<string, Locked>; dead: Map<string, { readable: boolean }> }> {
  const p = new SqlParams();
  const entities = changes.map((c) => c.entity);
  const req = p.json(changes.map((c) => [c.entity, c.id]));
  const read = accessCase(ctx, entities, 'read', user, p);
  const write = accessCase(ctx, entities, 'write', user, p);
  const readDead = accessCase(ctx, entities, 'read', user, p);
  const { rows } = await tx.query<{ entity: string; id: string; object: SyncObject | null; readable: boolean; writable: boolean | null; dead: boolean }>(
    `WITH req AS (SELECT r->>0 AS e, (r->>1)::uuid AS i FROM jsonb_array_elements(${req}) AS r),
     locked AS (
       SELECT o.entity, o.id, ${objectJsonSql('o')} AS object, ${read} AS readable, ${write} AS writable
         FROM sf_objects o WHERE (o.entity, o.id) IN (SELECT e, i FROM req)
        ORDER BY o.entity, o.id FOR UPDATE)
     SELECT entity, id::text AS id, object, readable, writable, false AS dead FROM locked
     UNION ALL
     SELECT o.entity, o.id::text, NULL, ${readDead}, NULL, true FROM sf_deleted o WHERE (o.entity, o.id) IN (SELECT e, i FROM req)`,
    p.values,
  );
  const live = new Map<string, Locked>();
  const dead = new Map<string, { readable: boolean }>();
  for (const r of rows) {
    if (r.dead) dead.set(key(r.entity, r.id), { readable: r.readable });
    else live.set(key(r.entity, r.id), { object: r.object!, readable: r.readable, writable: !!r.writable });
  }
  return { live, dead };
}

type WrittenRow = { entity: string; id: string; object: SyncObject; readable: boolean };

/**
 * One `INSERT ... SELECT` for every create of the batch, RETURNING whether the user may read each
 * row. The objects the device gets are the planned ones (their members as written, the stamp):
 * building them from the database's JSON cost more than the insert's own work.
 */
async function writeCreates(ctx: ServerContext, tx: Queryable, user: AuthUser, stamp: string, creates: Planned[]): Promise<WrittenRow[]> {
  if (!creates.length) return [];
  const p = new SqlParams();
  const data = creates.map((c) => pick(c.object, memberNames(entityOf(ctx.schema, c.change.entity))));
  const rows = p.json(creates.map((c, n) => ({ e: c.change.entity, i: c.change.id, d: data[n] })));
  const t = `${p.add(stamp)}::timestamptz`;
  const read = accessCase(ctx, creates.map((c) => c.change.entity), 'read', user, p);
  const written = await bulk(tx, `INSERT INTO sf_objects AS o (entity, id, owner, created_date, changed_date, data)
      SELECT r->>'e', (r->>'i')::uuid, ${p.add(user.id)}, ${t}, ${t}, r->'d' FROM jsonb_array_elements(${rows}) AS r
      RETURNING o.entity, o.id::text AS id, ${read} AS readable`, p.values);
  return asWritten(creates, data, written, () => ({ owner: user.id, createdDate: stamp }), stamp);
}

/** One `UPDATE ... FROM` for every update of the batch (whole member data, as replace does); the objects as writeCreates builds them. */
async function writeUpdates(ctx: ServerContext, tx: Queryable, user: AuthUser, stamp: string, updates: Planned[]): Promise<WrittenRow[]> {
  if (!updates.length) return [];
  const p = new SqlParams();
  const data = updates.map((c) => pick(c.object, memberNames(entityOf(ctx.schema, c.change.entity))));
  const rows = p.json(updates.map((c, n) => ({ e: c.change.entity, i: c.change.id, d: data[n] })));
  const t = `${p.add(stamp)}::timestamptz`;
  const read = accessCase(ctx, updates.map((c) => c.change.entity), 'read', user, p);
  const written = await bulk(tx, `UPDATE sf_objects AS o SET data = r->'d', changed_date = ${t}
      FROM jsonb_array_elements(${rows}) AS r WHERE o.entity = r->>'e' AND o.id = (r->>'i')::uuid
      RETURNING o.entity, o.id::text AS id, ${read} AS readable`, p.values);
  // The owner and createdDate stay the stored ones (read when the batch locked its objects).
  return asWritten(updates, data, written, (c) => ({ owner: c.previous!.owner, createdDate: c.previous!.createdDate }), stamp);
}

/**
 * The written rows as the device gets them: system attributes, then the members as sent to the
 * database (jsonb gives the same values back: they were checked and normalized, and JSON numbers
 * and strings round-trip). Only rows the statement answered are written.
 */
function asWritten(
  planned: Planned[],
  data: Values[],
  rows: ReadonlyArray<{ entity: string; id: string; readable: boolean }>,
  system: (p: Planned) => { owner: unknown; createdDate: unknown },
  stamp: string,
): WrittenRow[] {
  const byKey = new Map(planned.map((p, n) => [key(p.change.entity, p.change.id), n]));
  return rows.map((r) => {
    const n = byKey.get(key(r.entity, r.id))!;
    const p = planned[n];
    const { owner, createdDate } = system(p);
    const object = { id: p.change.id, owner, createdDate, changedDate: stamp, ...data[n] } as SyncObject;
    return { entity: r.entity, id: r.id, object, readable: r.readable };
  });
}

/** A bulk write; a value the database refuses (SQLSTATE 22xxx / 23xxx) hands the batch to the per-change path. */
async function bulk(tx: Queryable, sql: string, params: unknown[]): Promise<WrittenRow[]> {
  try {
    return (await tx.query<WrittenRow>(sql, params)).rows;
  } catch (e) {
    const state = (e as { code?: unknown })?.code;
    if (typeof state === 'string' && /^2[23]/.test(state)) throw new NeedsPerChangePath(`a bulk write failed: ${(e as Error).message}`);
    throw e;
  }
}
