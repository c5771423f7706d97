import { FAILURE_ENTITY, Types } from '../expressions/types.ts';
import { isRecord } from '../runtimeValues.ts';
import { activityKind } from './ActivityKind.ts';
import { checkFailureVariable, requireObject, runtimeError } from './shared.ts';

/**
 * Retry synchronization failure: asks the server to apply the failed change again. The output
 * (optional) is true when the server applied it, false when it failed again (the failure then
 * stays, with the server's new message). A network error fails the activity.
 */
export const retrySynchronizationFailure = activityKind({
  type: 'retrySynchronizationFailure',
  declares: (a) => (a.outputVariable ? [{ name: a.outputVariable, type: Types.boolean, field: 'activity.outputVariable' }] : []),
  check(a, c) {
    checkFailureVariable(c, a.variable, 'activity.variable');
  },
  async run(a, r) {
    const failure = requireObject(r, a.variable);
    if (failure.$entity !== FAILURE_ENTITY) throw runtimeError(`$${a.variable} is not a SynchronizationFailure`);
    if (!r.host.retryFailure) throw runtimeError('this app cannot retry SynchronizationFailures');
    const result = await r.host.retryFailure(failure.id);
    const applied = isRecord(result) && typeof result.status === 'string' ? result.status === 'applied' : true;
    if (a.outputVariable) r.set(a.outputVariable, applied);
  },
});
