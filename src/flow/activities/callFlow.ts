import { describeType, fromDataType, isAssignable, Types } from '../expressions/types.ts';
import { activityKind } from './ActivityKind.ts';

/**
 * Call flow: runs another flow with parameters and keeps its return value. The sub-flow shares
 * this flow's session (its uncommitted work) and observers; an error it does not handle fails
 * this activity, whose error handling decides.
 */
export const callFlow = activityKind({
  type: 'callFlow',
  declares(a, c) {
    if (!a.outputVariable) return [];
    const sub = c.resolveFlow(a.flow);
    return [{ name: a.outputVariable, type: sub?.returnType ? fromDataType(sub.returnType) : Types.unknown, field: 'activity.outputVariable' }];
  },
  check(a, c) {
    const sub = c.resolveFlow(a.flow);
    if (!sub) {
      if (c.flowExists(a.flow) === false) c.problem('activity.flow', `unknown flow "${a.flow}"`);
      for (const [name, src] of Object.entries(a.parameters ?? {})) c.expression(`activity.parameters.${name}`, src);
      return;
    }
    const params = new Map((sub.parameters ?? []).map((p) => [p.name, fromDataType(p.type)]));
    for (const [name, src] of Object.entries(a.parameters ?? {})) {
      const t = c.expression(`activity.parameters.${name}`, src);
      const expected = params.get(name);
      if (!expected) c.problem(`activity.parameters.${name}`, `flow "${a.flow}" has no parameter "${name}"`);
      else if (!isAssignable(expected, t)) {
        c.problem(`activity.parameters.${name}`, `parameter "${name}" is ${describeType(expected)}: the value is ${describeType(t)}`);
      }
    }
    for (const name of params.keys()) {
      if (!Object.hasOwn(a.parameters ?? {}, name)) c.problem('activity.parameters', `parameter "${name}" of flow "${a.flow}" is not given`);
    }
    if (a.outputVariable && (sub.returnType ?? { type: 'nothing' }).type === 'nothing') {
      c.problem('activity.outputVariable', `flow "${a.flow}" returns nothing`);
    }
  },
  async run(a, r) {
    const params: Record<string, unknown> = {};
    for (const [name, src] of Object.entries(a.parameters ?? {})) params[name] = await r.evaluate(src);
    const result = await r.callFlow(a.flow, params);
    if (a.outputVariable) r.set(a.outputVariable, result);
  },
});
