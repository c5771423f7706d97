import { fromDataType, isBuiltinEntity, Types, type StaticType } from '../expressions/types.ts';
import type { DataType } from '../format.ts';
import type { CheckState } from './CheckState.ts';

/** Whether `name` is an entity of the schema (or, with `builtin`, a built-in one such as the error entity); reports it if not. */
export function checkEntity(s: CheckState, path: string, name: string, nodeId?: string, builtin = false): boolean {
  if (Object.hasOwn(s.options.schema.entities, name)) return true;
  if (builtin && isBuiltinEntity(name)) return true;
  const known = Object.keys(s.options.schema.entities).join(', ');
  s.add(path, isBuiltinEntity(name) ? `${name} is built in: it cannot be used here` : `unknown entity "${name}" (the schema has ${known})`, nodeId);
  return false;
}

/** A parameter, variable or return type, as a static type; unknown when it names an entity that does not exist. */
export function checkDataType(s: CheckState, path: string, type: DataType, nodeId?: string): StaticType {
  if (type.type === 'object' || type.type === 'list') {
    if (!checkEntity(s, `${path}.entity`, type.entity, nodeId, true)) return Types.unknown;
  }
  return fromDataType(type);
}

/** Parameter and return types name entities that exist. */
export function checkHeaderTypes(s: CheckState): void {
  for (const p of s.parameters) checkDataType(s, `parameters[${p.index}].type`, p.type);
  if (s.returnTypeData && s.returnTypeData.type !== 'nothing') checkDataType(s, 'returnType', s.returnTypeData);
}
