import { SyncflowError, SyncStoppedError } from '../../errors.ts';
import { Types } from '../expressions/types.ts';
import { activityKind } from './ActivityKind.ts';
import { runtimeError } from './shared.ts';
import { refreshHeldObjects } from './synchronize.ts';

/**
 * reSync: runs a named sync (defined by the app) incrementally. A run that failed or was
 * stopped fails the activity with its typed error, so error handling applies. Afterwards the
 * run's variables hold the synchronized versions of their objects. The output (optional) is
 * how many records the run transferred. Observers hear the sync manager's states and the
 * run's progress (`syncState` events), as for Synchronize.
 */
export const reSync = activityKind({
  type: 'reSync',
  declares: (a) => (a.outputVariable ? [{ name: a.outputVariable, type: Types.integer, field: 'activity.outputVariable' }] : []),
  check() {},
  async run(a, r) {
    if (!r.host.reSync) throw runtimeError('this app has no named syncs');
    const state = await r.host.reSync(a.sync, (status) => r.emit({ type: 'syncState', nodeId: r.nodeId, status }));
    if (state.status === 'failed') {
      throw new SyncflowError(state.error?.code ?? 'internal', state.error?.message ?? `the sync "${a.sync}" failed`);
    }
    if (state.status === 'stopped') throw new SyncStoppedError(`The sync "${a.sync}"`);
    await refreshHeldObjects(r);
    if (a.outputVariable) r.set(a.outputVariable, state.totalSize ?? 0);
  },
});
