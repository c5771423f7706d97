import { newId } from '../../src/model/values.ts';
import type { SynchronizationFailure } from '../../src/transport/wire.ts';

/**
 * A SynchronizationFailure as a server records it: alice's update of a Task deleted on the
 * server. `values` sets what a test is about (ids, reason, message, dates, data).
 */
export function failureFixture(values: Partial<SynchronizationFailure> = {}): SynchronizationFailure {
  return {
    id: newId(),
    user: 'alice',
    device: 'd1',
    entity: 'Task',
    objectId: newId(),
    changeId: newId(),
    kind: 'update',
    data: { title: 'Lost' },
    reason: 'deleted',
    message: 'The object was deleted on the server',
    status: 'open',
    createdDate: new Date().toISOString(),
    ...values,
  };
}
