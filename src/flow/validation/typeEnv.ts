import type { TypeEnv } from '../expressions/typecheck.ts';
import { Types, type StaticType } from '../expressions/types.ts';
import type { CheckState } from './CheckState.ts';
import { typeOf } from './declareVariables.ts';
import { LATEST_ERROR, latestErrorType } from './latestError.ts';

/** The variables an expression of node `id` may read: declared, and defined on every path to the node. `extra` adds local ones. */
export function typeEnv(s: CheckState, id: string, extra: Record<string, StaticType> = {}): TypeEnv {
  const defined = s.definedAt.get(id);
  return {
    schema: s.options.schema,
    variable: (name) => {
      if (Object.hasOwn(extra, name)) return extra[name];
      if (name === LATEST_ERROR) return latestErrorType(defined);
      if (name === 'currentObject') return { error: '$currentObject exists only in the condition of a list filter or find' };
      if (!s.declarations.has(name)) return { error: `unknown variable $${name}` };
      if (defined && !defined.has(name)) return { error: `$${name} is not defined on every path to this node` };
      return typeOf(s, name) ?? Types.unknown;
    },
  };
}
