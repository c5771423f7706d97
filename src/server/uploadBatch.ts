import { ValidationError, type Problem } from '../errors.ts';
import { entityOf, memberNames } from '../model/schema.ts';
import { validateValues, type SyncObject, type Values } from '../model/values.ts';
import type { ChangeRequest } from '../transport/wire.ts';
import {
  applyChange,
  baseConflict,
  ChangeFailure,
  handlerContext,
  notFound,
  nullMembers,
  pick,
  toFailure,
  type ChangeOutcome,
} from './applyChange.ts';
import type { AuthUser } from './AuthUser.ts';
import { tickClock } from './clock.ts';
import type { HandlerContext } from './handlers.ts';
import { ObjectTx } from './ObjectTx.ts';
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

interface Locked {
  object: SyncObject;
  readable: boolean;
  writable: boolean;
}

/** A create or update that passed its checks, on its way to the bulk write. */
interface Planned {
  index: number;
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
 * Before-commit handlers run per object, all before the batch's writes; after-commit handlers
 * per object, after them. Deletes (rare, cascading) go through applyChange one by one.
 *
 * Answers the outcome of each change (same order) and the transaction's stamp. Throws
 * NeedsPerChangePath when the per-change path must take over (see above).
 */
export async function applyBatch(
  ctx: ServerContext,
  tx: Queryable,
  user: AuthUser,
  changes: readonly ChangeRequest[],
): Promise<{ outcomes: ChangeOutcome[]; stamp: string }> {
  const { schema, access } = ctx;
  const outcomes: ChangeOutcome[] = new Array(changes.length);
  const fail = (i: number, e: unknown) => {
    const failure = toFailure(e);
    if (!failure) throw e;
    outcomes[i] = { status: 'failed', ...failure };
  };

  const state = await lockBatch(ctx, tx, user, changes);

  // Checks in JavaScript: existence, access, base version, values.
  const planned = new Map<string, Planned>();
  const provisional = new Date().toISOString();
  const deletes: number[] = [];
  changes.forEach((change, i) => {
    const refusal = refusedChange(change);
    if (refusal) return (outcomes[i] = { status: 'failed', reason: 'invalid', message: refusal });
    if (change.kind === 'delete') return deletes.push(i);
    const { entity, id, kind } = change;
    const def = entityOf(schema, entity);
    const k = key(entity, id);
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
      planned.set(k, { index: i, change, object, previous: existing?.object ?? null, refs });
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
  const batchKeys = new Set(changes.map((c) => key(c.entity, c.id)));
  const batchIndex = new Map(changes.map((c, i) => [key(c.entity, c.id), i]));
  const handlerWrites = new Set<string>();
  const referenced = new Set([...planned.values()].flatMap((p) => p.refs.map(([e, id]) => key(e, id))));

  for (const [k, p] of planned) {
    p.object = { ...p.object, ...(p.previous ? {} : { createdDate: stamp }), changedDate: stamp };
    const handler = ctx.handlers[p.change.entity]?.beforeCommit;
    if (!handler) continue;
    const kind = p.previous ? 'update' : 'create';
    const touched = { read: new Set<string>(), wrote: new Set<string>() };
    try {
      const changed = await handler({ ...p.object }, trackedContext(otx, kind, p.previous, touched));
      if (changed) {
        const values = validateValues(schema, p.change.entity, changed, { partial: true, path: `${p.change.entity}.beforeCommit` });
        await otx.checkReferences(p.change.entity, values, `${p.change.entity}.beforeCommit`, { asUser: false, self: p.change.id });
        p.object = { ...p.object, ...values };
      }
    } catch (e) {
      // A refusal after the handler wrote something, or of an object others refer to, cannot be
      // undone here without a savepoint per change.
      if (touched.wrote.size || referenced.has(k) || !toFailure(e)) {
        if (toFailure(e)) throw new NeedsPerChangePath(`${p.change.entity} beforeCommit refused after writing`);
        throw e;
      }
      planned.delete(k);
      fail(p.index, e);
    }
    // Change by change, this handler would see the batch's earlier changes written: here it sees none.
    for (const t of [...touched.read, ...touched.wrote]) {
      if (t !== k && batchKeys.has(t)) throw new NeedsPerChangePath(`a beforeCommit handler used ${t}, which the batch writes too`);
    }
    for (const w of touched.wrote) handlerWrites.add(w);
  }

  const creates = [...planned.values()].filter((p) => !p.previous);
  const updates = [...planned.values()].filter((p) => p.previous);
  const written = new Map<string, { object: SyncObject; readable: boolean }>();
  for (const row of await writeCreates(ctx, tx, user, stamp, creates)) written.set(key(row.entity, row.id), row);
  for (const row of await writeUpdates(ctx, tx, user, stamp, updates)) written.set(key(row.entity, row.id), row);

  for (const p of [...creates, ...updates].sort((a, b) => a.index - b.index)) {
    const k = key(p.change.entity, p.change.id);
    const row = written.get(k);
    if (!row) throw new Error(`the bulk write did not return ${k}`);
    outcomes[p.index] = { status: 'applied', object: row.readable ? row.object : null };
    const handler = ctx.handlers[p.change.entity]?.afterCommit;
    if (!handler) continue;
    const touched = { read: new Set<string>(), wrote: new Set<string>() };
    try {
      await handler({ ...row.object }, trackedContext(otx, p.previous ? 'update' : 'create', p.previous, touched));
    } catch (e) {
      if (toFailure(e)) throw new NeedsPerChangePath(`${p.change.entity} afterCommit refused a written change`);
      throw e;
    }
    // Change by change, a later change of the batch would overwrite what this handler writes.
    for (const w of touched.wrote) {
      if ((batchIndex.get(w) ?? -1) > p.index) throw new NeedsPerChangePath(`an afterCommit handler wrote ${w}, which a later change writes`);
      handlerWrites.add(w);
    }
  }

  // Deletes one by one, as the per-change path does (each in its savepoint).
  for (const i of deletes) outcomes[i] = await applyChange(otx, changes[i]);

  // The device gets each object as it is now: read again only those a handler wrote.
  const reread = [...planned.values()].filter((p) => handlerWrites.has(key(p.change.entity, p.change.id)));
  if (reread.length) {
    const now = await readableObjects(ctx, tx, user, reread.map((p) => [p.change.entity, p.change.id] as const));
    for (const p of reread) outcomes[p.index] = { status: 'applied', object: now.get(key(p.change.entity, p.change.id)) ?? null };
  }
  return { outcomes, stamp };
}

function isBatchCreate(planned: Map<string, Planned>, entity: string, id: string): boolean {
  const p = planned.get(key(entity, id));
  return !!p && !p.previous;
}

/** A handler context that notes the objects the handler reads and writes. */
function trackedContext(
  otx: ObjectTx,
  kind: 'create' | 'update',
  previous: SyncObject | null,
  touched: { read: Set<string>; wrote: Set<string> },
): HandlerContext {
  const ctx = handlerContext(otx, kind, previous);
  const lower = (id: string) => String(id).toLowerCase();
  return {
    ...ctx,
    async get(entity, id) {
      touched.read.add(key(entity, lower(id)));
      return ctx.get(entity, id);
    },
    async create(entity, values) {
      const object = await ctx.create(entity, values);
      touched.wrote.add(key(entity, object.id));
      return object;
    },
    async update(entity, id, values) {
      touched.wrote.add(key(entity, lower(id)));
      return ctx.update(entity, id, values);
    },
    async delete(entity, id) {
      touched.wrote.add(key(entity, lower(id)));
      return ctx.delete(entity, id);
    },
  };
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

/** One `INSERT ... SELECT` for every create of the batch; RETURNING the objects as the device gets them. */
async function writeCreates(ctx: ServerContext, tx: Queryable, user: AuthUser, stamp: string, creates: Planned[]): Promise<WrittenRow[]> {
  if (!creates.length) return [];
  const p = new SqlParams();
  const rows = p.json(creates.map((c) => ({ e: c.change.entity, i: c.change.id, d: pick(c.object, memberNames(entityOf(ctx.schema, c.change.entity))) })));
  const t = `${p.add(stamp)}::timestamptz`;
  const read = accessCase(ctx, creates.map((c) => c.change.entity), 'read', user, p);
  return bulk(tx, `INSERT INTO sf_objects AS o (entity, id, owner, created_date, changed_date, data)
      SELECT r->>'e', (r->>'i')::uuid, ${p.add(user.id)}, ${t}, ${t}, r->'d' FROM jsonb_array_elements(${rows}) AS r
      RETURNING o.entity, o.id::text AS id, ${objectJsonSql('o')} AS object, ${read} AS readable`, p.values);
}

/** One `UPDATE ... FROM` for every update of the batch (whole member data, as replace does). */
async function writeUpdates(ctx: ServerContext, tx: Queryable, user: AuthUser, stamp: string, updates: Planned[]): Promise<WrittenRow[]> {
  if (!updates.length) return [];
  const p = new SqlParams();
  const rows = p.json(updates.map((c) => ({ e: c.change.entity, i: c.change.id, d: pick(c.object, memberNames(entityOf(ctx.schema, c.change.entity))) })));
  const t = `${p.add(stamp)}::timestamptz`;
  const read = accessCase(ctx, updates.map((c) => c.change.entity), 'read', user, p);
  return bulk(tx, `UPDATE sf_objects AS o SET data = r->'d', changed_date = ${t}
      FROM jsonb_array_elements(${rows}) AS r WHERE o.entity = r->>'e' AND o.id = (r->>'i')::uuid
      RETURNING o.entity, o.id::text AS id, ${objectJsonSql('o')} AS object, ${read} AS readable`, p.values);
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
