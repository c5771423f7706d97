/** Helpers shared by several activity kinds. */
import { SyncflowError } from '../../errors.ts';
import { SYSTEM_ATTRIBUTES } from '../../model/schema.ts';
import { validateValues, type Values } from '../../model/values.ts';
import type { LocalObject } from '../../store/types.ts';
import { describeType, FAILURE_ENTITY, isAssignable, isBuiltinEntity, memberNamesOf, memberOf, Types, type StaticType } from '../expressions/types.ts';
import { isEntityObject, objectsIn } from '../runtimeValues.ts';
import type { ActivityRuntime, CheckContext } from './ActivityKind.ts';

export const runtimeError = (message: string) => new SyncflowError('flow_runtime', message);

/** Checks `values` (member -> expression) against an entity: members exist, are writable, types fit. */
export function checkMemberValues(c: CheckContext, entity: string | undefined, values: Record<string, string> | undefined, field: string): void {
  for (const [member, source] of Object.entries(values ?? {})) {
    const at = `${field}.${member}`;
    if (!entity) {
      c.expression(at, source);
      continue;
    }
    const info = memberOf(c.schema, entity, member);
    if (!info) c.problem(at, `${entity} has no member "${member}" (it has ${memberNamesOf(c.schema, entity).join(', ')})`);
    else if ((SYSTEM_ATTRIBUTES as readonly string[]).includes(member)) c.problem(at, `"${member}" is a system attribute: flows cannot set it`);
    const type = c.expression(at, source);
    if (!info) continue;
    const fits = info.association
      ? isAssignable(info.type, type) || type.kind === 'string'
      : isAssignable(info.type, type);
    if (!fits) c.problem(at, `${entity}/${member} is ${describeType(info.type)}: the expression gives ${describeType(type)}`);
  }
}

/** Evaluates member values for a create / change: objects become their ids (associations). */
export async function evaluateMemberValues(r: ActivityRuntime, entity: string, values: Record<string, string> | undefined): Promise<Values> {
  const out: Values = {};
  for (const [member, source] of Object.entries(values ?? {})) {
    const v = await r.evaluate(source);
    out[member] = isEntityObject(v) ? v.id : v;
  }
  // Checked here too, so a wrong value fails at the activity that set it, naming the member.
  return validateValues(r.schema, entity, out, { partial: true, path: entity });
}

/** The entity of an object variable, when known. */
export function objectEntity(type: StaticType | undefined): string | undefined {
  return type?.kind === 'object' ? type.entity : undefined;
}

/** Checks variables that must hold store objects or lists of them (commit, rollback, delete, synchronize). */
export function checkObjectVariables(c: CheckContext, names: readonly string[], field: string): void {
  names.forEach((name, i) => {
    const t = c.variable(`${field}[${i}]`, name);
    if (!t || t.kind === 'unknown') return;
    if ((t.kind !== 'object' && t.kind !== 'list') || isBuiltinEntity(t.entity)) {
      c.problem(`${field}[${i}]`, `$${name} is ${describeType(t)}: an object or a list of objects of the schema is expected`);
    }
  });
}

/** The objects held by variables (objects and lists), without empties. */
export function objectsOf(r: ActivityRuntime, names: readonly string[]): LocalObject[] {
  return names.flatMap((n) => objectsIn(r.get(n))).filter((o) => Object.hasOwn(r.schema.entities, o.$entity));
}

/** The object in a variable, or a `flow_runtime` error when it is empty. */
export function requireObject(r: ActivityRuntime, name: string): LocalObject {
  const v = r.get(name);
  if (v === null || v === undefined) throw runtimeError(`$${name} is empty`);
  if (!isEntityObject(v)) throw runtimeError(`$${name} is not an object`);
  return v;
}

/** The list in a variable ([] when empty). */
export function requireList(r: ActivityRuntime, name: string): LocalObject[] {
  const v = r.get(name);
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw runtimeError(`$${name} is not a list`);
  return v as LocalObject[];
}

/** Checks a variable that must be a list; returns its entity when known. */
export function checkListVariable(c: CheckContext, name: string, field: string): { entity?: string; type?: StaticType } {
  const t = c.variable(field, name);
  if (!t || t.kind === 'unknown') return {};
  if (t.kind !== 'list') {
    c.problem(field, `$${name} is ${describeType(t)}: a list is expected`);
    return {};
  }
  return { entity: t.entity, type: t };
}

/** The type of an entity's member, reporting unknown members. */
export function checkMember(c: CheckContext, entity: string | undefined, member: string, field: string): StaticType {
  if (!entity) return Types.unknown;
  const info = memberOf(c.schema, entity, member);
  if (!info) {
    c.problem(field, `${entity} has no member "${member}" (it has ${memberNamesOf(c.schema, entity).join(', ')})`);
    return Types.unknown;
  }
  return info.association ? Types.string : info.type;
}

/** Messages are text: objects and lists have no text of their own. */
export function printable(c: CheckContext, field: string, t: StaticType): void {
  if (t.kind === 'object' || t.kind === 'list') c.problem(field, `a message is text, not ${describeType(t)} (use toString or read an attribute)`);
}

/** Checks a variable that must hold a System.SynchronizationFailure. */
export function checkFailureVariable(c: CheckContext, name: string, field: string): void {
  const t = c.variable(field, name);
  if (t && t.kind !== 'unknown' && !(t.kind === 'object' && t.entity === FAILURE_ENTITY)) {
    c.problem(field, `$${name} is ${describeType(t)}: a ${FAILURE_ENTITY} is expected`);
  }
}
