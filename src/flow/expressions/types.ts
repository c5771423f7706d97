/**
 * Static types of the expression language and of flow variables, checked at load time "where
 * known": a value whose type is `unknown` (e.g. a JavaScript action's result without a declared
 * return type) is checked when the flow runs instead.
 */
import type { Schema } from '../../model/schema.ts';
import type { DataType, ReturnType } from '../format.ts';

export type StaticType =
  | { kind: 'string' }
  | { kind: 'integer' }
  | { kind: 'decimal' }
  | { kind: 'boolean' }
  | { kind: 'datetime' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'object'; entity: string }
  | { kind: 'list'; entity: string }
  /** The literal `empty`: assignable to every type. */
  | { kind: 'empty' }
  /** Not known at load time; checked at run time. */
  | { kind: 'unknown' }
  | { kind: 'nothing' };

export const Types = {
  string: { kind: 'string' },
  integer: { kind: 'integer' },
  decimal: { kind: 'decimal' },
  boolean: { kind: 'boolean' },
  datetime: { kind: 'datetime' },
  empty: { kind: 'empty' },
  unknown: { kind: 'unknown' },
  nothing: { kind: 'nothing' },
} as const satisfies Record<string, StaticType>;

/** Built-in entities: the error of `$latestError` and the SynchronizationFailure records. */
export const ERROR_ENTITY = 'System.Error';
export const FAILURE_ENTITY = 'System.SynchronizationFailure';
/** What a Run profile activity outputs: the run's outcome and counts. */
export const PROFILE_RUN_ENTITY = 'System.ProfileRun';

const BUILTIN_MEMBERS: Record<string, Record<string, StaticType>> = {
  [ERROR_ENTITY]: { type: Types.string, message: Types.string },
  [FAILURE_ENTITY]: {
    id: Types.string,
    user: Types.string,
    device: Types.string,
    entity: Types.string,
    objectId: Types.string,
    changeId: Types.string,
    kind: { kind: 'enum', values: ['create', 'update', 'delete'] },
    reason: { kind: 'enum', values: ['deleted', 'inaccessible', 'rejected', 'invalid'] },
    message: Types.string,
    status: { kind: 'enum', values: ['open', 'resolved', 'dismissed'] },
    createdDate: Types.datetime,
  },
  [PROFILE_RUN_ENTITY]: {
    profile: Types.string,
    outcome: { kind: 'enum', values: ['done', 'failed', 'cancelled', 'stopped', 'skipped', 'refused'] },
    uploaded: Types.integer,
    downloaded: Types.integer,
    removed: Types.integer,
    files: Types.integer,
    failures: Types.integer,
  },
};

const SYSTEM_MEMBERS: Record<string, StaticType> = {
  id: Types.string,
  createdDate: Types.datetime,
  changedDate: Types.datetime,
  owner: Types.string,
};

export function isBuiltinEntity(entity: string): boolean {
  return Object.hasOwn(BUILTIN_MEMBERS, entity);
}

/** True if the entity is in the schema or built in. */
export function entityExists(schema: Schema, entity: string): boolean {
  return Object.hasOwn(schema.entities, entity) || isBuiltinEntity(entity);
}

export interface MemberInfo {
  type: StaticType;
  /** Set for associations: the member holds the target's id, and `$obj/assoc` is the target object. */
  association?: string;
}

/** The type of `entity`'s member, or undefined if the entity has no such member. */
export function memberOf(schema: Schema, entity: string, member: string): MemberInfo | undefined {
  if (isBuiltinEntity(entity)) {
    const m = BUILTIN_MEMBERS[entity];
    return Object.hasOwn(m, member) ? { type: m[member] } : undefined;
  }
  const def = Object.hasOwn(schema.entities, entity) ? schema.entities[entity] : undefined;
  if (!def) return undefined;
  if (Object.hasOwn(SYSTEM_MEMBERS, member)) return { type: SYSTEM_MEMBERS[member] };
  if (Object.hasOwn(def.attributes, member)) {
    const a = def.attributes[member];
    return { type: a.type === 'enum' ? { kind: 'enum', values: a.values ?? [] } : ({ kind: a.type } as StaticType) };
  }
  if (Object.hasOwn(def.associations, member)) {
    const target = def.associations[member].target;
    return { type: { kind: 'object', entity: target }, association: target };
  }
  return undefined;
}

/** The member names of an entity (for messages). */
export function memberNamesOf(schema: Schema, entity: string): string[] {
  if (isBuiltinEntity(entity)) return Object.keys(BUILTIN_MEMBERS[entity]);
  const def = schema.entities[entity];
  return def ? [...Object.keys(SYSTEM_MEMBERS), ...Object.keys(def.attributes), ...Object.keys(def.associations)] : [];
}

/** The static type of a declared data type. */
export function fromDataType(t: DataType | ReturnType): StaticType {
  switch (t.type) {
    case 'enum':
      return { kind: 'enum', values: t.values };
    case 'object':
      return { kind: 'object', entity: t.entity };
    case 'list':
      return { kind: 'list', entity: t.entity };
    default:
      return { kind: t.type };
  }
}

/** A type as people read it: `integer`, `Task`, `list of Task`, `enum (low, high)`. */
export function describeType(t: StaticType): string {
  switch (t.kind) {
    case 'enum':
      return `enumeration (${t.values.join(', ')})`;
    case 'object':
      return t.entity;
    case 'list':
      return `list of ${t.entity}`;
    default:
      return t.kind;
  }
}

export function isNumeric(t: StaticType): boolean {
  return t.kind === 'integer' || t.kind === 'decimal';
}

/** Types whose values are only known when the flow runs: every check passes. */
export function isLoose(t: StaticType): boolean {
  return t.kind === 'unknown' || t.kind === 'empty';
}

/**
 * Whether a value of type `source` may be stored where `target` is expected. Integers widen to
 * decimals; strings may go to enumerations (the value is checked when it is stored); empty goes
 * everywhere.
 */
export function isAssignable(target: StaticType, source: StaticType): boolean {
  if (target.kind === 'unknown' || source.kind === 'unknown' || source.kind === 'empty') return true;
  switch (target.kind) {
    case 'decimal':
      return isNumeric(source);
    case 'enum':
      return source.kind === 'string' || (source.kind === 'enum' && source.values.every((v) => target.values.includes(v)));
    case 'object':
    case 'list':
      return source.kind === target.kind && source.entity === target.entity;
    case 'empty':
      return false;
    default:
      return source.kind === target.kind;
  }
}

/** Whether `=` / `!=` may compare the two types. */
export function isComparable(a: StaticType, b: StaticType): boolean {
  if (isLoose(a) || isLoose(b)) return true;
  if (isNumeric(a) && isNumeric(b)) return true;
  const text = (t: StaticType) => t.kind === 'string' || t.kind === 'enum';
  if (text(a) && text(b)) return true;
  if (a.kind === 'object' && b.kind === 'object') return a.entity === b.entity;
  return a.kind === b.kind && a.kind !== 'list';
}

/** Whether `<`, `<=`, `>`, `>=` may compare the two types. */
export function isOrdered(a: StaticType, b: StaticType): boolean {
  if (isLoose(a) && isLoose(b)) return true;
  const ordered = (t: StaticType) => isNumeric(t) || t.kind === 'string' || t.kind === 'datetime' || t.kind === 'enum';
  if (isLoose(a)) return ordered(b);
  if (isLoose(b)) return ordered(a);
  if (isNumeric(a) && isNumeric(b)) return true;
  const text = (t: StaticType) => t.kind === 'string' || t.kind === 'enum';
  if (text(a) && text(b)) return true;
  return a.kind === 'datetime' && b.kind === 'datetime';
}

export function sameType(a: StaticType, b: StaticType): boolean {
  return isAssignable(a, b) && isAssignable(b, a);
}
