import type { Collection, Dexie, Table } from 'dexie';
import { ValidationError } from '../errors.ts';
import { CURRENT_USER, matchConstraint, validateConstraint, type Constraint } from '../model/constraint.ts';
import { entityOf, instantMembers, SYSTEM_ATTRIBUTES, type Schema } from '../model/schema.ts';
import { compareValues, instantText } from '../model/values.ts';
import type { Row } from './tables.ts';
import type { QueryOptions } from './types.ts';

/**
 * Runs a query over an entity's table and returns the raw rows: `where` is evaluated with
 * `matchConstraint` (the server's semantics), after narrowing the candidates with an index
 * when a top-level comparison allows it (`eq` / `in` on `id`, an association or
 * `changedDate`, and ranges on `changedDate`). Without `sort` the rows come in `id` order.
 *
 * @example
 * const rows = await runQuery(db, schema, 'Task', { where: { attribute: 'done', op: 'eq', value: false }, sort: [['title', 'asc']], limit: 10 });
 */
export async function runQuery(db: Dexie, schema: Schema, entity: string, options: QueryOptions = {}): Promise<Row[]> {
  const { where, sort, limit, offset } = checkOptions(schema, entity, options);
  const table = db.table(entity);
  if (!where && !sort) {
    // Primary key order is id order: let IndexedDB skip and stop.
    let c = table.toCollection();
    if (offset) c = c.offset(offset);
    if (limit !== undefined) c = c.limit(limit);
    return (await c.toArray()) as Row[];
  }
  const rows = await select(table, schema, entity, where, options.currentUser ?? null);
  sortRows(rows, sort ?? [], instantMembers(schema, entity));
  const start = offset ?? 0;
  return rows.slice(start, limit === undefined ? undefined : start + limit);
}

/**
 * Counts the objects a query would return (`limit` / `offset` included).
 *
 * @example
 * const open = await countQuery(db, schema, 'Task', { where: { attribute: 'done', op: 'eq', value: false } });
 */
export async function countQuery(db: Dexie, schema: Schema, entity: string, options: QueryOptions = {}): Promise<number> {
  const { where, limit, offset } = checkOptions(schema, entity, options);
  const table = db.table(entity);
  const n = where ? (await select(table, schema, entity, where, options.currentUser ?? null)).length : await table.count();
  return Math.max(0, Math.min(limit ?? Infinity, n - (offset ?? 0)));
}

function checkOptions(schema: Schema, entity: string, options: QueryOptions): QueryOptions {
  const def = entityOf(schema, entity);
  const where = options.where === undefined ? undefined : validateConstraint(schema, entity, options.where, 'where');
  const members = new Set<string>([...SYSTEM_ATTRIBUTES, ...Object.keys(def.attributes), ...Object.keys(def.associations)]);
  const problems: Array<{ path: string; message: string }> = [];
  options.sort?.forEach((key, i) => {
    if (!Array.isArray(key) || !members.has(key[0])) {
      problems.push({ path: `sort[${i}]`, message: `unknown attribute of ${entity}: ${JSON.stringify(Array.isArray(key) ? key[0] : key)}` });
    } else if (key[1] !== 'asc' && key[1] !== 'desc') {
      problems.push({ path: `sort[${i}]`, message: 'the direction is "asc" or "desc"' });
    }
  });
  for (const name of ['limit', 'offset'] as const) {
    const v = options[name];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) problems.push({ path: name, message: 'must be a whole number ≥ 0' });
  }
  if (problems.length) throw new ValidationError(problems);
  return { ...options, where };
}

async function select(
  table: Table,
  schema: Schema,
  entity: string,
  where: Constraint | undefined,
  currentUser: string | null,
): Promise<Row[]> {
  const rows = (await candidates(table, schema, entity, where, currentUser).toArray()) as Row[];
  const instants = instantMembers(schema, entity);
  return where ? rows.filter((r) => matchConstraint(where, r, currentUser, instants)) : rows;
}

/** A collection that holds at least every match of `where` (the full table when no index helps). */
function candidates(table: Table, schema: Schema, entity: string, where: Constraint | undefined, currentUser: string | null): Collection {
  const indexed = new Set(['id', 'changedDate', ...Object.keys(schema.entities[entity].associations)]);
  const conjuncts = !where ? [] : 'and' in where ? where.and : [where];
  const resolve = (v: unknown) => (v === CURRENT_USER ? currentUser : v);
  for (const c of conjuncts) {
    if (!('attribute' in c) || !indexed.has(c.attribute)) continue;
    if (c.attribute === 'changedDate') {
      const narrowed = changedDateRange(table, c, resolve);
      if (narrowed) return narrowed;
      continue;
    }
    const value = resolve(c.value);
    // Null is never indexed, and only strings are stored in these fields: other values scan.
    if (c.op === 'eq' && typeof value === 'string') return table.where(c.attribute).equals(value);
    if (c.op === 'in') {
      const values = (c.value as unknown[]).map(resolve).filter((v) => v !== null);
      if (values.every((v) => typeof v === 'string')) return table.where(c.attribute).anyOf(values as string[]);
    }
  }
  return table.toCollection();
}

/**
 * Candidates of a comparison on changedDate from its index. Stamps are stored as UTC text, but a
 * value may name the instant another way (`+02:00`, fewer or more digits): the range is taken on
 * the instant's millisecond prefix (`2026-01-01T00:00:00.000`), which every UTC form of it and
 * of its neighbours shares or orders by, and matchConstraint then compares the instants exactly.
 */
function changedDateRange(table: Table, c: Extract<Constraint, { attribute: string }>, resolve: (v: unknown) => unknown): Collection | null {
  const prefixOf = (v: unknown) => instantText(resolve(v))?.slice(0, 23) ?? null;
  const w = table.where('changedDate');
  if (c.op === 'in') {
    const prefixes = (c.value as unknown[]).map((v) => (resolve(v) === null ? null : prefixOf(v)));
    // A value that is no instant matches no stored stamp; null matches no indexed row.
    const ranges = prefixes.filter((p): p is string => p !== null).map((p) => [p, `${p}\uffff`] as [string, string]);
    return ranges.length ? w.inAnyRange(ranges, { includeLowers: true, includeUppers: true }) : null;
  }
  const prefix = prefixOf(c.value);
  if (prefix === null) return null;
  if (c.op === 'eq') return w.between(prefix, `${prefix}\uffff`, true, true);
  if (c.op === 'gt' || c.op === 'gte') return w.aboveOrEqual(prefix);
  if (c.op === 'lt' || c.op === 'lte') return w.belowOrEqual(`${prefix}\uffff`);
  return null;
}

/**
 * Sorts rows in place by the sort keys, then by id. Empty values sort last ascending and first
 * descending, as PostgreSQL does, so a local sort agrees with the server's; members in `instants`
 * sort by time, not text.
 *
 * @example
 * sortRows(rows, [['due', 'asc'], ['title', 'desc']], instantMembers(schema, 'Task'));
 */
export function sortRows(rows: Row[], sort: ReadonlyArray<readonly [string, 'asc' | 'desc']>, instants: ReadonlySet<string> = new Set()): Row[] {
  // Each row's sort values once (an instant's canonical text costs a parse): not once per comparison.
  const keys = new Map<Row, unknown[]>(rows.map((row) => [row, sort.map(([member]) => (instants.has(member) ? (instantText(row[member]) ?? row[member]) : row[member]))]));
  return rows.sort((a, b) => {
    const ka = keys.get(a)!;
    const kb = keys.get(b)!;
    for (let i = 0; i < sort.length; i++) {
      const c = compareValues(ka[i], kb[i]);
      if (c !== 0) return sort[i][1] === 'desc' ? -c : c;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}
