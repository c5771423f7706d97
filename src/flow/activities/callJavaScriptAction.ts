import { SyncflowError } from '../../errors.ts';
import { fromDataType, Types } from '../expressions/types.ts';
import { isEntityObject } from '../runtimeValues.ts';
import { activityKind } from './ActivityKind.ts';
import { runtimeError } from './shared.ts';

/**
 * Call JavaScript action: awaits an action the app registered (`host.actions[name]`) with the
 * evaluated arguments. A thrown error becomes a `flow_runtime` error (a SyncflowError keeps its
 * code), which the activity's error handling can catch. The result is checked against
 * `returnType` when one is declared.
 */
export const callJavaScriptAction = activityKind({
  type: 'callJavaScriptAction',
  declares: (a) =>
    a.outputVariable
      ? [{ name: a.outputVariable, type: a.returnType ? fromDataType(a.returnType) : Types.unknown, field: 'activity.outputVariable' }]
      : [],
  check(a, c) {
    if (a.returnType) c.dataType('activity.returnType', a.returnType);
    for (const [name, src] of Object.entries(a.arguments ?? {})) c.expression(`activity.arguments.${name}`, src);
  },
  async run(a, r) {
    const action = r.host.actions && Object.hasOwn(r.host.actions, a.action) ? r.host.actions[a.action] : undefined;
    if (!action) throw runtimeError(`no JavaScript action "${a.action}" is registered`);
    const args: Record<string, unknown> = {};
    for (const [name, src] of Object.entries(a.arguments ?? {})) args[name] = await r.evaluate(src);
    let result: unknown;
    try {
      result = await action(args, { signal: r.signal, flow: r.flow });
    } catch (e) {
      if (e instanceof SyncflowError) throw e;
      throw new SyncflowError('flow_runtime', `JavaScript action "${a.action}" failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (!a.outputVariable) return;
    // Objects an action returns may be versions the session has moved past.
    r.set(a.outputVariable, isEntityObject(result) ? r.current(result) : result);
  },
});
