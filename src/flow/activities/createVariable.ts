import { describeType, isAssignable } from '../expressions/types.ts';
import { fromDataType } from '../expressions/types.ts';
import { emptyValueOf } from '../runtimeValues.ts';
import { activityKind } from './ActivityKind.ts';

/** Create variable: a new variable of a declared type, with an initial value (empty or an empty list if none). */
export const createVariable = activityKind({
  type: 'createVariable',
  declares: (a) => [{ name: a.variable, type: fromDataType(a.variableType), field: 'activity.variable' }],
  check(a, c) {
    const type = c.dataType('activity.variableType', a.variableType);
    if (a.value === undefined) return;
    const t = c.expression('activity.value', a.value);
    if (!isAssignable(type, t)) c.problem('activity.value', `$${a.variable} is ${describeType(type)}: the value is ${describeType(t)}`);
  },
  async run(a, r) {
    r.set(a.variable, a.value === undefined ? emptyValueOf(fromDataType(a.variableType)) : await r.evaluate(a.value));
  },
});
