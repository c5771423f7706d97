import type { Constraint } from '../../model/constraint.ts';
import { describeType, isAssignable, isBuiltinEntity, isOrdered, memberNamesOf, memberOf, Types, type StaticType } from '../expressions/types.ts';
import type { ActivityOf, FlowConstraint } from '../format.ts';
import { isEntityObject } from '../runtimeValues.ts';
import { activityKind, type ActivityRuntime, type CheckContext, type DeclareContext } from './ActivityKind.ts';
import { requireObject, runtimeError } from './shared.ts';

type Retrieve = ActivityOf<'retrieve'>;

/**
 * Retrieve: objects from the offline database by entity and constraint (with sort, first,
 * limit and offset), or over an association: `project` follows the variable's reference (one
 * object), `Task/project` lists the Tasks referring to the variable's object. Objects the
 * session holds changed are returned in their uncommitted version.
 */
export const retrieve = activityKind({
  type: 'retrieve',
  declares: (a, c) => [{ name: a.outputVariable, type: outputType(a, c), field: 'activity.outputVariable' }],
  check(a, c) {
    const s = a.source;
    if (s.from === 'database') {
      if (!c.entity('activity.source.entity', s.entity)) return;
      if (s.where) checkWhere(c, s.entity, s.where, 'activity.source.where');
      s.sort?.forEach((k, i) => {
        if (!memberOf(c.schema, s.entity, k.attribute)) {
          c.problem(`activity.source.sort[${i}].attribute`, `${s.entity} has no member "${k.attribute}"`);
        }
      });
      if (s.first && s.limit !== undefined) c.problem('activity.source.limit', '"first" retrieves one object: leave limit out');
      for (const k of ['limit', 'offset'] as const) {
        const v = s[k];
        if (typeof v === 'string') c.expression(`activity.source.${k}`, v, { expected: Types.integer });
      }
      return;
    }
    const t = c.variable('activity.source.variable', s.variable);
    if (!t || t.kind === 'unknown') return;
    if (t.kind !== 'object' || isBuiltinEntity(t.entity)) {
      c.problem('activity.source.variable', `$${s.variable} is ${describeType(t)}: an object is expected`);
      return;
    }
    const reverse = parseReverse(s.association);
    if (reverse) {
      const def = Object.hasOwn(c.schema.entities, reverse.entity) ? c.schema.entities[reverse.entity] : undefined;
      const assoc = def && Object.hasOwn(def.associations, reverse.association) ? def.associations[reverse.association] : undefined;
      if (!assoc) c.problem('activity.source.association', `${reverse.entity} has no association "${reverse.association}"`);
      else if (assoc.target !== t.entity) {
        c.problem('activity.source.association', `${reverse.entity}/${reverse.association} refers to ${assoc.target}, not ${t.entity}`);
      }
      return;
    }
    const info = memberOf(c.schema, t.entity, s.association);
    if (!info?.association) {
      const names = Object.keys(c.schema.entities[t.entity]?.associations ?? {});
      c.problem('activity.source.association', `${t.entity} has no association "${s.association}" (it has ${names.join(', ') || 'none'})`);
    }
  },
  async run(a, r) {
    const s = a.source;
    if (s.from === 'database') {
      const limit = s.first ? 1 : await count(r, s.limit, 'limit');
      const offset = await count(r, s.offset, 'offset');
      const where = s.where ? await buildConstraint(r, s.where) : undefined;
      const found = await r.host.store.query(s.entity, {
        where,
        sort: s.sort?.map((k) => [k.attribute, k.direction ?? 'asc'] as [string, 'asc' | 'desc']),
        limit,
        offset,
        currentUser: r.host.currentUser ?? null,
      });
      const objects = found.map((o) => r.current(o));
      r.set(a.outputVariable, s.first ? (objects[0] ?? null) : objects);
      return;
    }
    const object = r.current(requireObject(r, s.variable));
    const reverse = parseReverse(s.association);
    if (reverse) {
      const found = await r.host.store.referrers(reverse.entity, reverse.association, object.id);
      r.set(a.outputVariable, found.map((o) => r.current(o)));
      return;
    }
    const target = r.schema.entities[object.$entity]?.associations[s.association]?.target;
    if (!target) throw runtimeError(`${object.$entity} has no association "${s.association}"`);
    const id = object[s.association];
    r.set(a.outputVariable, typeof id === 'string' ? await r.resolve(target, id) : null);
  },
});

function parseReverse(association: string): { entity: string; association: string } | undefined {
  const i = association.indexOf('/');
  return i > 0 ? { entity: association.slice(0, i), association: association.slice(i + 1) } : undefined;
}

function outputType(a: Retrieve, c: DeclareContext): StaticType {
  const s = a.source;
  if (s.from === 'database') return s.first ? { kind: 'object', entity: s.entity } : { kind: 'list', entity: s.entity };
  const reverse = parseReverse(s.association);
  if (reverse) return { kind: 'list', entity: reverse.entity };
  const t = c.typeOf(s.variable);
  const info = t?.kind === 'object' ? memberOf(c.schema, t.entity, s.association) : undefined;
  return info?.association ? info.type : Types.unknown;
}

function checkWhere(c: CheckContext, entity: string, w: FlowConstraint, field: string): void {
  if ('and' in w) return w.and.forEach((x, i) => checkWhere(c, entity, x, `${field}.and[${i}]`));
  if ('or' in w) return w.or.forEach((x, i) => checkWhere(c, entity, x, `${field}.or[${i}]`));
  if ('not' in w) return checkWhere(c, entity, w.not, `${field}.not`);
  const info = memberOf(c.schema, entity, w.attribute);
  if (!info) c.problem(`${field}.attribute`, `${entity} has no member "${w.attribute}" (it has ${memberNamesOf(c.schema, entity).join(', ')})`);
  const attr = info?.type ?? Types.unknown;
  const isText = attr.kind === 'string' || attr.kind === 'enum';
  if ((w.op === 'contains' || w.op === 'startsWith') && info && !isText) {
    c.problem(`${field}.op`, `"${w.op}" needs a string attribute; ${entity}/${w.attribute} is ${describeType(attr)}`);
  }
  if (['lt', 'lte', 'gt', 'gte'].includes(w.op) && info && !info.association && !isOrdered(attr, attr)) {
    c.problem(`${field}.op`, `"${w.op}" cannot order ${describeType(attr)}`);
  }
  const sources = Array.isArray(w.value) ? w.value : [w.value];
  if (w.op === 'in' && !Array.isArray(w.value)) c.problem(`${field}.value`, '"in" needs a list of expressions');
  if (w.op !== 'in' && Array.isArray(w.value)) c.problem(`${field}.value`, `"${w.op}" needs one expression, not a list`);
  sources.forEach((src, i) => {
    const at = Array.isArray(w.value) ? `${field}.value[${i}]` : `${field}.value`;
    const t = c.expression(at, src);
    if (!info) return;
    const expected = w.op === 'contains' || w.op === 'startsWith' ? Types.string : attr;
    const fits = isAssignable(expected, t) || (info.association !== undefined && t.kind === 'string');
    if (!fits) c.problem(at, `${entity}/${w.attribute} is ${describeType(attr)}: the value is ${describeType(t)}`);
  });
}

/** Evaluates a flow constraint's expressions into the model's Constraint (objects become ids). */
async function buildConstraint(r: ActivityRuntime, w: FlowConstraint): Promise<Constraint> {
  if ('and' in w) return { and: await Promise.all(w.and.map((x) => buildConstraint(r, x))) };
  if ('or' in w) return { or: await Promise.all(w.or.map((x) => buildConstraint(r, x))) };
  if ('not' in w) return { not: await buildConstraint(r, w.not) };
  const value = async (src: string) => {
    const v = await r.evaluate(src);
    return isEntityObject(v) ? v.id : v;
  };
  return {
    attribute: w.attribute,
    op: w.op,
    value: Array.isArray(w.value) ? await Promise.all(w.value.map(value)) : await value(w.value),
  };
}

async function count(r: ActivityRuntime, v: number | string | undefined, what: string): Promise<number | undefined> {
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : await r.evaluate(v);
  if (n === null) return undefined;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw runtimeError(`${what} must be a whole number >= 0, not ${JSON.stringify(n)}`);
  return n;
}
