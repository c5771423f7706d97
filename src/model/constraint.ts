import { ValidationError, type Problem } from '../errors.ts';
import { entityOf, SYSTEM_ATTRIBUTES, type Schema } from './schema.ts';
import { instantText } from './values.ts';

/**
 * A constraint on the objects of one entity, as data (Mendix's XPath constraints, made safe):
 * the same value filters the local store (`matchConstraint`) and the server's SQL, so a
 * download "by constraint" and a local retrieve agree.
 *
 * The value `CURRENT_USER` stands for the id of the user the query runs for.
 *
 * @example
 * const open: Constraint = { and: [
 *   { attribute: 'done', op: 'eq', value: false },
 *   { attribute: 'assignee', op: 'eq', value: CURRENT_USER },
 * ] };
 */
export type Constraint =
  | { and: Constraint[] }
  | { or: Constraint[] }
  | { not: Constraint }
  | Comparison;

export type ComparisonOp = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in' | 'contains' | 'startsWith';

export interface Comparison {
  attribute: string;
  op: ComparisonOp;
  value: unknown;
}

export const CURRENT_USER = '[%CurrentUser%]';

const OPS: readonly ComparisonOp[] = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'contains', 'startsWith'];
const MAX_DEPTH = 16;
/**
 * The most comparisons one constraint may hold, and the most values of one `in` list: a
 * constraint becomes one SQL statement, whose parameters and plan must stay small (PostgreSQL
 * takes at most 65,535 parameters).
 */
export const MAX_COMPARISONS = 1000;
export const MAX_IN_VALUES = 1000;

/** Checks a constraint against an entity; throws a ValidationError naming the bad part. */
export function validateConstraint(schema: Schema, entity: string, constraint: unknown, path = 'constraint'): Constraint {
  const def = entityOf(schema, entity, 'entity');
  const problems: Problem[] = [];
  let comparisons = 0;
  const members = new Set<string>([
    ...SYSTEM_ATTRIBUTES,
    ...Object.keys(def.attributes),
    ...Object.keys(def.associations),
  ]);
  const walk = (c: unknown, at: string, depth: number): void => {
    // Every leaf counts (comparisons and malformed parts alike), so the work and the problems stay bounded.
    const branch = typeof c === 'object' && c !== null && ('and' in c || 'or' in c || 'not' in c);
    if (!branch && ++comparisons > MAX_COMPARISONS) return;
    if (depth > MAX_DEPTH) return void problems.push({ path: at, message: 'is nested too deeply' });
    if (typeof c !== 'object' || c === null || Array.isArray(c)) {
      return void problems.push({ path: at, message: 'must be an object' });
    }
    const o = c as Record<string, unknown>;
    const keys = Object.keys(o);
    if ('and' in o || 'or' in o) {
      const k = 'and' in o ? 'and' : 'or';
      if (keys.length !== 1) return void problems.push({ path: at, message: `"${k}" stands alone in its object` });
      const list = o[k];
      if (!Array.isArray(list) || list.length === 0) {
        return void problems.push({ path: `${at}.${k}`, message: 'must be a non-empty list' });
      }
      for (let i = 0; i < list.length && comparisons <= MAX_COMPARISONS; i++) walk(list[i], `${at}.${k}[${i}]`, depth + 1);
      return;
    }
    if ('not' in o) {
      if (keys.length !== 1) return void problems.push({ path: at, message: '"not" stands alone in its object' });
      return walk(o.not, `${at}.not`, depth + 1);
    }
    const extra = keys.filter((k) => k !== 'attribute' && k !== 'op' && k !== 'value');
    if (extra.length) problems.push({ path: `${at}.${extra[0]}`, message: 'unknown key' });
    if (typeof o.attribute !== 'string' || !members.has(o.attribute)) {
      problems.push({ path: `${at}.attribute`, message: `unknown attribute of ${entity}: ${JSON.stringify(o.attribute)}` });
    }
    if (!OPS.includes(o.op as ComparisonOp)) {
      problems.push({ path: `${at}.op`, message: `must be one of ${OPS.join(', ')}` });
    }
    const v = o.value;
    if (o.op === 'in') {
      if (!Array.isArray(v) || !v.every(isScalar)) problems.push({ path: `${at}.value`, message: 'must be a list of values' });
      else if (v.length > MAX_IN_VALUES) {
        problems.push({ path: `${at}.value`, message: `has ${v.length} values; the limit is ${MAX_IN_VALUES.toLocaleString('en')}` });
      }
    } else if (o.op === 'contains' || o.op === 'startsWith') {
      if (typeof v !== 'string') problems.push({ path: `${at}.value`, message: 'must be a string' });
    } else if (!isScalar(v)) {
      problems.push({ path: `${at}.value`, message: 'must be a string, number, boolean or null' });
    }
  };
  walk(constraint, path, 0);
  if (comparisons > MAX_COMPARISONS) {
    problems.unshift({ path, message: `has more than ${MAX_COMPARISONS.toLocaleString('en')} comparisons (the limit)` });
  }
  if (problems.length) throw new ValidationError(problems);
  return constraint as Constraint;
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function resolve(value: unknown, currentUser: string | null): unknown {
  return value === CURRENT_USER ? currentUser : value;
}

/** `instant`: both sides are moments in time (a text that is not one compares as text). */
function compareScalars(a: unknown, b: unknown, instant: boolean): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const x = (instant && instantText(a)) || String(a);
  const y = (instant && instantText(b)) || String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const NO_INSTANTS: ReadonlySet<string> = new Set();

/**
 * Evaluates a (validated) constraint on one object. Comparisons with an empty (null) value
 * are false, except `eq null` / `ne null`, as in SQL's IS NULL / IS NOT NULL. Members named in
 * `instants` (see `instantMembers`) compare as moments in time, as the server compares them.
 */
export function matchConstraint(
  constraint: Constraint,
  object: Record<string, unknown>,
  currentUser: string | null = null,
  instants: ReadonlySet<string> = NO_INSTANTS,
): boolean {
  if ('and' in constraint) return constraint.and.every((c) => matchConstraint(c, object, currentUser, instants));
  if ('or' in constraint) return constraint.or.some((c) => matchConstraint(c, object, currentUser, instants));
  if ('not' in constraint) return !matchConstraint(constraint.not, object, currentUser, instants);
  const instant = instants.has(constraint.attribute);
  const compare = (a: unknown, b: unknown) => compareScalars(a, b, instant);
  const actual = object[constraint.attribute] ?? null;
  const value = constraint.op === 'in'
    ? (constraint.value as unknown[]).map((v) => resolve(v, currentUser))
    : resolve(constraint.value, currentUser);
  switch (constraint.op) {
    case 'eq':
      return value === null ? actual === null : actual !== null && compare(actual, value) === 0;
    case 'ne':
      return value === null ? actual !== null : actual === null || compare(actual, value) !== 0;
    case 'in':
      return actual !== null && (value as unknown[]).some((v) => v !== null && compare(actual, v) === 0);
    case 'contains':
      return typeof actual === 'string' && actual.toLowerCase().includes(String(value).toLowerCase());
    case 'startsWith':
      return typeof actual === 'string' && actual.toLowerCase().startsWith(String(value).toLowerCase());
    default: {
      if (actual === null || value === null) return false;
      const c = compare(actual, value);
      return constraint.op === 'lt' ? c < 0 : constraint.op === 'lte' ? c <= 0 : constraint.op === 'gt' ? c > 0 : c >= 0;
    }
  }
}
