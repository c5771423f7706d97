import type { CheckContext } from '../activities/ActivityKind.ts';
import type { CheckState } from './CheckState.ts';
import { checkDataType, checkEntity } from './checkDataType.ts';
import { checkExpression } from './checkExpression.ts';
import { declareContext } from './declareVariables.ts';
import { typeEnv } from './typeEnv.ts';

/** What an activity kind's `check` uses to check its fields: each problem is reported at node `id`. */
export function checkContext(s: CheckState, id: string): CheckContext {
  return {
    ...declareContext(s),
    problem: (field, message) => s.nodeProblem(id, field, message),
    expression: (field, source, options) => checkExpression(s, id, field, source, options),
    variable: (field, name) => {
      const t = typeEnv(s, id).variable(name);
      if ('error' in t) {
        s.nodeProblem(id, field, t.error);
        return undefined;
      }
      return t;
    },
    entity: (field, name, options) => checkEntity(s, field && s.at(id, field), name, id, options?.builtin),
    dataType: (field, type) => checkDataType(s, s.at(id, field), type, id),
  };
}
