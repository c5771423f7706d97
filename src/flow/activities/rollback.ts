import type { LocalObject } from '../../store/types.ts';
import { activityKind, type ActivityRuntime } from './ActivityKind.ts';
import { checkObjectVariables, objectsOf } from './shared.ts';

/**
 * Rollback: reverts the uncommitted changes of the objects (and lists). A changed object goes
 * back to its committed version; a new, never committed object is gone, so the variables
 * holding it become empty.
 */
export const rollback = activityKind({
  type: 'rollback',
  check(a, c) {
    checkObjectVariables(c, a.variables, 'activity.variables');
  },
  async run(a, r) {
    const objects = objectsOf(r, a.variables);
    if (objects.length) await rollbackObjects(r, objects);
  },
});

/** Rolls objects back in the session and re-points the run's variables (also used by customWithRollback). */
export async function rollbackObjects(r: Pick<ActivityRuntime, 'session' | 'host' | 'replaceObjects' | 'removeObjects'>, objects: readonly LocalObject[]): Promise<void> {
  const held = objects.filter((o) => r.session.isUncommitted(o));
  if (held.length === 0) return;
  await r.session.rollback(held.map((o) => r.session.current(o) ?? o));
  const kept: LocalObject[] = [];
  const gone: string[] = [];
  for (const o of held) {
    const stored = await r.host.store.get(o.$entity, o.id);
    if (stored) kept.push(stored);
    else gone.push(o.id);
  }
  r.replaceObjects(kept);
  r.removeObjects(gone);
}
