import { ValidationError, type Problem } from '../errors.ts';
import { entityOf, type AttributeDef, type Schema } from './schema.ts';

/**
 * An object as stored and synchronized: system attributes plus the entity's attributes and
 * associations (an association holds the target object's id, or null).
 * `createdDate` / `changedDate` are null until the server has seen the object.
 */
export interface SyncObject {
  id: string;
  createdDate: string | null;
  changedDate: string | null;
  owner: string | null;
  /** Objects of a file entity, as downloaded: the size of their file contents, or null when they have none. */
  $file?: number | null;
  [member: string]: unknown;
}

export type Values = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Groups: year, month, day, hour, minute, second, fraction, zone sign, zone hours, zone minutes.
const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;
/** The instants whose UTC ISO form has a four-digit year (0001-01-01 to 9999-12-31): those round-trip through toISOString. */
const FIRST_INSTANT = new Date(0).setUTCFullYear(1, 0, 1);
const LAST_INSTANT = new Date(0).setUTCFullYear(9999, 11, 31) + 86_400_000 - 1;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/**
 * The instant an ISO 8601 date and time with a zone stands for, or null when it is malformed or
 * names no real moment. Every part is checked against the calendar and the clock (`Date` would
 * silently move `2025-02-30` to March 2nd and `24:00` to the next day, and accepts text such as
 * `March 7, 2025`); the instant must lie in years 0001-9999 in UTC, so its `toISOString()` is
 * itself accepted. Fractions of a millisecond are cut, as `Date` does.
 *
 * @example
 * parseIsoDateTime('2024-02-29T10:00:00+02:00') // 2024-02-29T08:00:00.000Z
 * parseIsoDateTime('2025-02-30T10:00:00Z')      // null
 */
export function parseIsoDateTime(value: string): Date | null {
  return isoInstant(value)?.date ?? null;
}

/** The instant of an ISO 8601 date and time, with its fraction digits as written (see parseIsoDateTime). */
function isoInstant(value: unknown): { date: Date; fraction: string } | null {
  const m = typeof value === 'string' ? ISO_DATETIME.exec(value) : null;
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map((part) => Number(part ?? 0));
  const fraction = m[7] ?? '';
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
  const [zh, zm] = [Number(m[9] ?? 0), Number(m[10] ?? 0)];
  if (h > 23 || mi > 59 || s > 59 || zh > 15 || zm > 59) return null;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0-99 as 1900-1999.
  date.setUTCFullYear(y, mo - 1, d);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  date.setUTCHours(h, mi, s, ms);
  const t = date.getTime() - (m[8] === '-' ? -1 : 1) * (zh * 60 + zm) * 60_000;
  return t >= FIRST_INSTANT && t <= LAST_INSTANT ? { date: new Date(t), fraction } : null;
}

/**
 * A date and time as fixed-width UTC text to the microsecond (`2025-03-07T08:00:00.123456Z`, the
 * server's own form), whose text order is time order; null when it is not an ISO 8601 date and
 * time with a zone. The server compares instants, not text: local queries compare these.
 *
 * @example
 * instantText('2030-06-01T02:00:00+02:00') // '2030-06-01T00:00:00.000000Z'
 */
export function instantText(value: unknown): string | null {
  const instant = isoInstant(value);
  if (!instant) return null;
  return `${instant.date.toISOString().slice(0, 23)}${instant.fraction.padEnd(6, '0').slice(3, 6)}Z`;
}

/** Now in the server's form (`instantText`): failures made on the device sort with the server's by createdDate. */
export function wireNow(): string {
  return instantText(new Date().toISOString())!;
}

/** Whether `value` is an ISO 8601 date and time with a zone that names a real instant (see parseIsoDateTime). */
export function isIsoDateTime(value: unknown): value is string {
  return typeof value === 'string' && parseIsoDateTime(value) !== null;
}

/**
 * Why a string cannot be stored by every storage (PostgreSQL's text and jsonb refuse U+0000
 * and lone UTF-16 surrogates, e.g. an emoji cut in half), or null when it can.
 */
export function unstorableText(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain the character U+0000';
  if (LONE_SURROGATE.test(value)) return 'must not contain a lone surrogate (half of a UTF-16 pair, e.g. a cut emoji)';
  return null;
}

/** `text` with each U+0000 and lone surrogate replaced by U+FFFD (same length): storable anywhere. */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, '\ufffd');
}

// Code units, not code points (no `u` flag): a high surrogate without its low half, or the reverse.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A new object id, made on the device. */
export function newId(): string {
  return crypto.randomUUID();
}

/**
 * Checks attribute and association values against the entity and returns them normalized
 * (datetimes as ISO strings in UTC, ids lower-case). With `partial`, missing required
 * members are not reported (an update carries only the changed members).
 * Throws a ValidationError naming each bad field as `${path}.${member}`.
 */
export function validateValues(
  schema: Schema,
  entity: string,
  values: unknown,
  options: { partial?: boolean; path?: string } = {},
): Values {
  const path = options.path ?? 'values';
  const def = entityOf(schema, entity);
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw ValidationError.at(path, 'must be an object');
  }
  const problems: Problem[] = [];
  const out: Values = {};
  for (const [name, value] of Object.entries(values)) {
    const at = `${path}.${name}`;
    if (Object.hasOwn(def.attributes, name)) {
      const r = checkAttribute(def.attributes[name], value);
      if (typeof r === 'string') problems.push({ path: at, message: r });
      else out[name] = r.value;
    } else if (Object.hasOwn(def.associations, name)) {
      if (value === null || value === undefined) {
        if (def.associations[name].required) problems.push({ path: at, message: 'is required' });
        else out[name] = null;
      } else if (!isUuid(value)) {
        problems.push({ path: at, message: `must be the id (UUID) of a ${def.associations[name].target}` });
      } else out[name] = value.toLowerCase();
    } else {
      problems.push({ path: at, message: `unknown attribute of ${entity}` });
    }
  }
  if (!options.partial) {
    for (const [name, a] of Object.entries(def.attributes)) {
      if (a.required && (out[name] === undefined || out[name] === null) && !problems.some((p) => p.path === `${path}.${name}`)) {
        problems.push({ path: `${path}.${name}`, message: 'is required' });
      }
    }
    for (const [name, a] of Object.entries(def.associations)) {
      if (a.required && (out[name] === undefined || out[name] === null) && !problems.some((p) => p.path === `${path}.${name}`)) {
        problems.push({ path: `${path}.${name}`, message: 'is required' });
      }
    }
  }
  if (problems.length) throw new ValidationError(problems);
  return out;
}

function checkAttribute(def: AttributeDef, value: unknown): { value: unknown } | string {
  if (value === null || value === undefined) return def.required ? 'is required' : { value: null };
  switch (def.type) {
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (unstorableText(value)) return unstorableText(value)!;
      if (def.maxLength !== undefined && value.length > def.maxLength) return `is longer than ${def.maxLength} characters`;
      if (def.required && value === '') return 'is required';
      return { value };
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) ? { value } : 'must be an integer';
    case 'decimal':
      return typeof value === 'number' && Number.isFinite(value) ? { value } : 'must be a finite number';
    case 'boolean':
      return typeof value === 'boolean' ? { value } : 'must be true or false';
    case 'datetime': {
      const d = value instanceof Date ? value : typeof value === 'string' ? parseIsoDateTime(value) : null;
      if (!d || Number.isNaN(d.getTime())) return 'must be an ISO 8601 date and time (a real calendar date, with a zone)';
      return { value: d.toISOString() };
    }
    case 'enum':
      return typeof value === 'string' && def.values!.includes(value)
        ? { value }
        : `must be one of ${def.values!.map((v) => JSON.stringify(v)).join(', ')}`;
  }
}

/** The member values of an object, without system attributes. */
export function memberValues(schema: Schema, entity: string, object: Values): Values {
  const def = entityOf(schema, entity);
  const out: Values = {};
  for (const name of [...Object.keys(def.attributes), ...Object.keys(def.associations)]) {
    if (Object.hasOwn(object, name)) out[name] = object[name];
  }
  return out;
}

/**
 * Orders two attribute values for sorting: numbers numerically, booleans false first, the rest
 * as text, empty last. The offline database's sort and a flow's list sort both use it, so a
 * sorted retrieve and a sorted list agree (and agree with PostgreSQL's order).
 */
export function compareValues(a: unknown, b: unknown): number {
  const x = a ?? null;
  const y = b ?? null;
  if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  if (typeof x === 'boolean' && typeof y === 'boolean') return Number(x) - Number(y);
  const s = String(x);
  const t = String(y);
  return s < t ? -1 : s > t ? 1 : 0;
}

/**
 * The later of two changedDate stamps (null: none yet). Stamps travel as fixed-width UTC ISO
 * 8601 strings, so their text order is their time order.
 */
export function laterStamp(a: string | null, b: string | null): string | null {
  return a === null || (b !== null && b > a) ? b : a;
}
