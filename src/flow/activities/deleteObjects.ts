import { activityKind } from './ActivityKind.ts';
import { checkObjectVariables, objectsOf } from './shared.ts';

/**
 * Delete: removes the objects (and lists) from the offline database at once (a committed
 * change: the next Synchronize of all / unsynchronized objects uploads the deletion). The
 * variables holding them become empty and lists lose them.
 */
export const deleteObjects = activityKind({
  type: 'delete',
  check(a, c) {
    checkObjectVariables(c, a.variables, 'activity.variables');
  },
  async run(a, r) {
    const objects = objectsOf(r, a.variables).map((o) => r.current(o));
    if (objects.length === 0) return;
    await r.session.delete(objects);
    r.removeObjects(objects.map((o) => o.id));
  },
});
