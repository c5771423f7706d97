import { FAILURE_ENTITY } from '../expressions/types.ts';
import { activityKind } from './ActivityKind.ts';
import { runtimeError } from './shared.ts';

/**
 * List synchronization failures: the changes the server could not apply, kept on this device,
 * as a list of System.SynchronizationFailure (id, entity, objectId, kind, reason, message,
 * status, createdDate).
 */
export const listSynchronizationFailures = activityKind({
  type: 'listSynchronizationFailures',
  declares: (a) => [{ name: a.outputVariable, type: { kind: 'list', entity: FAILURE_ENTITY }, field: 'activity.outputVariable' }],
  check() {},
  async run(a, r) {
    if (!r.host.listFailures) throw runtimeError('this app provides no SynchronizationFailure list');
    const failures = await r.host.listFailures();
    // Tagged with their (built-in) entity, so they are objects to the flow like any other.
    r.set(a.outputVariable, failures.map((f) => ({ ...f, $entity: FAILURE_ENTITY })));
  },
});
