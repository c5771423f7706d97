import { describeType, isAssignable } from '../expressions/types.ts';
import { activityKind } from './ActivityKind.ts';

/** Change variable: assigns a new value (of the variable's type) to an existing variable. */
export const changeVariable = activityKind({
  type: 'changeVariable',
  check(a, c) {
    const type = c.variable('activity.variable', a.variable);
    const t = c.expression('activity.value', a.value);
    if (type && !isAssignable(type, t)) c.problem('activity.value', `$${a.variable} is ${describeType(type)}: the value is ${describeType(t)}`);
  },
  async run(a, r) {
    r.set(a.variable, await r.evaluate(a.value));
  },
});
