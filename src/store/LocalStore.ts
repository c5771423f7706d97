import Dexie from 'dexie';
import { SyncflowError, SyncNameTakenError, ValidationError } from '../errors.ts';
import type { Constraint } from '../model/constraint.ts';
import { entityOf, type Schema } from '../model/schema.ts';
import { newId, type SyncObject } from '../model/values.ts';
import type { SynchronizationFailure } from '../transport/wire.ts';
import { SENT_KEY, sentKey, type ChangeTracking } from './changeTracking.ts';
import {
  attachedRow,
  fileFailure,
  fileVersionsOf,
  notPendingKeys,
  pendingFileIds,
  PENDING_VERSION,
  type FailedFileRow,
  type FileRefusalReason,
  type FileRow,
  type PartialFileRow,
  type PendingFile,
} from './fileContents.ts';
import { countQuery, runQuery } from './runQuery.ts';
import { Session } from './Session.ts';
import { allMembers, CHANGES, FAILED_FILES, FAILURES, FILES, PARTIAL_FILES, membersOf, META, objectKey, SEQ_KEY, SYNC_ROWS, SYNC_STATES, TAG, toLocalObject, type Row } from './tables.ts';
import type { ApplyOptions, ApplyResult, Confirmation, ConfirmOptions, LocalChange, LocalObject, QueryOptions, Refusal } from './types.ts';
import type { SyncState } from '../model/syncState.ts';

const SYSTEM_FIELDS = ['createdDate', 'changedDate', 'owner'] as const;
/** Confirmations written per transaction. */
const CONFIRM_BATCH = 1000;
/** Above this many listed sent creates, `markSent` drops those no longer pending creates. */
const SENT_PRUNE_AT = 5000;
/**
 * Tables a transaction that may remove objects of a file entity needs besides the entity's: their
 * contents not uploaded yet become file failures (removeRows), never silently dropped.
 */
const FILE_KEEPING = [FILES, FAILED_FILES, PARTIAL_FILES, FAILURES, META];

function splitSentKey(key: string): [string, string] {
  const at = key.indexOf(':');
  return [key.slice(0, at), key.slice(at + 1)];
}

/**
 * The local offline database of one app and user: Dexie over IndexedDB, one table per entity.
 *
 * - Reads see committed objects only (a locally deleted object is gone).
 * - Local writes go through a `Session` (or raw Dexie writes): the change-tracking middleware
 *   marks them as pending changes, which the sync pipeline uploads.
 * - Server-side writes (`applyServerObjects`, `confirm`, `discardChange`, `removeObjects`,
 *   `removeUntagged`) are for the sync pipeline only and are never recorded as local changes.
 *
 * Everything lives in IndexedDB, so several tabs can share one store.
 *
 * @example
 * const store = await openStore({ schema: demoSchema, name: 'app' });
 * const session = store.session();
 * await session.commit(session.create('Project', { name: 'Garden' }));
 * const projects = await store.query('Project', { sort: [['name', 'asc']] });
 */
export class LocalStore {
  constructor(
    readonly schema: Schema,
    readonly db: Dexie,
    private readonly tracking: ChangeTracking,
  ) {}

  // ---------------------------------------------------------------- reads

  /**
   * One committed object, or undefined.
   *
   * @example
   * const task = await store.get('Task', id);
   */
  async get(entity: string, id: string): Promise<LocalObject | undefined> {
    entityOf(this.schema, entity);
    const row = (await this.db.table(entity).get(id)) as Row | undefined;
    return row && toLocalObject(this.schema, entity, row);
  }

  /**
   * Objects by id, in the order of `ids` (undefined where there is none).
   *
   * @example
   * const [a, b] = await store.getMany('Task', [idA, idB]);
   */
  async getMany(entity: string, ids: string[]): Promise<Array<LocalObject | undefined>> {
    entityOf(this.schema, entity);
    const rows = (await this.db.table(entity).bulkGet(ids)) as Array<Row | undefined>;
    return rows.map((row) => row && toLocalObject(this.schema, entity, row));
  }

  /**
   * Objects matching a constraint, sorted (then by id), paged with limit and offset.
   *
   * @example
   * const open = await store.query('Task', {
   *   where: { attribute: 'done', op: 'eq', value: false },
   *   sort: [['due', 'asc']],
   *   limit: 20,
   * });
   */
  async query(entity: string, options?: QueryOptions): Promise<LocalObject[]> {
    const rows = await runQuery(this.db, this.schema, entity, options);
    return rows.map((row) => toLocalObject(this.schema, entity, row));
  }

  /**
   * The number of objects matching a constraint. Also accepts query options (as the flow
   * interpreter's Retrieve passes them): `limit` and `offset` then bound the count.
   *
   * @example
   * const done = await store.count('Task', { attribute: 'done', op: 'eq', value: true });
   */
  count(entity: string, where?: Constraint | QueryOptions): Promise<number> {
    // A constraint always has one of and / or / not / attribute; query options never do.
    const isConstraint = !!where && ('and' in where || 'or' in where || 'not' in where || 'attribute' in where);
    return countQuery(this.db, this.schema, entity, isConstraint ? { where: where as Constraint } : (where as QueryOptions));
  }

  /**
   * The object an association of `object` refers to (undefined when empty or not stored).
   *
   * @example
   * const project = await store.follow(task, 'project');
   */
  async follow(object: LocalObject, association: string): Promise<LocalObject | undefined> {
    const target = this.associationOf(object.$entity, association).target;
    const id = object[association];
    return typeof id === 'string' ? this.get(target, id) : undefined;
  }

  /**
   * The objects of `entity` whose `association` refers to `targetId` (by index), in id order.
   *
   * @example
   * const tasks = await store.referrers('Task', 'project', project.id);
   */
  async referrers(entity: string, association: string, targetId: string): Promise<LocalObject[]> {
    this.associationOf(entity, association);
    const rows = (await this.db.table(entity).where(association).equals(targetId).toArray()) as Row[];
    return rows.map((row) => toLocalObject(this.schema, entity, row));
  }

  /**
   * A new unit of uncommitted work.
   *
   * @example
   * const session = store.session();
   */
  session(): Session {
    return new Session(this);
  }

  // ---------------------------------------------------------------- change tracking

  /**
   * Every pending change, in upload order: creates and updates with association targets first
   * (schema order), then deletes with referrers first (reverse schema order); by seq within an
   * entity.
   *
   * @example
   * for (const change of await store.pendingChanges()) console.log(change.kind, change.entity, change.id);
   */
  async pendingChanges(): Promise<LocalChange[]> {
    return (await this.pendingChangesAt()).changes;
  }

  /**
   * `pendingChanges`, with the store's change counter read in the same transaction: every commit
   * moves it, so `confirm` given it as `listedAt` knows, from one read, whether the listed
   * changes are still the latest ones (then it does not read their records again).
   *
   * @example
   * const { changes, seq } = await store.pendingChangesAt();
   * await uploadChanges(ctx, changes, signal, { listedAt: seq });
   */
  async pendingChangesAt(): Promise<{ changes: LocalChange[]; seq: number }> {
    const [changes, sent, seq] = await this.db.transaction('r', [CHANGES, META], () =>
      Promise.all([this.db.table(CHANGES).toArray() as Promise<LocalChange[]>, this.sentCreates(), this.seqCounter()]),
    );
    if (sent.size) for (const c of changes) if (c.kind === 'create' && sent.has(sentKey(c.entity, c.id))) c.sent = true;
    const n = this.schema.order.length;
    const position = new Map(this.schema.order.map((e, i) => [e, i]));
    const rank = (c: LocalChange) => {
      const i = position.get(c.entity) ?? n;
      return c.kind === 'delete' ? 2 * n - i : i;
    };
    return { changes: changes.sort((a, b) => rank(a) - rank(b) || a.seq - b.seq), seq };
  }

  /**
   * The pending change of one object, if any.
   *
   * @example
   * const change = await store.pendingChange('Task', id); // { kind: 'update', changed: ['title'], ... }
   */
  async pendingChange(entity: string, id: string): Promise<LocalChange | undefined> {
    const [change, sent] = await this.db.transaction('r', [CHANGES, META], () =>
      Promise.all([this.db.table(CHANGES).get(objectKey(entity, id)) as Promise<LocalChange | undefined>, this.sentCreates()]),
    );
    return change?.kind === 'create' && sent.has(sentKey(entity, id)) ? { ...change, sent: true } : change;
  }

  /**
   * How many objects have pending changes.
   *
   * @example
   * const badge = await store.pendingCount();
   */
  pendingCount(): Promise<number> {
    return this.db.table(CHANGES).count();
  }

  // ---------------------------------------------------------------- server-side writes (sync pipeline)

  /**
   * Stores objects downloaded from the server, in one transaction. By default an object with a
   * pending local change is left alone (counted in `skipped`): a change committed while a sync
   * runs is never overwritten. With `overwrite`, server values win and the change marks are
   * cleared. `tag` (a sync run id) is stored on each written row, for `removeUntagged`.
   * `sync` records that a named sync holds these objects (for its ghost cleaning) and stores its
   * checkpoint in the same transaction: a stored batch and its checkpoint exist together or not at all.
   *
   * @example
   * const { written, skipped } = await store.applyServerObjects('Task', batch.objects, { tag: runId });
   */
  async applyServerObjects(
    entity: string,
    objects: SyncObject[],
    options: ApplyOptions = {},
  ): Promise<ApplyResult> {
    entityOf(this.schema, entity);
    if (objects.length === 0 && !options.sync?.checkpoint) return { written: 0, skipped: 0 };
    const tag = options.tag ?? '';
    const tables = options.sync ? [entity, CHANGES, SYNC_ROWS, SYNC_STATES] : [entity, CHANGES];
    return this.serverWrite(tables, async () => {
      if (options.sync) {
        const { id: sync, run = '', checkpoint } = options.sync;
        if (objects.length) await this.db.table(SYNC_ROWS).bulkPut(objects.map((o) => ({ sync, id: o.id, run })));
        if (checkpoint) await this.db.table(SYNC_STATES).put(stateRow(checkpoint));
        if (objects.length === 0) return { written: 0, skipped: 0 };
      }
      const changes = this.db.table(CHANGES);
      // An entity usually has few pending changes (often none): one read of their keys on the
      // entity index spares a lookup per object. Only when there are more than objects in the
      // call is a lookup of the call's keys cheaper.
      const few = (await changes.where('entity').equals(entity).limit(objects.length + 1).primaryKeys()) as Array<[string, string]>;
      let isPending: (o: SyncObject, i: number) => boolean;
      if (few.length <= objects.length) {
        const ids = new Set(few.map(([, id]) => id));
        isPending = (o) => ids.has(o.id);
      } else {
        const found = await changes.bulkGet(objects.map((o) => objectKey(entity, o.id)));
        isPending = (_, i) => found[i] !== undefined;
      }
      let rows: Row[];
      if (few.length === 0 || options.overwrite) {
        rows = objects.map((o) => ({ ...o, [TAG]: tag }));
        const marked = few.length === 0 ? [] : objects.filter(isPending).map((o) => objectKey(entity, o.id));
        if (marked.length) await changes.bulkDelete(marked);
      } else {
        rows = [];
        objects.forEach((o, i) => isPending(o, i) || rows.push({ ...o, [TAG]: tag }));
      }
      await this.db.table(entity).bulkPut(rows);
      return { written: rows.length, skipped: objects.length - rows.length };
    });
  }

  /**
   * Applies the server's answers to uploaded changes, in one transaction per 1,000. A change whose seq
   * still equals the uploaded one is done: its record goes and the server's version of the
   * object is stored. A change committed again during the sync (newer seq) stays pending — a
   * confirmed create becomes an update of all members, a confirmed delete turns a later
   * re-commit into a create — and the object only takes the server's system attributes.
   * An object deleted locally while its create was uploading gets a pending delete, so the
   * server's copy goes too. With `remaining` members (a field-limited sync up), the change stays
   * pending for those members, whose local values are kept.
   *
   * Answers, per confirmation, whether the server's `object` now is the local object (its change
   * is done and nothing local was kept): then a refresh would fetch what the store already has.
   * False when a newer change or `remaining` members keep the object pending, or `object` is null.
   *
   * `listedAt` (the `seq` of `pendingChangesAt`, when the uploaded changes come from that
   * listing) spares reading each change's record while the change counter has not moved since.
   *
   * @example
   * const [stored] = await store.confirm([{ entity: 'Task', id, seq: change.seq, object: serverVersion }]);
   */
  async confirm(confirmations: Confirmation[], options: ConfirmOptions = {}): Promise<boolean[]> {
    if (confirmations.length === 0) return [];
    for (const e of new Set(confirmations.map((c) => c.entity))) entityOf(this.schema, e);
    // One transaction per 1,000: fake-indexeddb makes one huge transaction quadratic, and each
    // confirmation stands on its own (its change and row are written together).
    const stored: boolean[] = [];
    for (let i = 0; i < confirmations.length; i += CONFIRM_BATCH) {
      stored.push(...(await this.confirmBatch(confirmations.slice(i, i + CONFIRM_BATCH), options.listedAt)));
    }
    return stored;
  }

  /** `confirm` for one batch: bulk reads, the decisions in memory, then bulk writes per table. */
  private async confirmBatch(confirmations: Confirmation[], listedAt?: number): Promise<boolean[]> {
    const entities = [...new Set(confirmations.map((c) => c.entity))];
    const tookObject = new Array<boolean>(confirmations.length).fill(false);
    await this.serverWrite([...entities, CHANGES, ...FILE_KEEPING], async (trans) => {
      const changes = this.db.table(CHANGES);
      const [sent, counter] = await Promise.all([this.sentCreates(), listedAt === undefined ? undefined : this.seqCounter()]);
      // Every commit moves the counter: if it has not moved since the listing, each listed change
      // is still its object's latest, and only partly uploaded ones need their record. Writers of
      // $changes that allocate no seq cannot break this: a local delete drops only an unsent
      // create, and uploadChanges marks creates as sent before it reads their objects (one
      // dropped before is not sent; a delete after is recorded, with a seq); refuse and confirm
      // write the records of their own objects, listed once; applyServerObjects' overwrite and
      // removeObjects' force run in syncs, which never overlap an upload (one sync lock).
      const unchanged = counter !== undefined && counter === listedAt;
      const toRead = confirmations.flatMap((c, i) => (!unchanged || c.remaining?.length ? [i] : []));
      const records = toRead.length
        ? ((await changes.bulkGet(toRead.map((i) => objectKey(confirmations[i].entity, confirmations[i].id)))) as Array<LocalChange | undefined>)
        : [];
      const pending = new Array<LocalChange | undefined>(confirmations.length);
      toRead.forEach((i, k) => (pending[i] = records[k]));
      // The usual case (the uploaded change is the latest, uploaded whole) needs no stored row:
      // the server's version replaces it, with the tag '' a refresh writes too (the next
      // all-objects run tags every row it downloads). Only the other cases read theirs.
      const plain = confirmations.map((c, i) => !c.remaining?.length && (unchanged || pending[i]?.seq === c.seq));
      const others = confirmations.flatMap((_, i) => (plain[i] ? [] : [i]));
      const read = await this.rowsOf(others.map((i) => confirmations[i]));
      const stored = new Array<Row | undefined>(confirmations.length);
      others.forEach((i, k) => (stored[i] = read[k]));
      // The last decision per key wins, as writes one after the other would.
      const changeWrites = new Map<string, { key: [string, string]; value: LocalChange | null }>(); // null: delete the change
      const rowWrites = new Map<string, Map<string, Row | null>>(entities.map((e) => [e, new Map()])); // null: remove the row
      const setChange = (c: Confirmation, value: LocalChange | null) => changeWrites.set(`${c.entity}:${c.id}`, { key: objectKey(c.entity, c.id), value });
      const newDeletes: LocalChange[] = [];
      const writesAfter: Array<() => Promise<unknown>> = [];
      for (const [i, c] of confirmations.entries()) {
        const change = pending[i];
        const row = stored[i];
        const rows = rowWrites.get(c.entity)!;
        if (plain[i]) {
          setChange(c, null);
          rows.set(c.id, c.object ? { ...c.object, [TAG]: '' } : null);
          tookObject[i] = c.object !== null;
        } else if (change && change.seq === c.seq && c.remaining?.length && c.object && row) {
          // Partly uploaded: the rest stays a pending update (a new change id: the server must not
          // answer it with the result of the part it already applied).
          setChange(c, { ...change, kind: 'update', changed: c.remaining, changeId: newId() });
          const kept = Object.fromEntries(c.remaining.map((m) => [m, row[m]]));
          rows.set(c.id, { ...c.object, ...kept, [TAG]: row[TAG] ?? '' });
        } else if (change && change.seq === c.seq) {
          setChange(c, null);
          rows.set(c.id, c.object ? { ...c.object, [TAG]: '' } : null);
          tookObject[i] = c.object !== null;
        } else if (change && change.seq > c.seq) {
          // Committed again while uploading: keep the newer change, adjusted to what the server now has.
          if (change.kind === 'create' && c.object) {
            setChange(c, { ...change, kind: 'update', changed: allMembers(this.schema, c.entity) });
          } else if (change.kind === 'update' && !c.object) {
            setChange(c, { ...change, kind: 'create', changed: allMembers(this.schema, c.entity) });
          } else if (change.kind === 'delete' && !c.object) {
            setChange(c, null); // already gone on the server
          }
          if (c.object && row) {
            const system = Object.fromEntries(SYSTEM_FIELDS.map((f) => [f, c.object![f]]));
            rows.set(c.id, { ...row, ...system });
          }
        } else if (!change) {
          if (row && c.object) {
            rows.set(c.id, { ...c.object, [TAG]: row[TAG] ?? '' });
            tookObject[i] = true;
          } else if (row) {
            rows.set(c.id, null);
          } else if (c.object) {
            newDeletes.push({ entity: c.entity, id: c.id, kind: 'delete', changed: [], data: membersOf(this.schema, c.entity, c.object), seq: 0, changeId: '' });
          }
        }
        // change.seq < c.seq cannot happen (seq only grows); leave such a change alone.
      }
      // Answered creates leave the sent list; one still a create afterwards keeps the mark on its record.
      let answered = 0;
      for (const [i, c] of confirmations.entries()) {
        if (!sent.delete(sentKey(c.entity, c.id))) continue;
        answered++;
        const written = changeWrites.get(`${c.entity}:${c.id}`);
        const after = written ? written.value : pending[i];
        if (after?.kind === 'create') setChange(c, { ...after, sent: true });
      }
      if (answered) writesAfter.push(() => this.putSentCreates(sent));
      const changePuts: LocalChange[] = [];
      const changeDeletes: Array<[string, string]> = [];
      for (const { key, value } of changeWrites.values()) {
        if (value) changePuts.push(value);
        else changeDeletes.push(key);
      }
      const writes: Array<Promise<unknown>> = writesAfter.map((w) => w());
      if (changeDeletes.length) writes.push(changes.bulkDelete(changeDeletes));
      if (changePuts.length) writes.push(changes.bulkPut(changePuts));
      for (const [entity, rows] of rowWrites) {
        const put: Row[] = [];
        const remove: string[] = [];
        for (const [id, row] of rows) row ? put.push(row) : remove.push(id);
        if (put.length) writes.push(this.db.table(entity).bulkPut(put));
        if (remove.length) writes.push(this.removeRows(entity, remove));
      }
      await Promise.all(writes);
      if (newDeletes.length) {
        const first = await this.tracking.allocateSeq(trans, newDeletes.length);
        await changes.bulkPut(newDeletes.map((d, i) => ({ ...d, seq: first + i, changeId: newId() })));
      }
    });
    return tookObject;
  }

  /**
   * Marks creates as sent before their upload request goes out: if the answer is lost (or the
   * app dies), the server may have the object, so a local delete must reach it as a delete.
   * One small record lists them (`SENT_KEY`) until their answer is applied (`confirm`,
   * `refuse`); `pendingChanges` shows them with `sent: true`.
   *
   * @example
   * await store.markSent(changes.filter((c) => c.kind === 'create'));
   */
  async markSent(creates: LocalChange[]): Promise<void> {
    const unsent = creates.filter((c) => c.kind === 'create' && !c.sent);
    if (unsent.length === 0) return;
    await this.serverWrite([CHANGES, META], async () => {
      const sent = await this.sentCreates();
      if (sent.size > SENT_PRUNE_AT) {
        // Creates whose answer never came and that were then dropped another way: forget them.
        const listed = [...sent];
        const pending = (await this.db.table(CHANGES).bulkGet(listed.map((k) => objectKey(...splitSentKey(k))))) as Array<LocalChange | undefined>;
        listed.forEach((k, i) => pending[i]?.kind === 'create' || sent.delete(k));
      }
      for (const c of unsent) sent.add(sentKey(c.entity, c.id));
      await this.putSentCreates(sent);
    });
  }

  /**
   * After the server refused changes, in one transaction: stores each SynchronizationFailure
   * and, when the refused change is still the object's latest, drops its mark and replaces the
   * object by the server's version (`restore`) or removes it (`null`; its id is in `removedIds`).
   * Unsent file contents of a removed object become device-side failures (`fileFailures`). A change committed again
   * during the sync (newer seq) stays marked: the next sync uploads it and the server decides.
   * Recording and reverting together means a crash leaves either both or neither: the change
   * is never lost and never reported twice.
   *
   * @example
   * const { removedIds } = await store.refuse([{ entity: 'Task', id, seq: change.seq, failure, restore: serverVersionOrNull }]);
   */
  async refuse(refusals: Refusal[]): Promise<{ removedIds: string[]; fileFailures: SynchronizationFailure[] }> {
    if (refusals.length === 0) return { removedIds: [], fileFailures: [] };
    const entities = [...new Set(refusals.map((r) => r.entity))];
    for (const e of entities) entityOf(this.schema, e);
    return this.serverWrite([...entities, CHANGES, ...FILE_KEEPING], async () => {
      const changes = this.db.table(CHANGES);
      const removed: string[] = [];
      const fileFailures: SynchronizationFailure[] = [];
      await this.db.table(FAILURES).bulkPut(refusals.map((r) => r.failure));
      const pending = (await changes.bulkGet(refusals.map((r) => objectKey(r.entity, r.id)))) as Array<LocalChange | undefined>;
      const held = await this.refusedCreates();
      const sent = await this.sentCreates();
      let answered = 0;
      for (const [i, r] of refusals.entries()) {
        if (sent.delete(sentKey(r.entity, r.id))) {
          answered++;
          // A create committed again meanwhile stays pending, and stays marked as sent.
          if (pending[i]?.kind === 'create' && pending[i]!.seq !== r.seq) await changes.put({ ...pending[i]!, sent: true });
        }
      }
      if (answered) await this.putSentCreates(sent);
      for (const [i, r] of refusals.entries()) {
        if (pending[i] && pending[i]!.seq !== r.seq) continue;
        await changes.delete(objectKey(r.entity, r.id));
        if (r.restore) await this.db.table(r.entity).put({ ...r.restore, [TAG]: '' });
        else if (r.failure.kind === 'create' || held.has(`${r.entity}:${r.id}`)) {
          // Created on this device and never accepted by the server: the object stays with its
          // failure until the user retries or dismisses it (only a server object can be "gone").
          continue;
        } else {
          // Contents attached to it and not uploaded share the refusal's reason (e.g. `deleted`).
          fileFailures.push(...(await this.removeRows(r.entity, [r.id], () => ({ reason: r.failure.reason, message: `The file of ${r.entity} ${r.id} was not uploaded: ${r.failure.message}` }))));
          removed.push(r.id);
        }
      }
      return { removedIds: removed, fileFailures };
    });
  }

  /**
   * Removes objects the server no longer has (or no longer lets the user read). Objects with
   * pending changes stay unless `force` (which drops their changes too). Unsent file contents
   * keep an object too, and a forced removal keeps them as a failure of their own; with
   * `discardFiles` (the user gave the object up) they go with it. Returns how many stored
   * objects were removed.
   *
   * @example
   * const removed = await store.removeObjects('Task', missingIds);
   */
  async removeObjects(entity: string, ids: string[], options: { force?: boolean; discardFiles?: boolean } = {}): Promise<number> {
    entityOf(this.schema, entity);
    if (ids.length === 0) return 0;
    return this.serverWrite([entity, CHANGES, ...FILE_KEEPING], async () => {
      const keys = ids.map((id) => objectKey(entity, id));
      const changes = this.db.table(CHANGES);
      const pending = await changes.bulkGet(keys);
      const rows = (await this.db.table(entity).bulkGet(ids)) as Array<Row | undefined>;
      const held = options.force ? new Set<string>() : await this.refusedCreates();
      const unsent = options.force || options.discardFiles ? new Set<string>() : await this.unsentFileIds(entity);
      if (options.force) await changes.bulkDelete(keys.filter((_, i) => pending[i]));
      const remove = ids.filter((id, i) => rows[i] && (options.force || (!pending[i] && !held.has(`${entity}:${id}`) && !unsent.has(id))));
      await this.removeRows(entity, remove, options.discardFiles ? null : undefined);
      return new Set(remove).size;
    });
  }

  /**
   * Removes the synchronized objects of an entity that the sync run `tag` did not write and
   * that have no pending change: after an all-objects download, the local content equals the
   * download. Returns how many were removed.
   *
   * @example
   * const removed = await store.removeUntagged('Task', runId);
   */
  async removeUntagged(entity: string, tag: string): Promise<number> {
    entityOf(this.schema, entity);
    return this.serverWrite([entity, CHANGES, ...FILE_KEEPING], async () => {
      // Two ranges either side of `tag` read only the untagged rows; `notEqual` would step a cursor
      // over every row the run tagged (quadratic on fake-indexeddb, one step per row in browsers).
      const table = this.db.table(entity);
      const [below, above] = await Promise.all([table.where(TAG).below(tag).primaryKeys(), table.where(TAG).above(tag).primaryKeys()]);
      const ids = [...below, ...above] as string[];
      if (ids.length === 0) return 0;
      const pending = (await this.db.table(CHANGES).where('entity').equals(entity).primaryKeys()) as Array<[string, string]>;
      const keep = new Set([...pending.map(([, id]) => id), ...(await this.unsentFileIds(entity))]);
      const held = await this.refusedCreates();
      const remove = ids.filter((id) => !keep.has(id) && !held.has(`${entity}:${id}`));
      await this.removeRows(entity, remove);
      return remove.length;
    });
  }

  // ---------------------------------------------------------------- failures

  /**
   * Stores SynchronizationFailures (replacing those with the same id).
   *
   * @example
   * await store.putFailures(response.failures);
   */
  async putFailures(failures: SynchronizationFailure[]): Promise<void> {
    if (failures.length) await this.db.table(FAILURES).bulkPut(failures);
  }

  /**
   * Every SynchronizationFailure kept on this device, oldest first.
   *
   * @example
   * const failures = await store.listFailures();
   */
  async listFailures(): Promise<SynchronizationFailure[]> {
    return (await this.db.table(FAILURES).orderBy('createdDate').toArray()) as SynchronizationFailure[];
  }

  /**
   * Forgets one SynchronizationFailure, and the refused file contents it kept, if any.
   *
   * @example
   * await store.deleteFailure(failure.id);
   */
  async deleteFailure(id: string): Promise<void> {
    await this.db.transaction('rw', [FAILURES, FAILED_FILES], async () => {
      await this.db.table(FAILURES).delete(id);
      await this.db.table(FAILED_FILES).delete(id);
    });
  }

  /**
   * The file contents a device-side failure keeps (one with `file`), or undefined.
   *
   * @example
   * const kept = await store.failureFile(failure.id); // { data, contentType }
   */
  async failureFile(id: string): Promise<{ data: Uint8Array; contentType: string } | undefined> {
    const row = (await this.db.table(FAILED_FILES).get(id)) as FailedFileRow | undefined;
    return row && { data: row.data, contentType: row.contentType };
  }

  /**
   * The server refused the contents of upload `uploadId` for good: in one transaction they leave
   * the object's pending contents (no sync sends them again) and are kept by a new device-side
   * SynchronizationFailure, which is answered. Nothing changes (undefined is answered) when the
   * object's contents were attached again meanwhile: the new ones stay pending.
   *
   * @example
   * const failure = await store.refuseFile('Attachment', id, file.uploadId, { reason: 'invalid', message: e.message });
   */
  async refuseFile(entity: string, id: string, uploadId: string, why: FileRefusalReason): Promise<SynchronizationFailure | undefined> {
    entityOf(this.schema, entity);
    return this.db.transaction('rw', FILE_KEEPING, async () => {
      const row = (await this.db.table(FILES).get(objectKey(entity, id))) as FileRow | undefined;
      if (!row || row.version !== PENDING_VERSION || row.uploadId !== uploadId) return undefined;
      const [failure] = await this.keepRefusedFiles([row], () => why);
      return failure;
    });
  }

  /**
   * A device-side file failure was retried and the server took its contents (`version` is the
   * object's changedDate after the swap): the failure and its kept bytes go, and the contents
   * become the object's stored contents of that version — unless other contents were attached to the
   * object meanwhile, which stay pending.
   *
   * @example
   * await store.resolveFileFailure(failure.id, object.changedDate);
   */
  async resolveFileFailure(id: string, version: string): Promise<void> {
    await this.db.transaction('rw', [FILES, FAILED_FILES, FAILURES], async () => {
      const kept = (await this.db.table(FAILED_FILES).get(id)) as FailedFileRow | undefined;
      await this.db.table(FAILURES).delete(id);
      await this.db.table(FAILED_FILES).delete(id);
      if (!kept) return;
      const key = objectKey(kept.entity, kept.objectId);
      const current = (await this.db.table(FILES).get(key)) as FileRow | undefined;
      if (current?.version === PENDING_VERSION) return;
      await this.db.table(FILES).put({ entity: kept.entity, id: kept.objectId, data: kept.data, contentType: kept.contentType, version } satisfies FileRow);
    });
  }

  // ---------------------------------------------------------------- files

  /**
   * Attaches file contents to an object on the device: they are marked for upload, and every
   * sync mode that uploads the object then uploads them (resumably). Until the server has them
   * no sync replaces or deletes them, nor removes their object. Attaching again replaces the
   * contents and starts a new upload.
   *
   * @example
   * await store.putFile('Attachment', attachment.id, bytes, 'image/png');
   */
  async putFile(entity: string, id: string, data: Uint8Array, contentType: string): Promise<void> {
    entityOf(this.schema, entity);
    await this.db.table(FILES).put(attachedRow(entity, id, data, contentType));
  }

  /**
   * Stores contents downloaded from the server, `version` being the object's changedDate they
   * belong to (the next sync fetches them again only when it moves). Contents attached on the
   * device and not uploaded yet win: they are kept, and false is answered.
   *
   * @example
   * await store.applyServerFile('Attachment', id, bytes, 'image/png', object.changedDate);
   */
  async applyServerFile(entity: string, id: string, data: Uint8Array, contentType: string, version: string): Promise<boolean> {
    entityOf(this.schema, entity);
    return this.db.transaction('rw', [FILES, PARTIAL_FILES], async () => {
      await this.db.table(PARTIAL_FILES).delete(objectKey(entity, id)); // the download is complete
      const row = (await this.db.table(FILES).get(objectKey(entity, id))) as FileRow | undefined;
      if (row?.version === PENDING_VERSION) return false;
      await this.db.table(FILES).put({ entity, id, data, contentType, version } satisfies FileRow);
      return true;
    });
  }

  /**
   * The version of every stored file of an entity, by object id, read from an index: no
   * contents are loaded. Pending contents (not on the server yet) have version `PENDING_VERSION` ('').
   *
   * @example
   * const versions = await store.fileVersions('Attachment');
   */
  async fileVersions(entity: string): Promise<Map<string, string>> {
    entityOf(this.schema, entity);
    return fileVersionsOf(this.db, entity);
  }

  /**
   * Objects whose contents wait for upload, file entities in schema order.
   *
   * @example
   * for (const { entity, id } of await store.pendingFiles()) console.log(entity, id);
   */
  async pendingFiles(): Promise<Array<{ entity: string; id: string }>> {
    const out: Array<{ entity: string; id: string }> = [];
    for (const entity of this.schema.order) {
      if (!this.schema.entities[entity].file) continue;
      for (const id of await pendingFileIds(this.db, entity)) out.push({ entity, id });
    }
    return out;
  }

  /**
   * The pending contents of an object and their upload id; undefined when none wait.
   *
   * @example
   * const file = await store.pendingFile('Attachment', id);
   */
  async pendingFile(entity: string, id: string): Promise<PendingFile | undefined> {
    const row = (await this.db.table(FILES).get(objectKey(entity, id))) as FileRow | undefined;
    if (row?.version !== PENDING_VERSION) return undefined;
    // Contents stored before uploads had ids get one now, kept until they are uploaded.
    if (!row.uploadId) {
      row.uploadId = newId();
      await this.db.table(FILES).put(row);
    }
    return { data: row.data, contentType: row.contentType, uploadId: row.uploadId };
  }

  /**
   * The server has the contents of upload `uploadId`: they are no longer pending and belong to
   * the object's `version` (changedDate). Contents attached again meanwhile stay pending.
   *
   * @example
   * await store.markFileUploaded('Attachment', id, file.uploadId, object.changedDate);
   */
  async markFileUploaded(entity: string, id: string, uploadId: string, version: string): Promise<boolean> {
    return this.db.transaction('rw', [FILES], async () => {
      const row = (await this.db.table(FILES).get(objectKey(entity, id))) as FileRow | undefined;
      if (!row || row.version !== PENDING_VERSION || row.uploadId !== uploadId) return false;
      const { uploadId: _, ...rest } = row;
      await this.db.table(FILES).put({ ...rest, version } satisfies FileRow);
      return true;
    });
  }

  /**
   * Forgets downloaded contents the server no longer has. Contents attached on the device and
   * not uploaded yet are kept.
   *
   * @example
   * await store.removeFiles('Attachment', ids);
   */
  async removeFiles(entity: string, ids: string[]): Promise<void> {
    entityOf(this.schema, entity);
    if (ids.length === 0) return;
    await this.db.transaction('rw', [FILES, PARTIAL_FILES], async () => {
      await this.db.table(FILES).bulkDelete(await notPendingKeys(this.db, entity, ids));
      await this.db.table(PARTIAL_FILES).bulkDelete(ids.map((id) => objectKey(entity, id)));
    });
  }

  /**
   * For objects just refreshed from the server (their rows carry the server's `$file`): which
   * contents to download (the server has some, of another version than stored) and which
   * stored ones the server no longer has. Pending contents are in neither list.
   *
   * @example
   * const { fetch, drop } = await store.fileRefreshPlan('Attachment', refreshedIds);
   */
  async fileRefreshPlan(entity: string, ids: readonly string[]): Promise<{ fetch: Array<{ id: string; version: string }>; drop: string[] }> {
    entityOf(this.schema, entity);
    const rows = (await this.db.table(entity).bulkGet([...ids])) as Array<(Row & { $file?: number | null }) | undefined>;
    const versions = await fileVersionsOf(this.db, entity);
    const plan = { fetch: [] as Array<{ id: string; version: string }>, drop: [] as string[] };
    for (const row of rows) {
      if (!row || row.$file === undefined) continue; // not refreshed with file information
      const version = versions.get(row.id);
      if (version === PENDING_VERSION) continue;
      if (row.$file === null) {
        if (version !== undefined) plan.drop.push(row.id);
      } else if (version !== row.changedDate) {
        plan.fetch.push({ id: row.id, version: row.changedDate as string });
      }
    }
    return plan;
  }

  /**
   * The file contents of an object, if stored (pending or downloaded).
   *
   * @example
   * const file = await store.getFile('Attachment', id);
   */
  async getFile(entity: string, id: string): Promise<{ data: Uint8Array; contentType: string } | undefined> {
    const file = (await this.db.table(FILES).get(objectKey(entity, id))) as FileRow | undefined;
    return file && { data: file.data, contentType: file.contentType };
  }

  /**
   * The bytes kept of an interrupted download of an object's contents, if any.
   *
   * @example
   * const partial = await store.partialFile('Attachment', id); // { etag, data, size, ... }
   */
  async partialFile(entity: string, id: string): Promise<PartialFileRow | undefined> {
    return (await this.db.table(PARTIAL_FILES).get(objectKey(entity, id))) as PartialFileRow | undefined;
  }

  /**
   * Keeps the first bytes of an interrupted download (replacing any kept before), so the next
   * download asks only for the rest. `applyServerFile` and `removeFiles` drop them.
   *
   * @example
   * await store.keepPartialFile({ entity: 'Attachment', id, etag, data, contentType, size });
   */
  async keepPartialFile(row: PartialFileRow): Promise<void> {
    entityOf(this.schema, row.entity);
    await this.db.table(PARTIAL_FILES).put(row);
  }

  // ---------------------------------------------------------------- named syncs

  /**
   * Stores a new named sync's state; its name (when it has one) must not be taken by any sync
   * down or sync up. Checked and written in one transaction, and enforced by a unique index.
   *
   * @example
   * await store.createSyncState(state);
   */
  async createSyncState(state: SyncState): Promise<void> {
    await this.db.transaction('rw', [SYNC_STATES], async () => {
      if (state.name !== null && (await this.db.table(SYNC_STATES).where('name').equals(state.name).count())) {
        throw new SyncNameTakenError(state.name);
      }
      await this.db.table(SYNC_STATES).add(stateRow(state));
    });
  }

  /**
   * Replaces a named sync's state (status, progress, checkpoint).
   *
   * @example
   * await store.putSyncState({ ...state, status: 'done' });
   */
  async putSyncState(state: SyncState): Promise<void> {
    await this.db.table(SYNC_STATES).put(stateRow(state));
  }

  /**
   * A named sync's state by id, or else by name.
   *
   * @example
   * const state = await store.findSyncState('openTasks');
   */
  async findSyncState(idOrName: string): Promise<SyncState | undefined> {
    const table = this.db.table(SYNC_STATES);
    const row = (await table.get(idOrName)) ?? (await table.where('name').equals(idOrName).first());
    return row && fromStateRow(row);
  }

  /**
   * Every named sync's state.
   *
   * @example
   * const stopped = (await store.listSyncStates()).filter((s) => s.status === 'stopped');
   */
  async listSyncStates(): Promise<SyncState[]> {
    return ((await this.db.table(SYNC_STATES).toArray()) as Array<Record<string, unknown>>).map(fromStateRow);
  }

  /**
   * Forgets a named sync: its state and which objects it wrote (the objects stay).
   *
   * @example
   * await store.deleteSyncState(state.id);
   */
  async deleteSyncState(id: string): Promise<void> {
    await this.db.transaction('rw', [SYNC_STATES, SYNC_ROWS], async () => {
      await this.db.table(SYNC_STATES).delete(id);
      await this.db.table(SYNC_ROWS).where('[sync+id]').between([id, Dexie.minKey], [id, Dexie.maxKey]).delete();
    });
  }

  /**
   * Ids of the objects a named sync down wrote, in id order, a page at a time (after `after`).
   *
   * @example
   * const page = await store.syncRowIds(state.id, null, 1000);
   */
  async syncRowIds(sync: string, after: string | null, limit: number): Promise<string[]> {
    const from = after === null ? [sync, Dexie.minKey] : [sync, after];
    const keys = (await this.db
      .table(SYNC_ROWS)
      .where('[sync+id]')
      .between(from, [sync, Dexie.maxKey], after === null, true)
      .limit(limit)
      .primaryKeys()) as Array<[string, string]>;
    return keys.map(([, id]) => id);
  }

  /**
   * Ids of the objects a named sync holds that the run `run` did not write: after a full run,
   * what the server no longer has for this sync.
   *
   * @example
   * const stale = await store.staleSyncRowIds(state.id, runId);
   */
  async staleSyncRowIds(sync: string, run: string): Promise<string[]> {
    const rows = (await this.db
      .table(SYNC_ROWS)
      .where('[sync+id]')
      .between([sync, Dexie.minKey], [sync, Dexie.maxKey])
      .toArray()) as Array<{ id: string; run?: string }>;
    return rows.filter((r) => r.run !== run).map((r) => r.id);
  }

  /**
   * Ghost cleaning of a named sync: these objects are no longer the sync's (gone on the server
   * or no longer matching). The sync lets go of them; an object is removed from the device only
   * if it has no pending local change and no other named sync holds it. Returns how many objects
   * were removed. A locally modified object stays held, so a later cleaning looks at it again.
   *
   * @example
   * const removed = await store.releaseSyncRows(state.id, 'Task', ghostIds);
   */
  async releaseSyncRows(sync: string, entity: string, ids: string[]): Promise<number> {
    entityOf(this.schema, entity);
    if (ids.length === 0) return 0;
    return this.serverWrite([entity, CHANGES, SYNC_ROWS, ...FILE_KEEPING], async () => {
      const pending = await this.db.table(CHANGES).bulkGet(ids.map((id) => objectKey(entity, id)));
      const unsent = await this.unsentFileIds(entity);
      const free = ids.filter((id, i) => !pending[i] && !unsent.has(id));
      const rows = this.db.table(SYNC_ROWS);
      await rows.bulkDelete(free.map((id) => [sync, id]));
      const stillHeld = new Set(((await rows.where('id').anyOf(free).toArray()) as Array<{ id: string }>).map((r) => r.id));
      const remove = free.filter((id) => !stillHeld.has(id));
      const present = await this.db.table(entity).bulkGet(remove);
      await this.removeRows(entity, remove);
      return present.filter(Boolean).length;
    });
  }

  // ---------------------------------------------------------------- metadata

  /**
   * A small metadata value (device id, last sync time, ...).
   *
   * @example
   * const deviceId = await store.getMeta<string>('deviceId');
   */
  async getMeta<T>(key: string): Promise<T | undefined> {
    checkMetaKey(key);
    const entry = (await this.db.table(META).get(key)) as { value: T } | undefined;
    return entry?.value;
  }

  /**
   * Sets a metadata value (structured-cloneable). Keys starting with `$` are the store's own.
   *
   * @example
   * await store.setMeta('lastSync', new Date().toISOString());
   */
  async setMeta(key: string, value: unknown): Promise<void> {
    checkMetaKey(key);
    await this.db.table(META).put({ key, value });
  }

  /**
   * Closes the database connection.
   *
   * @example
   * store.close();
   */
  close(): void {
    this.db.close();
  }

  // ---------------------------------------------------------------- internals

  private associationOf(entity: string, association: string) {
    const def = entityOf(this.schema, entity);
    const assoc = Object.hasOwn(def.associations, association) ? def.associations[association] : undefined;
    if (!assoc) throw ValidationError.at('association', `${entity} has no association "${association}"`);
    return assoc;
  }

  /**
   * `entity:id` of objects created on this device whose create the server refused (an open
   * create failure): the server never had them, so no sync removes them for being absent there,
   * and no file of theirs is uploaded until the create is retried. Inside a transaction, one
   * that includes FAILURES.
   *
   * @example
   * const waiting = await store.refusedCreates(); // Set of 'Attachment:<id>'
   */
  async refusedCreates(): Promise<Set<string>> {
    const failures = (await this.db.table(FAILURES).toArray()) as SynchronizationFailure[];
    return new Set(failures.filter((f) => f.kind === 'create' && f.status === 'open').map((f) => `${f.entity}:${f.objectId}`));
  }

  /** Objects of a file entity whose contents have not reached the server: no sync removes them. */
  private async unsentFileIds(entity: string): Promise<Set<string>> {
    return this.schema.entities[entity].file ? pendingFileIds(this.db, entity) : new Set();
  }

  /** The store-wide change counter (`SEQ_KEY`), 0 before the first commit (inside a transaction over META). */
  private async seqCounter(): Promise<number> {
    const entry = (await this.db.table(META).get(SEQ_KEY)) as { value?: number } | undefined;
    return entry?.value ?? 0;
  }

  /** The creates listed as sent (`SENT_KEY`), as `entity:id` (inside a transaction over META). */
  private async sentCreates(): Promise<Set<string>> {
    const entry = (await this.db.table(META).get(SENT_KEY)) as { value?: string[] } | undefined;
    return new Set(entry?.value ?? []);
  }

  private async putSentCreates(sent: Set<string>): Promise<void> {
    if (sent.size) await this.db.table(META).put({ key: SENT_KEY, value: [...sent] });
    else await this.db.table(META).delete(SENT_KEY);
  }

  /** The stored rows of `objects` (one bulkGet per entity), in their order. */
  private async rowsOf(objects: ReadonlyArray<{ entity: string; id: string }>): Promise<Array<Row | undefined>> {
    const out = new Array<Row | undefined>(objects.length);
    const byEntity = new Map<string, number[]>();
    objects.forEach((o, i) => {
      const list = byEntity.get(o.entity);
      if (list) list.push(i);
      else byEntity.set(o.entity, [i]);
    });
    await Promise.all(
      [...byEntity].map(async ([entity, positions]) => {
        const rows = (await this.db.table(entity).bulkGet(positions.map((i) => objects[i].id))) as Array<Row | undefined>;
        positions.forEach((p, k) => (out[p] = rows[k]));
      }),
    );
    return out;
  }

  /**
   * Deletes rows and their stored contents (inside a server-write transaction over
   * FILE_KEEPING). Contents not uploaded yet never go with their object: each becomes a
   * device-side file failure, with the reason `why` gives (default: the object is not accessible).
   */
  private async removeRows(entity: string, ids: string[], why?: ((id: string) => FileRefusalReason) | null): Promise<SynchronizationFailure[]> {
    if (ids.length === 0) return [];
    await this.db.table(entity).bulkDelete(ids);
    // `why === null`: the user gave the objects up, unsent contents included.
    const unsent = why === null ? new Set<string>() : await this.unsentFileIds(entity);
    const kept = ids.filter((id) => unsent.has(id));
    let made: SynchronizationFailure[] = [];
    if (kept.length) {
      const rows = (await this.db.table(FILES).bulkGet(kept.map((id) => objectKey(entity, id)))) as FileRow[];
      made = await this.keepRefusedFiles(rows, why ?? ((id) => ({ reason: 'inaccessible', message: `The file of ${entity} ${id} was not uploaded: ${entity} ${id} was not found or is not accessible` })));
    }
    await this.db.table(FILES).bulkDelete(ids.map((id) => objectKey(entity, id)));
    await this.db.table(PARTIAL_FILES).bulkDelete(ids.map((id) => objectKey(entity, id)));
    return made;
  }

  /**
   * Who a SynchronizationFailure made on the device is of: this device's user (when known) and id.
   *
   * @example
   * const { user, device } = await store.failureAuthor();
   */
  async failureAuthor(): Promise<{ user: string; device: string }> {
    const entries = (await this.db.table(META).bulkGet(['user', 'deviceId'])) as Array<{ value?: string } | undefined>;
    return { user: entries[0]?.value ?? '', device: entries[1]?.value ?? '' };
  }

  /**
   * Moves pending contents out of `$files` into device-side failures that keep them (inside a
   * transaction over FILE_KEEPING); answers the failures.
   */
  private async keepRefusedFiles(rows: FileRow[], why: (id: string) => FileRefusalReason): Promise<SynchronizationFailure[]> {
    const who = await this.failureAuthor();
    const made = rows.map((row) => fileFailure(row, why(row.id), who));
    await this.db.table(FAILURES).bulkPut(made.map((m) => m.failure));
    await this.db.table(FAILED_FILES).bulkPut(made.map((m) => m.bytes));
    await this.db.table(FILES).bulkDelete(rows.map((row) => objectKey(row.entity, row.id)));
    return made.map((m) => m.failure);
  }

  /**
   * Runs `fn` in a read-write transaction whose entity writes the change tracking lets through:
   * server data written by the sync pipeline is not a local change.
   */
  private serverWrite<T>(tables: string[], fn: (trans: object) => Promise<T>): Promise<T> {
    if (Dexie.currentTransaction) {
      // Joining the caller's transaction would untrack the caller's own writes too.
      throw new SyncflowError('internal', 'server-side store writes cannot run inside another Dexie transaction');
    }
    return this.db.transaction('rw', tables, async (tx) => {
      this.tracking.untrack(tx.idbtrans);
      return fn(tx.idbtrans);
    });
  }
}

/** A sync state as stored: without `name` when it has none (the unique index skips absent keys). */
function stateRow(state: SyncState): Record<string, unknown> {
  const { name, ...rest } = state;
  return name === null ? rest : { ...rest, name };
}

function fromStateRow(row: Record<string, unknown>): SyncState {
  return { ...(row as unknown as SyncState), name: (row.name as string | undefined) ?? null };
}

function checkMetaKey(key: string): void {
  if (typeof key !== 'string' || key === '' || key.startsWith('$')) {
    throw ValidationError.at('key', 'a metadata key is a non-empty string that does not start with "$"');
  }
}
