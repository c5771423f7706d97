import { ValidationError, type Problem } from '../errors.ts';
import { CURRENT_USER, validateConstraint, type Comparison, type Constraint } from '../model/constraint.ts';
import { entityOf, type EntityDef, type Schema } from '../model/schema.ts';
import { isIsoDateTime } from './isoDates.ts';
import { wireDateSql } from './objectSql.ts';
import { SqlParams, sqlLiteral } from './SqlParams.ts';

type Kind = 'text' | 'numeric' | 'boolean' | 'timestamptz';

interface Member {
  kind: Kind;
  /** The typed SQL value of the member. */
  expr: string;
  /** Its text, for contains / startsWith; null when the member is not a string in JavaScript. */
  text: string | null;
}

/**
 * Compiles a constraint to a parameterized SQL condition over the sf_objects row aliased
 * `alias`, with exactly the semantics of `matchConstraint` (src/model/constraint.ts):
 *
 * - every comparison is TRUE or FALSE, never NULL, so `not` negates as in JavaScript;
 * - `eq null` is IS NULL, `ne null` IS NOT NULL; `ne v` is IS DISTINCT FROM (an empty value
 *   differs from v, as in Mendix); `lt`/`gt`/... with an empty side are false;
 * - strings (and ids, owners, associations) compare as text in byte order (COLLATE "C"), numbers
 *   as numeric, booleans as boolean, datetimes as instants (timestamptz);
 * - contains / startsWith are case-insensitive and false for non-string members.
 *
 * Values must fit the member's type (a number for a decimal, an ISO date and time for a datetime);
 * string members accept numbers and booleans compared as their text, as matchConstraint does.
 * Throws a ValidationError naming the bad part (`constraint.and[1].value`).
 *
 * @example
 * const p = new SqlParams();
 * const where = constraintSql(schema, 'Task', { attribute: 'done', op: 'eq', value: false }, 'alice', p);
 * // where === "coalesce((o.data->>'done')::boolean = $1::text::boolean, false)", p.values === ['false']
 */
export function constraintSql(
  schema: Schema,
  entity: string,
  constraint: unknown,
  currentUser: string,
  p: SqlParams,
  options: { alias?: string; path?: string } = {},
): string {
  const path = options.path ?? 'constraint';
  const alias = options.alias ?? 'o';
  const valid = validateConstraint(schema, entity, constraint, path);
  const def = entityOf(schema, entity);
  const problems: Problem[] = [];

  const walk = (c: Constraint, at: string): string => {
    if ('and' in c) return `(${c.and.map((x, i) => walk(x, `${at}.and[${i}]`)).join(' AND ')})`;
    if ('or' in c) return `(${c.or.map((x, i) => walk(x, `${at}.or[${i}]`)).join(' OR ')})`;
    if ('not' in c) return `(NOT ${walk(c.not, `${at}.not`)})`;
    return comparison(c, memberOf(def, c.attribute, alias), at);
  };

  /** Whether a value fits the member's type; records a problem when it does not. */
  const fits = (value: unknown, kind: Kind, at: string): boolean => {
    const problem =
      kind === 'numeric' && !(typeof value === 'number' && Number.isFinite(value)) ? 'must be a number'
      : kind === 'boolean' && typeof value !== 'boolean' ? 'must be true or false'
      : kind === 'timestamptz' && !isIsoDateTime(value) ? 'must be an ISO 8601 date and time with a zone'
      : null;
    if (problem) problems.push({ path: at, message: problem });
    return !problem;
  };

  /** A (fitting) value as a typed SQL parameter; passed as text, cast by SQL. */
  const param = (value: unknown, kind: Kind): string =>
    kind === 'text' ? `${p.add(String(value))}::text` : `${p.add(String(value))}::text::${kind}`;

  const comparison = (c: Comparison, m: Member, at: string): string => {
    const resolve = (v: unknown) => (v === CURRENT_USER ? currentUser : v);
    const expr = m.kind === 'text' ? `(${m.expr}) COLLATE "C"` : `(${m.expr})`;
    switch (c.op) {
      case 'in': {
        const values = (c.value as unknown[]).map(resolve).filter((v) => v !== null);
        const ok = values.map((v, i) => fits(v, m.kind, `${at}.value[${i}]`)).every(Boolean);
        if (!ok || !values.length) return 'FALSE';
        const list = p.array(values.map((v) => (m.kind === 'text' ? String(v) : v)), m.kind);
        return `coalesce(${expr} = ANY(${list}), false)`;
      }
      case 'contains':
      case 'startsWith': {
        if (m.text === null) return 'FALSE';
        const v = `lower(${p.add(String(c.value))}::text)`;
        return c.op === 'contains'
          ? `coalesce(strpos(lower(${m.text}), ${v}) > 0, false)`
          : `coalesce(starts_with(lower(${m.text}), ${v}), false)`;
      }
      default: {
        const value = resolve(c.value);
        if (value === null) {
          return c.op === 'eq' ? `(${expr} IS NULL)` : c.op === 'ne' ? `(${expr} IS NOT NULL)` : 'FALSE';
        }
        if (!fits(value, m.kind, `${at}.value`)) return 'FALSE';
        const v = param(value, m.kind);
        if (c.op === 'ne') return `(${expr} IS DISTINCT FROM ${v})`;
        const op = { eq: '=', lt: '<', lte: '<=', gt: '>', gte: '>=' }[c.op];
        return `coalesce(${expr} ${op} ${v}, false)`;
      }
    }
  };

  const sql = walk(valid, path);
  if (problems.length) throw new ValidationError(problems);
  return sql;
}

/** How a member (system attribute, attribute or association) reads in SQL. */
function memberOf(def: EntityDef, name: string, alias: string): Member {
  switch (name) {
    case 'id':
      return { kind: 'text', expr: `${alias}.id::text`, text: `${alias}.id::text` };
    case 'owner':
      return { kind: 'text', expr: `${alias}.owner`, text: `${alias}.owner` };
    case 'createdDate':
    case 'changedDate': {
      const column = `${alias}.${name === 'createdDate' ? 'created_date' : 'changed_date'}`;
      return { kind: 'timestamptz', expr: column, text: wireDateSql(column) };
    }
  }
  const raw = `${alias}.data->>${sqlLiteral(name)}`;
  if (Object.hasOwn(def.associations, name)) return { kind: 'text', expr: raw, text: raw };
  switch (def.attributes[name].type) {
    case 'integer':
    case 'decimal':
      return { kind: 'numeric', expr: `(${raw})::numeric`, text: null };
    case 'boolean':
      return { kind: 'boolean', expr: `(${raw})::boolean`, text: null };
    case 'datetime':
      // Stored as ISO text (a string in JavaScript too): contains/startsWith see that text.
      return { kind: 'timestamptz', expr: `(${raw})::timestamptz`, text: raw };
    default:
      return { kind: 'text', expr: raw, text: raw };
  }
}
