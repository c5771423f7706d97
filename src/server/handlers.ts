import { SchemaError, type Problem } from '../errors.ts';
import type { Schema } from '../model/schema.ts';
import type { SyncObject, Values } from '../model/values.ts';
import type { ChangeKind } from '../transport/wire.ts';

/**
 * What every event handler can do. Everything runs in the transaction that applies the
 * device's changes: writes get the same changedDate, are not access-checked (this is server
 * code), run no handlers themselves, and are rolled back with the change if it fails.
 */
export interface BatchHandlerContext {
  /** The id of the user whose changes are applied. */
  user: string;
  roles: readonly string[];
  /**
   * Shared by every handler call of one upload (one transaction), e.g. to read a lookup table
   * once per batch rather than once per object. Gone when the transaction ends.
   */
  cache: Map<unknown, unknown>;
  get(entity: string, id: string): Promise<SyncObject | null>;
  /** Several objects of one entity in one statement, keyed by id (lower case); absent ids are left out. */
  getMany(entity: string, ids: Iterable<string>): Promise<Map<string, SyncObject>>;
  /** Creates an object owned by `user`; answers it with its new id. */
  create(entity: string, values: Values): Promise<SyncObject>;
  /** Changes some members of an object; throws `not_found` when it does not exist. */
  update(entity: string, id: string, values: Values): Promise<SyncObject>;
  /** Deletes an object (as a device's delete would); answers whether it existed. */
  delete(entity: string, id: string): Promise<boolean>;
}

/** What a per-object handler can see and do: the above, plus the change it runs for. */
export interface HandlerContext extends BatchHandlerContext {
  /** `update` also for a create of an object that already exists (a retried create). */
  kind: ChangeKind;
  /** The object before the change; null for a create. */
  previous: SyncObject | null;
  /** Refuses the change: the device gets a SynchronizationFailure (reason `rejected`) with `message`. */
  reject(message: string): never;
}

/** One change as a `beforeCommitBatch` handler sees it. */
export interface BeforeCommitItem {
  /** The full object as it will be written (for a delete: as it was). */
  readonly object: SyncObject;
  /** `update` also for a create of an object that already exists (a retried create). */
  readonly kind: ChangeKind;
  /** The object before the change; null for a create. */
  readonly previous: SyncObject | null;
  /**
   * Member values to merge into the object (calculated attributes), checked as beforeCommit's
   * answer is: a bad value or reference fails this change alone (`invalid`). Several calls
   * merge; ignored for a delete.
   */
  set(values: Values): void;
  /** Refuses this change (failure `rejected` with `message`); the other items go on. Does not throw. */
  reject(message: string): void;
}

/** One written change as an `afterCommitBatch` handler sees it. */
export interface AfterCommitItem {
  /** The object as written (for a delete: as it was). */
  readonly object: SyncObject;
  /** `update` also for a create of an object that already exists (a retried create). */
  readonly kind: ChangeKind;
  /** The object before the change; null for a create. */
  readonly previous: SyncObject | null;
  /**
   * Refuses this change (failure `rejected` with `message`): its write and its handlers' writes
   * are undone, the other items go on. Does not throw.
   */
  reject(message: string): void;
}

export interface EntityHandlers {
  /**
   * Runs before the change is written, with the full object as it will be (for a delete: as it
   * was). May answer changed member values (calculated attributes), merged into the object, or
   * call `ctx.reject(message)`.
   */
  beforeCommit?(object: SyncObject, ctx: HandlerContext): Values | void | Promise<Values | void>;
  /**
   * The batch form of beforeCommit (an entity has one or the other): one call for the creates
   * and updates of the entity in an upload batch, in upload order, so a lookup per object can
   * be one query per batch. Decides per item (`set`, `reject`). A batch whose items it cannot
   * be given together (see docs/protocol.md) is applied change by change, calling it with one
   * item per change: both ways give the same results. Deletes come one item per call.
   */
  beforeCommitBatch?(items: BeforeCommitItem[], ctx: BatchHandlerContext): void | Promise<void>;
  /** Runs after the change is written (same transaction): may change other objects through `ctx`. */
  afterCommit?(object: SyncObject, ctx: HandlerContext): void | Promise<void>;
  /**
   * The batch form of afterCommit (an entity has one or the other): one call, after the batch's
   * writes, for the creates and updates of the entity that applied, in upload order, so that a
   * parent kept up to date per object (a total, a last title) is read and written once per batch.
   * A batch it cannot be given together is applied change by change, calling it with one item per
   * change: both ways give the same results. Deletes come one item per call.
   */
  afterCommitBatch?(items: AfterCommitItem[], ctx: BatchHandlerContext): void | Promise<void>;
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
 *   // One query per batch, not one per object: each invoice line gets its product's price.
 *   InvoiceLine: {
 *     async beforeCommitBatch(lines, ctx) {
 *       const products = await ctx.getMany('Product', lines.map((l) => String(l.object.product)));
 *       for (const line of lines) {
 *         const product = products.get(String(line.object.product));
 *         if (product) line.set({ price: product.price });
 *         else line.reject('Unknown product');
 *       }
 *     },
 *     // One read and one write per invoice and batch (not per line): each invoice counts its lines.
 *     async afterCommitBatch(lines, ctx) {
 *       const added = new Map<string, number>();
 *       for (const line of lines) {
 *         if (line.kind === 'create') added.set(String(line.object.invoice), (added.get(String(line.object.invoice)) ?? 0) + 1);
 *       }
 *       const invoices = await ctx.getMany('Invoice', added.keys());
 *       for (const [id, n] of added) await ctx.update('Invoice', id, { lines: Number(invoices.get(id)?.lines ?? 0) + n });
 *     },
 *   },
 * };
 */
export type Handlers = Record<string, EntityHandlers>;

/** Thrown by `ctx.reject`; becomes a failure with reason `rejected`. */
export class HandlerRejection extends Error {
  override name = 'HandlerRejection';
}

const HANDLER_NAMES = ['beforeCommit', 'beforeCommitBatch', 'afterCommit', 'afterCommitBatch'];

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
      if (!HANDLER_NAMES.includes(name)) {
        problems.push({ path: `handlers.${entity}.${name}`, message: `unknown handler (${HANDLER_NAMES.join(', ')})` });
      } else if (typeof fn !== 'function') {
        problems.push({ path: `handlers.${entity}.${name}`, message: 'must be a function' });
      }
    }
    if (Object.hasOwn(h, 'beforeCommit') && Object.hasOwn(h, 'beforeCommitBatch')) {
      problems.push({ path: `handlers.${entity}`, message: 'define beforeCommit or beforeCommitBatch, not both' });
    }
    if (Object.hasOwn(h, 'afterCommit') && Object.hasOwn(h, 'afterCommitBatch')) {
      problems.push({ path: `handlers.${entity}`, message: 'define afterCommit or afterCommitBatch, not both' });
    }
  }
  if (problems.length) throw new SchemaError(problems);
  return handlers as Handlers;
}

/**
 * A change's item for beforeCommitBatch, and what the handler decided for it once it returned:
 * the refusal (the first `reject` wins) or the member values to check (`undefined` when none;
 * a `set` of something else than an object is kept as is, so that checking it fails the change).
 */
export function beforeCommitItem(
  object: SyncObject,
  kind: ChangeKind,
  previous: SyncObject | null,
): { item: BeforeCommitItem; decision(): { rejected: string | null; values: unknown } } {
  let rejected: string | null = null;
  let merged: Values | undefined;
  let bad: { value: unknown } | undefined;
  let decided = false;
  const open = (what: string) => {
    // A call kept after the handler returned (a promise not awaited) would be lost silently.
    if (decided) throw new Error(`BeforeCommitItem.${what} called after beforeCommitBatch returned`);
  };
  const item: BeforeCommitItem = {
    object,
    kind,
    previous,
    set(values) {
      open('set');
      if (typeof values !== 'object' || values === null || Array.isArray(values)) bad ??= { value: values };
      else merged = { ...merged, ...values };
    },
    reject(message) {
      open('reject');
      rejected ??= String(message);
    },
  };
  return {
    item,
    decision() {
      decided = true;
      return { rejected, values: bad ? bad.value : merged };
    },
  };
}

/** A written change's item for afterCommitBatch, and its refusal once the handler returned (the first `reject` wins). */
export function afterCommitItem(
  object: SyncObject,
  kind: ChangeKind,
  previous: SyncObject | null,
): { item: AfterCommitItem; decision(): { rejected: string | null } } {
  let rejected: string | null = null;
  let decided = false;
  const item: AfterCommitItem = {
    object,
    kind,
    previous,
    reject(message) {
      // A call kept after the handler returned (a promise not awaited) would be lost silently.
      if (decided) throw new Error('AfterCommitItem.reject called after afterCommitBatch returned');
      rejected ??= String(message);
    },
  };
  return {
    item,
    decision() {
      decided = true;
      return { rejected };
    },
  };
}
