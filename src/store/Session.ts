import { freeze, produce } from 'immer';
import { isQuotaExceeded, StorageFullError, SyncflowError, ValidationError, type Problem } from '../errors.ts';
import { entityOf, memberNames, referrersOf } from '../model/schema.ts';
import { memberValues, newId, validateValues, type Values } from '../model/values.ts';
import type { LocalStore } from './LocalStore.ts';
import { CHANGES, toLocalObject, type Row } from './tables.ts';
import type { LocalChange, LocalObject } from './types.ts';

/** An object the session holds uncommitted. */
interface Held {
  object: LocalObject;
  /** Made by `create` in this session (never committed since). */
  created: boolean;
  /** Members set by `change` (all members for a created object). */
  changed: Set<string>;
  /** Every version handed out while held, so `current` can follow an old reference. */
  versions: LocalObject[];
}

const keyOf = (o: { $entity: string; id: string }) => `${o.$entity}:${o.id}`;

/**
 * The uncommitted work of one flow run or one UI form. Objects are immutable values: `change`
 * returns a new version and the session keeps an identity map (entity + id → latest version),
 * so every reference to an object can be brought up to date with `current`. Nothing reaches
 * the local database before `commit` (or `delete`, which is immediate).
 *
 * The session holds nothing the database needs for correctness: committed work lives in
 * IndexedDB (shared by every tab), only uncommitted work lives here.
 *
 * @example
 * const session = store.session();
 * const task = session.create('Task', { title: 'Write the spec' });
 * const done = session.change(task, { done: true });
 * await session.commit(done); // a pending 'create' with every member
 */
export class Session {
  private readonly held = new Map<string, Held>();
  /** An object version this session replaced at commit → the committed version. */
  private readonly forward = new WeakMap<LocalObject, LocalObject>();

  constructor(private readonly store: LocalStore) {}

  /**
   * A new, uncommitted object with a device-made id: every member is empty (null) unless given;
   * given values are validated (required members may stay empty until the commit).
   *
   * @example
   * const task = session.create('Task', { title: 'Buy milk', priority: 'high' });
   */
  create(entity: string, values: Values = {}): LocalObject {
    const def = entityOf(this.store.schema, entity);
    const id = newId();
    const normalized = validateValues(this.store.schema, entity, values, { partial: true, path: `${entity}(${id})` });
    const object: Record<string, unknown> = { id, createdDate: null, changedDate: null, owner: null };
    for (const name of memberNames(def)) object[name] = null;
    Object.assign(object, normalized, { $entity: entity });
    const frozen = freeze(object, true) as LocalObject;
    this.held.set(keyOf(frozen), { object: frozen, created: true, changed: new Set(memberNames(def)), versions: [frozen] });
    return frozen;
  }

  /**
   * Sets members of an object (validated, partially) and returns the new version; the session
   * remembers which members changed. Applies on top of the session's latest version of the
   * object, whichever version is passed.
   *
   * @example
   * const edited = session.change(task, { title: 'Buy oat milk' });
   */
  change(object: LocalObject, values: Values): LocalObject {
    entityOf(this.store.schema, object.$entity);
    const normalized = validateValues(this.store.schema, object.$entity, values, {
      partial: true,
      path: `${object.$entity}(${object.id})`,
    });
    const key = keyOf(object);
    let held = this.held.get(key);
    const base = held?.object ?? this.current(object);
    const next = produce(base, (draft: Record<string, unknown>) => {
      Object.assign(draft, normalized);
    }) as LocalObject;
    if (!held) {
      held = { object: base, created: false, changed: new Set(), versions: base === object ? [base] : [object, base] };
      this.held.set(key, held);
    }
    for (const name of Object.keys(normalized)) held.changed.add(name);
    held.object = next;
    held.versions.push(next);
    return next;
  }

  /**
   * The latest version of an object: the one the session holds uncommitted, the committed
   * version of a version this session produced, or else the object itself (a fresh read).
   *
   * @example
   * session.change(task, { done: true });
   * session.current(task).done; // true
   */
  current(object: LocalObject): LocalObject {
    const held = this.held.get(keyOf(object));
    if (held) return held.object;
    let o = object;
    for (let next = this.forward.get(o); next; next = this.forward.get(o)) o = next;
    return o;
  }

  /**
   * True while the object was created or changed in this session and not committed since.
   *
   * @example
   * session.isUncommitted(session.create('Task')); // true
   */
  isUncommitted(object: LocalObject): boolean {
    return this.held.has(keyOf(object));
  }

  /**
   * The latest versions of every uncommitted object.
   *
   * @example
   * for (const o of session.uncommitted()) console.log(o.$entity, o.id);
   */
  uncommitted(): LocalObject[] {
    return [...this.held.values()].map((h) => h.object);
  }

  /**
   * Writes the session's latest versions of the objects to the local database in one
   * transaction, marking them created (all members) or changed (the changed members, merged
   * into the pending change). Everything is validated first: a ValidationError names each bad
   * field as `Task(<id>).title`, and then nothing is written. Objects the session does not hold
   * uncommitted are left as they are. Returns the committed versions, in the given order.
   *
   * A changed object is merged member by member into the stored row, so values the server
   * wrote meanwhile (a sync refresh) are kept for members this session did not change; the
   * change-tracking middleware then records the members whose stored value really changed
   * (a commit that changes nothing records nothing). An object that left the database
   * meanwhile (removed by a sync) is refused with a `not_found` SyncflowError, nothing written.
   *
   * @example
   * const [saved] = await session.commit(task);
   */
  async commit(objects: LocalObject | LocalObject[]): Promise<LocalObject[]> {
    const list = Array.isArray(objects) ? objects : [objects];
    const schema = this.store.schema;
    const entries = new Map<string, Held>();
    for (const o of list) {
      const held = this.held.get(keyOf(o));
      if (held) entries.set(keyOf(o), held);
    }
    const problems: Problem[] = [];
    for (const h of entries.values()) {
      const { $entity: entity, id } = h.object;
      try {
        validateValues(schema, entity, memberValues(schema, entity, h.object), { path: `${entity}(${id})` });
      } catch (e) {
        if (e instanceof ValidationError) problems.push(...e.problems);
        else throw e;
      }
    }
    if (problems.length) throw new ValidationError(problems);

    const committed = new Map<string, LocalObject>();
    if (entries.size) {
      const byEntity = new Map<string, Held[]>();
      for (const h of entries.values()) byEntity.set(h.object.$entity, [...(byEntity.get(h.object.$entity) ?? []), h]);
      const db = this.store.db;
      await storageFullAsTyped(db.transaction('rw', [...byEntity.keys(), CHANGES], async () => {
        for (const [entity, group] of byEntity) {
          const ids = group.map((h) => h.object.id);
          const [stored, pending] = await Promise.all([
            db.table(entity).bulkGet(ids) as Promise<Array<Row | undefined>>,
            db.table(CHANGES).bulkGet(ids.map((id) => [entity, id])) as Promise<Array<LocalChange | undefined>>,
          ]);
          const rows = group.map((h, i) => rowToWrite(h, stored[i], pending[i]));
          // The change-tracking middleware records the changes in this same transaction.
          await db.table(entity).bulkPut(rows);
          rows.forEach((row) => committed.set(`${entity}:${row.id}`, toLocalObject(schema, entity, row)));
        }
      }));
    }
    for (const [key, h] of entries) {
      const version = committed.get(key)!;
      for (const v of h.versions) if (v !== version) this.forward.set(v, version);
      this.held.delete(key);
    }
    return list.map((o) => committed.get(keyOf(o)) ?? this.current(o));
  }

  /**
   * Forgets uncommitted changes: of the given objects, or of all when called without argument.
   * A created object that was never committed is gone.
   *
   * @example
   * session.rollback(task);
   */
  rollback(objects?: LocalObject | LocalObject[]): void {
    if (objects === undefined) return this.held.clear();
    for (const o of Array.isArray(objects) ? objects : [objects]) this.held.delete(keyOf(o));
  }

  /**
   * Deletes objects from the local database at once (a committed change): a pending create is
   * simply dropped (the server never saw it), any other object leaves a pending `delete`
   * carrying its last values. Uncommitted changes of the objects are forgotten.
   *
   * As the server does on a delete: objects that refer to a deleted one lose the reference (a
   * tracked change), or are deleted too when the association is required — so a new object
   * that referred to a new one deleted before it reached the server is still valid there.
   *
   * @example
   * await session.delete(task);
   */
  async delete(objects: LocalObject | LocalObject[]): Promise<void> {
    const list = Array.isArray(objects) ? objects : [objects];
    const { schema, db } = this.store;
    for (const o of list) entityOf(schema, o.$entity);
    if (list.length === 0) return;
    const referrers = referrersOf(schema);
    const deleted = new Map<string, Set<string>>();
    await storageFullAsTyped(db.transaction('rw', schema.order, async () => {
      // The closure over required associations first: a referrer deleted too is not also changed.
      const queue = list.map((o) => [o.$entity, o.id] as const);
      for (let i = 0; i < queue.length; i++) {
        const [entity, id] = queue[i];
        const ids = deleted.get(entity) ?? new Set<string>();
        if (ids.has(id)) continue;
        deleted.set(entity, ids.add(id));
        for (const ref of referrers.get(entity) ?? []) {
          if (!ref.required) continue;
          for (const key of await db.table(ref.entity).where(ref.association).equals(id).primaryKeys()) queue.push([ref.entity, String(key)]);
        }
      }
      for (const [entity, ids] of deleted) {
        for (const ref of referrers.get(entity) ?? []) {
          if (ref.required) continue;
          const gone = deleted.get(ref.entity);
          await db
            .table(ref.entity)
            .where(ref.association)
            .anyOf([...ids])
            .filter((row: Row) => !gone?.has(row.id as string))
            .modify({ [ref.association]: null });
        }
      }
      for (const [entity, ids] of deleted) await db.table(entity).bulkDelete([...ids]);
    }));
    for (const [entity, ids] of deleted) for (const id of ids) this.held.delete(keyOf({ $entity: entity, id }));
  }
}

/** The row a commit writes for a held object, given the stored row and the pending change. */
function rowToWrite(h: Held, stored: Row | undefined, pending: LocalChange | undefined): Row {
  const { $entity: entity, ...values } = h.object;
  if (stored) {
    // Merge only what this session changed: other members may have been refreshed meanwhile.
    const row: Row = { ...stored };
    for (const name of h.changed) row[name] = values[name];
    return row;
  }
  if (h.created || pending?.kind === 'delete') return values as Row;
  throw new SyncflowError(
    'not_found',
    `${entity}(${h.object.id}) is no longer in the local database (deleted, or removed by a synchronization); it cannot be committed`,
  );
}

/** A transaction that failed on a full device rejects with StorageFullError (it stored nothing). */
async function storageFullAsTyped<T>(transaction: Promise<T>): Promise<T> {
  try {
    return await transaction;
  } catch (e) {
    throw isQuotaExceeded(e) ? new StorageFullError({ cause: e }) : e;
  }
}
