import { FAILURE_ENTITY } from '../expressions/types.ts';
import { activityKind } from './ActivityKind.ts';
import { checkFailureVariable, requireObject, runtimeError } from './shared.ts';

/** Dismiss synchronization failure: gives the failed change up, on the server and on this device. */
export const dismissSynchronizationFailure = activityKind({
  type: 'dismissSynchronizationFailure',
  check(a, c) {
    checkFailureVariable(c, a.variable, 'activity.variable');
  },
  async run(a, r) {
    const failure = requireObject(r, a.variable);
    if (failure.$entity !== FAILURE_ENTITY) throw runtimeError(`$${a.variable} is not a SynchronizationFailure`);
    if (!r.host.dismissFailure) throw runtimeError('this app cannot dismiss SynchronizationFailures');
    await r.host.dismissFailure(failure.id);
    r.removeObjects([failure.id]);
  },
});
