import { Types } from '../expressions/types.ts';
import { activityKind } from './ActivityKind.ts';
import { runtimeError } from './shared.ts';
import { refreshHeldObjects } from './synchronize.ts';

/**
 * Clean resync ghosts: removes the local objects of a named sync down that the server no
 * longer has or that no longer match it (never a locally modified one). Variables holding a
 * removed object become empty. The output (optional) is how many objects were removed.
 * Observers hear the sync manager's states (`syncState` events), as for Synchronize.
 */
export const cleanResyncGhosts = activityKind({
  type: 'cleanResyncGhosts',
  declares: (a) => (a.outputVariable ? [{ name: a.outputVariable, type: Types.integer, field: 'activity.outputVariable' }] : []),
  check() {},
  async run(a, r) {
    if (!r.host.cleanResyncGhosts) throw runtimeError('this app has no named syncs');
    const removed = await r.host.cleanResyncGhosts(a.sync, (status) => r.emit({ type: 'syncState', nodeId: r.nodeId, status }));
    await refreshHeldObjects(r);
    if (a.outputVariable) r.set(a.outputVariable, removed);
  },
});
