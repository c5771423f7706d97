/**
 * Values as the interpreter holds them: empty is `null`, datetimes are ISO 8601 strings in UTC,
 * objects are LocalObjects (or built-in records tagged with `$entity`), lists are arrays.
 */
import { SyncflowError } from '../errors.ts';
import { parseIsoDateTime } from '../model/values.ts';
import type { LocalObject } from '../store/types.ts';
import { describeType, type StaticType } from './expressions/types.ts';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An object of an entity (a LocalObject, or a built-in record such as a SynchronizationFailure). */
export function isEntityObject(v: unknown): v is LocalObject {
  return isRecord(v) && typeof v.$entity === 'string' && typeof v.id === 'string';
}

/** The objects in a value: the object itself, or a list's objects (nested lists flattened). */
export function objectsIn(value: unknown): LocalObject[] {
  if (Array.isArray(value)) return value.flatMap(objectsIn);
  return isEntityObject(value) ? [value] : [];
}

/** A variable's value before anything is assigned: an empty list for lists, empty otherwise. */
export function emptyValueOf(type: StaticType): unknown {
  return type.kind === 'list' ? [] : null;
}

/**
 * Checks a value against a static type when the flow runs (parameters, JavaScript action
 * results, assignments whose type was not known at load) and normalizes it: a Date becomes an
 * ISO string, a datetime string is brought to UTC. Throws a `flow_runtime` error naming `what`.
 */
export function checkValue(type: StaticType, value: unknown, what: string): unknown {
  if (value === undefined || value === null) return emptyValueOf(type);
  const wrong = () =>
    new SyncflowError('flow_runtime', `${what} must be ${article(describeType(type))}, not ${show(value)}`);
  switch (type.kind) {
    case 'unknown':
      return value instanceof Date ? value.toISOString() : value;
    case 'empty':
    case 'nothing':
      return null;
    case 'string':
      if (typeof value !== 'string') throw wrong();
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw wrong();
      return value;
    case 'decimal':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw wrong();
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw wrong();
      return value;
    case 'datetime': {
      // parseIsoDateTime refuses what Date would shift (2025-02-30, 24:00) or guess at (non-ISO text).
      const d = value instanceof Date ? value : typeof value === 'string' ? parseIsoDateTime(value) : null;
      if (!d || Number.isNaN(d.getTime())) throw wrong();
      return d.toISOString();
    }
    case 'enum':
      if (typeof value !== 'string' || !type.values.includes(value)) throw wrong();
      return value;
    case 'object':
      if (!isEntityObject(value) || value.$entity !== type.entity) throw wrong();
      return value;
    case 'list':
      if (!Array.isArray(value) || !value.every((o) => isEntityObject(o) && o.$entity === type.entity)) throw wrong();
      return value;
  }
}

function article(s: string): string {
  return /^[aeiou]/i.test(s) ? `an ${s}` : `a ${s}`;
}

function show(v: unknown): string {
  if (isEntityObject(v)) return `a ${v.$entity}`;
  if (Array.isArray(v)) return 'a list';
  const s = JSON.stringify(v);
  return s && s.length > 60 ? `${s.slice(0, 57)}...` : (s ?? String(v));
}

