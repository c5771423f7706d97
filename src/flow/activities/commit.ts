import { activityKind } from './ActivityKind.ts';
import { checkObjectVariables, objectsOf } from './shared.ts';

/**
 * Commit: writes the objects (and lists) to the offline database in one transaction; the store
 * validates them and marks them created or changed, so a later Synchronize uploads them.
 */
export const commit = activityKind({
  type: 'commit',
  check(a, c) {
    checkObjectVariables(c, a.variables, 'activity.variables');
  },
  async run(a, r) {
    const objects = objectsOf(r, a.variables).map((o) => r.current(o));
    if (objects.length === 0) return;
    await r.session.commit(objects);
    r.replaceObjects(objects.map((o) => r.current(o)));
  },
});
