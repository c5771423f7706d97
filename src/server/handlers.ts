import { SchemaError, type Problem } from '../errors.ts';
import type { Schema } from '../model/schema.ts';
import type { SyncObject, Values } from '../model/values.ts';
import type { ChangeKind } from '../transport/wire.ts';

/**
 * What an event handler can see and do. Everything runs in the transaction that applies the
 * device's change: writes get the same changedDate, are not access-checked (this is server
 * code), run no handlers themselves, and are rolled back with the change if it fails.
 */
export interface HandlerContext {
  /** The id of the user whose change is applied. */
  user: string;
  roles: readonly string[];
  /** `update` also for a create of an object that already exists (a retried create). */
  kind: ChangeKind;
  /** The object before the change; null for a create. */
  previous: SyncObject | null;
  /**
   * Shared by every handler call of one upload (one transaction), e.g. to read a lookup table
   * once per batch rather than once per object. Gone when the transaction ends.
   */
  cache: Map<unknown, unknown>;
  /** Refuses the change: the device gets a SynchronizationFailure (reason `rejected`) with `message`. */
  reject(message: string): never;
  get(entity: string, id: string): Promise<SyncObject | null>;
  /** Creates an object owned by `user`; answers it with its new id. */
  create(entity: string, values: Values): Promise<SyncObject>;
  /** Changes some members of an object; throws `not_found` when it does not exist. */
  update(entity: string, id: string, values: Values): Promise<SyncObject>;
  /** Deletes an object (as a device's delete would); answers whether it existed. */
  delete(entity: string, id: string): Promise<boolean>;
}

export interface EntityHandlers {
  /**
   * Runs before the change is written, with the full object as it will be (for a delete: as it
   * was). May answer changed member values (calculated attributes), merged into the object, or
   * call `ctx.reject(message)`.
   */
  beforeCommit?(object: SyncObject, ctx: HandlerContext): Values | void | Promise<Values | void>;
  /** Runs after the change is written (same transaction): may change other objects through `ctx`. */
  afterCommit?(object: SyncObject, ctx: HandlerContext): void | Promise<void>;
}

/**
 * Event handlers per entity.
 *
 * @example
 * const handlers: Handlers = {
 *   Task: {
 *     beforeCommit(task, ctx) {
 *       if (String(task.title).includes('forbidden')) ctx.reject('Title must not contain the word forbidden');
 *       return { words: String(task.title).trim().split(/\s+/).filter(Boolean).length };
 *     },
 *   },
 * };
 */
export type Handlers = Record<string, EntityHandlers>;

/** Thrown by `ctx.reject`; becomes a failure with reason `rejected`. */
export class HandlerRejection extends Error {
  override name = 'HandlerRejection';
}

/** Checks handlers against the schema at server creation (SchemaError naming each bad part). */
export function checkHandlers(schema: Schema, handlers: unknown): Handlers {
  const problems: Problem[] = [];
  if (typeof handlers !== 'object' || handlers === null || Array.isArray(handlers)) {
    throw new SchemaError([{ path: 'handlers', message: 'must be an object of entity handlers' }]);
  }
  for (const [entity, h] of Object.entries(handlers)) {
    if (!Object.hasOwn(schema.entities, entity)) {
      problems.push({ path: `handlers.${entity}`, message: `unknown entity "${entity}"` });
      continue;
    }
    if (typeof h !== 'object' || h === null) {
      problems.push({ path: `handlers.${entity}`, message: 'must be an object' });
      continue;
    }
    for (const [name, fn] of Object.entries(h)) {
      if (name !== 'beforeCommit' && name !== 'afterCommit') {
        problems.push({ path: `handlers.${entity}.${name}`, message: 'unknown handler (beforeCommit, afterCommit)' });
      } else if (typeof fn !== 'function') {
        problems.push({ path: `handlers.${entity}.${name}`, message: 'must be a function' });
      }
    }
  }
  if (problems.length) throw new SchemaError(problems);
  return handlers as Handlers;
}
