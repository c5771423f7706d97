import { z } from 'zod';
import { toSyncflowError, ValidationError } from '../../errors.ts';
import { validateConstraint } from '../../model/constraint.ts';
import { entityOf, type Schema } from '../../model/schema.ts';
import type { SyncDownOptions, SyncDownTarget, SyncState, SyncStateStatus, SyncType, SyncUpdate, SyncUpOptions, SyncUpTarget } from '../../model/syncState.ts';
import { newId } from '../../model/values.ts';
import { MAX_BATCH } from '../../transport/wire.ts';
import type { SyncContext } from '../SyncContext.ts';

const name = z.string().trim().min(1, 'a sync name is a non-empty string').max(200).optional();
const downShape = z.strictObject({
  entity: z.string(),
  constraint: z.unknown().optional(),
  modificationField: z
    .literal('changedDate', {
      error: 'only "changedDate" can be the modification field: the server assigns it in commit order, so a delta never misses a record',
    })
    .optional(),
});
const downOptions = z.strictObject({
  name,
  mergeMode: z.enum(['leaveIfChanged', 'overwrite']).optional(),
  batchSize: z.int().min(1).max(MAX_BATCH).optional(),
});
const upShape = z.strictObject({ entity: z.string(), fields: z.array(z.string()).min(1).optional() });
const upOptions = z.strictObject({ name, mergeMode: z.enum(['leaveIfChanged', 'overwrite']).optional() });

function parse<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((i) => ({ path: [path, ...i.path.map(String)].join('.'), message: i.message })),
  );
}

/** A new sync down's state, validated against the schema (bad targets fail here, typed, before anything runs). */
export function newSyncDown(schema: Schema, target: SyncDownTarget, options: SyncDownOptions & { name?: string } = {}): SyncState {
  const t = parse(downShape, target, 'target');
  const o = parse(downOptions, options, 'options');
  entityOf(schema, t.entity, 'target.entity');
  const constraint = t.constraint === undefined ? undefined : validateConstraint(schema, t.entity, t.constraint, 'target.constraint');
  return initial('syncDown', o.name ?? null, { ...t, constraint }, {
    mergeMode: o.mergeMode ?? 'leaveIfChanged',
    ...(o.batchSize ? { batchSize: o.batchSize } : {}),
  });
}

/** A new sync up's state; `fields` must be members of the entity. */
export function newSyncUp(schema: Schema, target: SyncUpTarget, options: SyncUpOptions & { name?: string } = {}): SyncState {
  const t = parse(upShape, target, 'target');
  const o = parse(upOptions, options, 'options');
  const def = entityOf(schema, t.entity, 'target.entity');
  const problems = (t.fields ?? [])
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => !Object.hasOwn(def.attributes, f) && !Object.hasOwn(def.associations, f))
    .map(({ f, i }) => ({ path: `target.fields.${i}`, message: `"${f}" is not a member of ${t.entity}` }));
  if (problems.length) throw new ValidationError(problems);
  return initial('syncUp', o.name ?? null, t, { mergeMode: o.mergeMode ?? 'overwrite' });
}

function initial(type: SyncType, name: string | null, target: SyncState['target'], options: SyncDownOptions): SyncState {
  return {
    id: newId(),
    name,
    type,
    target,
    options,
    status: 'new',
    progress: 0,
    totalSize: null,
    maxTimeStamp: null,
    resume: null,
    startTime: null,
    endTime: null,
    error: null,
  };
}

export function progressOf(done: number, total: number | null): number {
  if (!total) return 0;
  return Math.min(99, Math.floor((done / total) * 100));
}

/** Stores and reports the start of a run (progress and error of the previous run cleared). */
export async function startState(ctx: SyncContext, state: SyncState, onUpdate: SyncUpdate): Promise<SyncState> {
  const start: SyncState = {
    ...state,
    status: 'running',
    progress: 0,
    totalSize: null,
    startTime: new Date().toISOString(),
    endTime: null,
    error: null,
  };
  await ctx.store.putSyncState(start);
  onUpdate(start);
  return start;
}

/** Stores and reports the end of a run. */
export async function endState(
  ctx: SyncContext,
  state: SyncState,
  status: Extract<SyncStateStatus, 'done' | 'failed' | 'stopped'>,
  error: unknown,
  onUpdate: SyncUpdate,
): Promise<SyncState> {
  const end: SyncState = {
    ...state,
    status,
    endTime: new Date().toISOString(),
    error: status === 'failed' ? toSyncflowError(error).toJSON() : null,
  };
  await ctx.store.putSyncState(end);
  onUpdate(end);
  return end;
}
