import Dexie from 'dexie';
import type { DBCore, DBCoreMutateRequest, DBCoreMutateResponse, DBCoreTable, DBCoreTransaction, Middleware } from 'dexie';
import { ValidationError, type Problem } from '../errors.ts';
import type { Schema } from '../model/schema.ts';
import { SYSTEM_ATTRIBUTES } from '../model/schema.ts';
import { isUuid, newId, validateValues } from '../model/values.ts';
import { allMembers, CHANGES, FILES, membersOf, META, SEQ_KEY, TAG, type Row } from './tables.ts';
import type { LocalChange } from './types.ts';

/** What the store needs from its change tracking besides the middleware itself. */
export interface ChangeTracking {
  /** The DBCore middleware to `db.use()`. */
  middleware: Middleware<DBCore>;
  /**
   * Marks a transaction as a server-side write of the store (sync pipeline): its entity writes
   * pass through untracked. Pass `Dexie.currentTransaction.idbtrans`.
   */
  untrack(trans: object): void;
  /** Reserves `count` consecutive seq numbers in `trans` and returns the first. */
  allocateSeq(trans: object, count: number): Promise<number>;
}

const SYSTEM = new Set<string>(SYSTEM_ATTRIBUTES);

/**
 * Meta key of the creates sent to the server whose answer has not been applied yet
 * (`entity:id` strings): one small record written before each upload request, instead of a
 * `sent` flag written into each change record. A create listed there counts as sent.
 */
export const SENT_KEY = '$sentCreates';

/** The key of an object in the `SENT_KEY` list. */
export function sentKey(entity: string, id: string): string {
  return `${entity}:${id}`;
}

/**
 * The one door of every local write: a Dexie DBCore middleware (as Dexie's own hooks
 * middleware) over the entity tables. Whatever writes a row — a Session commit, or app code
 * calling `db.table('Task').put(...)`, `bulkPut`, `delete`, `modify`, `clear` — is validated
 * and recorded as a pending LocalChange in the same IndexedDB transaction, so a change can be
 * neither lost nor half-written. Only transactions the store marks with `untrack` (writes of
 * server data during a sync) pass through.
 *
 * Merging: a put of a new object is a `create` (all members); a put over a stored object adds
 * the members whose value differs to the pending `update` (a pending `create` stays a create);
 * a put after a local delete is an `update` of all members (the server still has the object).
 * A delete drops a pending `create` (nothing to tell the server) and otherwise becomes a
 * `delete` carrying the last values. Every recorded change gets a new `seq` and `changeId`.
 *
 * @example
 * const tracking = changeTracking(schema);
 * db.use(tracking.middleware);
 * await db.table('Task').put({ id: newId(), title: 'raw write' }); // now a pending 'create'
 */
export function changeTracking(schema: Schema): ChangeTracking {
  const untracked = new WeakSet<object>();
  // Seq state per transaction: several writes in one transaction must not read the same counter.
  const seqs = new WeakMap<object, Promise<{ value: number }>>();
  let core: DBCore | undefined;

  const allocateSeq = async (trans: object, count: number): Promise<number> => {
    const meta = core!.table(META);
    const t = trans as DBCoreTransaction;
    let state = seqs.get(trans);
    if (!state) {
      state = meta.get({ trans: t, key: SEQ_KEY }).then((r: { value?: number } | undefined) => ({ value: r?.value ?? 0 }));
      seqs.set(trans, state);
    }
    const s = await state;
    const first = s.value + 1;
    s.value += count;
    await meta.mutate({ trans: t, type: 'put', values: [{ key: SEQ_KEY, value: s.value }] });
    return first;
  };

  const middleware: Middleware<DBCore> = {
    stack: 'dbcore',
    name: 'ChangeTracking',
    create(down) {
      core = down;
      const entities = new Set(Object.keys(schema.entities));
      return {
        ...down,
        // A plain `db.table('Task').put()` opens a transaction over 'Task' only; widen every
        // read-write transaction that touches an entity so the change records fit in it.
        transaction(stores, mode, options) {
          if (mode === 'readwrite' && stores.some((s) => entities.has(s))) {
            const extra = [CHANGES, META, FILES].filter((s) => !stores.includes(s));
            if (extra.length) stores = [...stores, ...extra];
          }
          return down.transaction(stores, mode, options);
        },
        table(name) {
          const table = down.table(name);
          if (!entities.has(name)) return table;
          return {
            ...table,
            mutate: (req) => (untracked.has(req.trans) ? table.mutate(req) : track(down, table, req)),
          };
        },
      };
    },
  };

  // Tracked writes of one transaction run one after the other: each reads the rows and change
  // records the previous one wrote (parallel puts of one object must not both see the old row).
  const queues = new WeakMap<object, Promise<unknown>>();

  function track(down: DBCore, table: DBCoreTable, req: DBCoreMutateRequest): Promise<DBCoreMutateResponse> {
    const run = () => (req.type === 'add' || req.type === 'put' ? trackPut(down, table, req) : trackDelete(down, table, req));
    const previous = queues.get(req.trans);
    // Dexie.Promise runs the queued write in the caller's Dexie zone (Dexie's own middlewares
    // below read the current transaction from it); a native then() may lose it.
    const next = previous ? Dexie.Promise.resolve(previous).then(run, run) : run();
    queues.set(req.trans, Promise.resolve(next).catch(() => undefined));
    return next;
  }

  async function trackPut(
    down: DBCore,
    table: DBCoreTable,
    req: Extract<DBCoreMutateRequest, { type: 'add' | 'put' }>,
  ): Promise<DBCoreMutateResponse> {
    const entity = table.name;
    const rows = prepareRows(schema, entity, req.values);
    const trans = req.trans;
    const changes = down.table(CHANGES);
    const ids = rows.map((r) => r.id);
    // Awaiting DBCore promises here keeps Dexie's zone, as Dexie's own hooks middleware relies on.
    const [existing, pending] = await rowsAndChanges(table, changes, trans, ids);
    const before = new Map<string, Row | undefined>();
    const change = new Map<string, LocalChange | undefined>();
    ids.forEach((id, i) => {
      if (!before.has(id)) {
        before.set(id, existing[i]);
        change.set(id, pending[i]);
      }
    });
    // The tag says which sync run last wrote the row; a local write keeps it.
    for (const row of rows) row[TAG] = (before.get(row.id)?.[TAG] as string | undefined) ?? '';

    const result = await table.mutate({ ...req, values: rows });

    const records = new Map<string, LocalChange>();
    rows.forEach((row, i) => {
      if (result.failures[i]) return; // e.g. add() of an existing key: nothing was written
      const next = changeAfterPut(schema, entity, before.get(row.id), row, change.get(row.id));
      before.set(row.id, row);
      if (next) {
        change.set(row.id, next);
        records.set(row.id, next);
      }
    });
    await writeChanges(changes, trans, entity, [...records.values()], []);
    return result;
  }

  async function trackDelete(
    down: DBCore,
    table: DBCoreTable,
    req: Extract<DBCoreMutateRequest, { type: 'delete' | 'deleteRange' }>,
  ): Promise<DBCoreMutateResponse> {
    const entity = table.name;
    const trans = req.trans;
    const changes = down.table(CHANGES);
    const keys: string[] =
      req.type === 'delete'
        ? [...new Set(req.keys as string[])]
        : (await table.query({ trans, query: { index: table.schema.primaryKey, range: req.range } })).result;
    if (keys.length === 0) return table.mutate(req);
    const [existing, pending] = await rowsAndChanges(table, changes, trans, keys);
    const result = await table.mutate(req);
    const put: LocalChange[] = [];
    const drop: string[] = [];
    const unsent = (c: LocalChange | undefined) => c?.kind === 'create' && !c.sent;
    const sent = pending.some(unsent)
      ? new Set(((await down.table(META).get({ trans, key: SENT_KEY })) as { value?: string[] } | undefined)?.value ?? [])
      : new Set<string>();
    keys.forEach((id, i) => {
      const row = existing[i];
      if (!row || (req.type === 'delete' && result.failures[req.keys.indexOf(id)])) return;
      // A create the server never saw needs no delete; one already sent may be there (its answer lost).
      if (unsent(pending[i]) && !sent.has(sentKey(entity, id))) drop.push(id);
      else put.push({ entity, id, kind: 'delete', changed: [], data: membersOf(schema, entity, row), seq: 0, changeId: '' });
    });
    await writeChanges(changes, trans, entity, put, drop);
    const gone = keys.filter((_, i) => existing[i]).map((id) => [entity, id]);
    if (gone.length) await down.table(FILES).mutate({ trans, type: 'delete', keys: gone });
    return result;
  }

  /** The rows of `ids` in `table` and their pending change records, read together (DBCore promises, awaited by the caller). */
  function rowsAndChanges(
    table: DBCoreTable,
    changes: DBCoreTable,
    trans: DBCoreTransaction,
    ids: string[],
  ): Promise<[Array<Row | undefined>, Array<LocalChange | undefined>]> {
    return Promise.all([
      table.getMany({ trans, keys: ids }) as Promise<Array<Row | undefined>>,
      changes.getMany({ trans, keys: ids.map((id) => [table.name, id]) }) as Promise<Array<LocalChange | undefined>>,
    ]);
  }

  async function writeChanges(
    changes: DBCoreTable,
    trans: DBCoreTransaction,
    entity: string,
    put: LocalChange[],
    drop: string[],
  ): Promise<void> {
    if (put.length) {
      const first = await allocateSeq(trans, put.length);
      const values = put.map((c, i) => ({ ...c, seq: first + i, changeId: newId() }));
      await changes.mutate({ trans, type: 'put', values });
    }
    if (drop.length) await changes.mutate({ trans, type: 'delete', keys: drop.map((id) => [entity, id]) });
  }

  return {
    middleware,
    untrack: (trans) => void untracked.add(trans),
    allocateSeq,
  };
}

/**
 * The pending change after a put of `row` over `old` (undefined: no stored row), given the
 * pending change `pending`; undefined when nothing needs recording (no member changed).
 */
function changeAfterPut(
  schema: Schema,
  entity: string,
  old: Row | undefined,
  row: Row,
  pending: LocalChange | undefined,
): LocalChange | undefined {
  const base = { entity, id: row.id, seq: 0, changeId: '' };
  const all = allMembers(schema, entity);
  if (!old) {
    // No stored row: a new object, or one brought back after a local delete (the server has it).
    if (!pending || pending.kind === 'create') return { ...base, kind: 'create', changed: all, ...(pending?.sent ? { sent: true } : {}) };
    return { ...base, kind: 'update', changed: all };
  }
  const diff = all.filter((m) => (old[m] ?? null) !== (row[m] ?? null));
  if (diff.length === 0) return undefined;
  if (!pending) return { ...base, kind: 'update', changed: diff };
  if (pending.kind === 'create') return { ...base, kind: 'create', changed: all, ...(pending.sent ? { sent: true } : {}) };
  if (pending.kind === 'delete') return { ...base, kind: 'update', changed: all };
  return { ...base, kind: 'update', changed: [...new Set([...pending.changed, ...diff])] };
}

/**
 * Validates and normalizes written values (the same rules as a Session commit) and strips
 * everything internal (`$entity`, `$tag`, ...): the middleware sets the internal fields itself.
 */
function prepareRows(schema: Schema, entity: string, values: readonly unknown[]): Row[] {
  const problems: Problem[] = [];
  const rows: Row[] = [];
  for (const value of values) {
    const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    const path = `${entity}(${String(v.id)})`;
    if (!isUuid(v.id)) {
      problems.push({ path: `${path}.id`, message: 'must be a UUID' });
      continue;
    }
    const members: Record<string, unknown> = {};
    for (const key of Object.keys(v)) if (!key.startsWith('$') && !SYSTEM.has(key)) members[key] = v[key];
    try {
      const normalized = validateValues(schema, entity, members, { path });
      rows.push({
        id: v.id,
        createdDate: (v.createdDate as string | null | undefined) ?? null,
        changedDate: (v.changedDate as string | null | undefined) ?? null,
        owner: (v.owner as string | null | undefined) ?? null,
        ...normalized,
      });
    } catch (e) {
      if (e instanceof ValidationError) problems.push(...e.problems);
      else throw e;
    }
  }
  if (problems.length) throw new ValidationError(problems);
  return rows;
}
