import { activityKind } from './ActivityKind.ts';
import { checkMemberValues, evaluateMemberValues } from './shared.ts';

/**
 * Create object: a new, uncommitted object of an entity with the given member values
 * (required members may stay empty until the commit, as in Mendix). With `commit`, it is
 * committed at once.
 */
export const createObject = activityKind({
  type: 'createObject',
  declares: (a) => [{ name: a.outputVariable, type: { kind: 'object', entity: a.entity }, field: 'activity.outputVariable' }],
  check(a, c) {
    const known = c.entity('activity.entity', a.entity);
    checkMemberValues(c, known ? a.entity : undefined, a.values, 'activity.values');
  },
  async run(a, r) {
    const values = await evaluateMemberValues(r, a.entity, a.values);
    let object = await r.session.create(a.entity, values);
    r.touch([object]);
    if (a.commit) {
      await r.session.commit([object]);
      object = r.current(object);
    }
    r.set(a.outputVariable, object);
  },
});
