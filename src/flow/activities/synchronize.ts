import type { LocalObject } from '../../store/types.ts';
import type { SyncRequest } from '../../sync/types.ts';
import { activityKind, type ActivityRuntime } from './ActivityKind.ts';
import { checkObjectVariables, objectsOf } from './shared.ts';

/**
 * Synchronize: runs the host's sync machine for the mode (all, unsynchronized, or the selected
 * objects and lists) and reports its state to observers while it runs. Afterwards every
 * variable holds the synchronized version of its object; an object the sync removed from the
 * offline database (e.g. deleted on the server) leaves its variables empty and its lists.
 * A SimultaneousSyncError, NetworkError or ServerError fails the activity: error handling applies.
 */
export const synchronize = activityKind({
  type: 'synchronize',
  check(a, c) {
    if (a.mode === 'selected') {
      if (!a.variables?.length) c.problem('activity.variables', 'mode selected needs the variables to synchronize');
      else checkObjectVariables(c, a.variables, 'activity.variables');
    } else if (a.variables?.length) {
      c.problem('activity.variables', `mode ${a.mode} synchronizes no selected variables: leave them out`);
    }
  },
  async run(a, r) {
    const request: SyncRequest =
      a.mode === 'selected'
        ? {
            mode: 'selected',
            objects: objectsOf(r, a.variables ?? []).map((o) => r.current(o)),
            // The machine skips what this flow holds uncommitted.
            session: r.session,
          }
        : { mode: a.mode };
    const result = await r.host.synchronize(request, (status) => r.emit({ type: 'syncState', nodeId: r.nodeId, status }));
    r.removeObjects(result.removedIds ?? []);
    await refreshHeldObjects(r);
  },
});

/** Re-reads every committed object the run holds from the offline database; gone ones leave their variables. */
export async function refreshHeldObjects(r: ActivityRuntime): Promise<void> {
  const byEntity = new Map<string, Set<string>>();
  for (const o of r.heldObjects()) {
    if (r.session.isUncommitted(o)) continue;
    byEntity.set(o.$entity, (byEntity.get(o.$entity) ?? new Set()).add(o.id));
  }
  const fresh: LocalObject[] = [];
  const gone: string[] = [];
  for (const [entity, idSet] of byEntity) {
    const ids = [...idSet];
    const stored = await r.host.store.getMany(entity, ids);
    stored.forEach((o, i) => (o ? fresh.push(o) : gone.push(ids[i])));
  }
  r.replaceObjects(fresh);
  r.removeObjects(gone);
}
