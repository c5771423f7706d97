import { SyncflowError } from '../errors.ts';
import { entityOf, memberNames } from '../model/schema.ts';
import { isUuid, validateValues, type SyncObject, type Values } from '../model/values.ts';
import type { ChangeKind, ChangeRequest, FailureReason } from '../transport/wire.ts';
import { afterCommitItem, beforeCommitItem, HandlerRejection, type BatchHandlerContext, type HandlerContext } from './handlers.ts';
import type { ObjectTx, Written } from './ObjectTx.ts';
import { objectJsonSql } from './objectSql.ts';

export type ChangeOutcome =
  | { status: 'applied'; object: SyncObject | null }
  | { status: 'failed'; reason: FailureReason; message: string };

/** A change the server refuses, with the reason the device gets. */
export class ChangeFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Applies one device change inside the upload's transaction, atomically on its own (a
 * SAVEPOINT): either all its writes (including its handlers') happen, or none and the
 * outcome says why. Unexpected errors (a bug, a lost connection) are rethrown: the request
 * fails as a whole and the device retries it later, rather than losing the change as "invalid".
 *
 * @param pending says which references to accept unchecked (new objects of the same upload that
 *   refer to each other in a cycle); the upload verifies them afterwards (see upload).
 */
export async function applyChange(
  otx: ObjectTx,
  change: ChangeRequest,
  pending?: (entity: string, id: string) => boolean,
): Promise<ChangeOutcome> {
  await otx.tx.query('SAVEPOINT sf_change');
  try {
    const object = await apply(otx, change, pending);
    await otx.tx.query('RELEASE SAVEPOINT sf_change');
    return { status: 'applied', object };
  } catch (e) {
    await otx.tx.query('ROLLBACK TO SAVEPOINT sf_change');
    await otx.tx.query('RELEASE SAVEPOINT sf_change');
    const failure = toFailure(e);
    if (!failure) throw e;
    return { status: 'failed', ...failure };
  }
}

export function toFailure(e: unknown): { reason: FailureReason; message: string } | null {
  if (e instanceof ChangeFailure) return { reason: e.reason, message: e.message };
  if (e instanceof HandlerRejection) return { reason: 'rejected', message: e.message };
  if (e instanceof SyncflowError) {
    const bad = ['validation_failed', 'schema_invalid', 'not_found', 'forbidden', 'conflict'].includes(e.code);
    return bad ? { reason: 'invalid', message: e.message } : null;
  }
  // SQLSTATE classes 22 (data exception, e.g. "\u0000" in a string) and 23 (integrity): the
  // values cannot be stored, whatever retries happen.
  const sqlState = (e as { code?: unknown })?.code;
  if (typeof sqlState === 'string' && /^2[23][0-9A-Z]{3}$/.test(sqlState)) {
    return { reason: 'invalid', message: `the values cannot be stored: ${(e as Error).message}` };
  }
  return null;
}

export const notFound = (entity: string, id: string) =>
  new ChangeFailure('inaccessible', `${entity} ${id} was not found or is not accessible`);

async function apply(
  otx: ObjectTx,
  change: ChangeRequest,
  pending: ((entity: string, id: string) => boolean) | undefined,
): Promise<SyncObject | null> {
  const { schema, access } = otx.ctx;
  const { entity, id, kind } = change;
  const def = entityOf(schema, entity);
  const { existing, tombstone } = await otx.lockForChange(entity, id);

  if (kind === 'delete') {
    if (!existing) return null; // already gone: the device's wish holds
    if (!existing.readable) throw notFound(entity, id);
    if (!existing.writable) throw new ChangeFailure('inaccessible', `You may not delete ${entity} ${id}`);
    await runBefore(otx, entity, existing.object, 'delete', existing.object);
    await otx.remove(entity, id);
    await runAfter(otx, entity, existing.object, 'delete', existing.object);
    return null;
  }

  let written: Written;
  if (existing) {
    // An update, or a create the device sends again after losing the answer.
    if (!existing.readable) throw notFound(entity, id);
    if (!existing.writable) throw new ChangeFailure('inaccessible', `You may not change ${entity} ${id}`);
    const conflict = baseConflict(change, existing.object);
    if (conflict) throw conflict;
    const values = validateValues(schema, entity, change.data, { partial: kind === 'update', path: 'data' });
    await otx.checkReferences(entity, values, 'data', { asUser: true, self: id, pending });
    const previous = existing.object;
    const object = await runBefore(otx, entity, { ...previous, ...values, changedDate: otx.stamp }, 'update', previous);
    const replaced = await otx.replace(entity, id, pick(object, memberNames(def)));
    // Its own before-commit handler deleted it: there is nothing left to update (the change fails, its savepoint undoes the delete).
    if (!replaced) throw new ChangeFailure('invalid', `${entity} ${id} was deleted by a before-commit handler of its own change`);
    written = replaced;
    await runAfter(otx, entity, written.object, 'update', previous);
  } else {
    if (tombstone?.readable) throw new ChangeFailure('deleted', `${entity} ${id} was deleted on the server`);
    if (tombstone || kind === 'update') throw notFound(entity, id);
    const values = validateValues(schema, entity, change.data, { path: 'data' });
    await otx.checkReferences(entity, values, 'data', { asUser: true, self: id, pending });
    const draft: SyncObject = {
      ...nullMembers(memberNames(def)),
      ...values,
      id,
      owner: otx.user.id,
      createdDate: otx.stamp,
      changedDate: otx.stamp,
    };
    if (!access.allows(entity, 'write', otx.user, draft)) {
      throw new ChangeFailure('inaccessible', `You may not create this ${entity}`);
    }
    const object = await runBefore(otx, entity, draft, 'create', null);
    written = await otx.insert(entity, id, otx.user.id, pick(object, memberNames(def)));
    await runAfter(otx, entity, written.object, 'create', null);
  }
  // The device gets the object as it is now, if it may still read it: read again only when an
  // after-commit handler may have changed it.
  const after = otx.ctx.handlers[entity];
  if (after?.afterCommit || after?.afterCommitBatch) return otx.readable(entity, id);
  return written.readable ? written.object : null;
}

async function runBefore(
  otx: ObjectTx,
  entity: string,
  object: SyncObject,
  kind: ChangeKind,
  previous: SyncObject | null,
): Promise<SyncObject> {
  const handlers = otx.ctx.handlers[entity];
  let changed: unknown;
  let path: string;
  if (handlers?.beforeCommitBatch) {
    // A batch of one: the set-based path (uploadBatch.ts) gives the same item the same answer.
    const one = beforeCommitItem({ ...object }, kind, previous);
    await handlers.beforeCommitBatch([one.item], batchHandlerContext(otx));
    const { rejected, values } = one.decision();
    if (rejected !== null) throw new HandlerRejection(rejected);
    changed = values;
    path = `${entity}.beforeCommitBatch`;
  } else if (handlers?.beforeCommit) {
    changed = (await handlers.beforeCommit({ ...object }, handlerContext(otx, kind, previous))) || undefined;
    path = `${entity}.beforeCommit`;
  } else return object;
  if (changed === undefined || kind === 'delete') return object;
  const values = validateValues(otx.ctx.schema, entity, changed, { partial: true, path });
  await otx.checkReferences(entity, values, path, { asUser: false, self: object.id });
  return { ...object, ...values };
}

async function runAfter(
  otx: ObjectTx,
  entity: string,
  object: SyncObject,
  kind: ChangeKind,
  previous: SyncObject | null,
): Promise<void> {
  const handlers = otx.ctx.handlers[entity];
  if (handlers?.afterCommitBatch) {
    // A batch of one, as for beforeCommitBatch: a refused item fails this change alone (its savepoint undoes the write).
    const one = afterCommitItem({ ...object }, kind, previous);
    await handlers.afterCommitBatch([one.item], batchHandlerContext(otx));
    const { rejected } = one.decision();
    if (rejected !== null) throw new HandlerRejection(rejected);
  } else if (handlers?.afterCommit) await handlers.afterCommit({ ...object }, handlerContext(otx, kind, previous));
}

/** The `ctx` of a handler: unchecked writes in the change's transaction. */
export function handlerContext(otx: ObjectTx, kind: ChangeKind, previous: SyncObject | null): HandlerContext {
  return {
    ...batchHandlerContext(otx),
    kind,
    previous,
    reject(message: string): never {
      throw new HandlerRejection(message);
    },
  };
}

/** The `ctx` of a batch handler (what every handler can do, nothing of one change). */
export function batchHandlerContext(otx: ObjectTx): BatchHandlerContext {
  const { schema } = otx.ctx;
  const checkId = (entity: string, id: string) => {
    entityOf(schema, entity);
    if (!isUuid(id)) throw new SyncflowError('validation_failed', `${entity} id ${JSON.stringify(id)} is not a UUID`);
    return id.toLowerCase();
  };
  return {
    user: otx.user.id,
    roles: otx.user.roles,
    cache: otx.cache,
    async get(entity, id) {
      return otx.get(entity, checkId(entity, id));
    },
    async getMany(entity, ids) {
      const wanted = [...new Set([...ids].map((id) => checkId(entity, id)))];
      const out = new Map<string, SyncObject>();
      if (!wanted.length) return out;
      const { rows } = await otx.tx.query<{ object: SyncObject }>(
        `SELECT ${objectJsonSql('o')} AS object FROM sf_objects o
          WHERE o.entity = $1 AND o.id IN (SELECT v::uuid FROM jsonb_array_elements_text($2::text::jsonb) AS e(v))`,
        [entity, JSON.stringify(wanted)],
      );
      for (const r of rows) out.set(r.object.id, r.object);
      return out;
    },
    async create(entity, values) {
      const valid = validateValues(schema, entity, values, { path: entity });
      const id = crypto.randomUUID();
      await otx.checkReferences(entity, valid, entity, { asUser: false, self: id });
      return (await otx.insert(entity, id, otx.user.id, { ...nullMembers(memberNames(entityOf(schema, entity))), ...valid })).object;
    },
    async update(entity, id, values) {
      const key = checkId(entity, id);
      const current = await otx.get(entity, key, { lock: true });
      if (!current) throw new SyncflowError('not_found', `${entity} ${key} does not exist`);
      const valid = validateValues(schema, entity, values, { partial: true, path: entity });
      await otx.checkReferences(entity, valid, entity, { asUser: false, self: key });
      const names = memberNames(entityOf(schema, entity));
      return (await otx.replace(entity, key, pick({ ...current, ...valid }, names)))!.object;
    },
    async delete(entity, id) {
      return otx.remove(entity, checkId(entity, id));
    },
  };
}

/**
 * Leave-if-changed (a sync up's merge mode): an update that carries the changedDate of its base
 * version fails as a `conflict` when the object changed on the server since. Both are fixed-width
 * wire stamps, so text order is time order. Null when the update may apply.
 */
export function baseConflict(change: ChangeRequest, current: SyncObject): ChangeFailure | null {
  if (change.kind !== 'update' || change.base == null) return null;
  if (current.changedDate === null || current.changedDate <= change.base) return null;
  return new ChangeFailure('conflict', `${change.entity} ${change.id} was changed on the server since the device's version (${change.base})`);
}

export function pick(object: Values, names: readonly string[]): Values {
  const out: Values = {};
  for (const n of names) out[n] = object[n] ?? null;
  return out;
}

export function nullMembers(names: readonly string[]): Values {
  return Object.fromEntries(names.map((n) => [n, null]));
}
