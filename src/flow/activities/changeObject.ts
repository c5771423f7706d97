import { activityKind } from './ActivityKind.ts';
import { checkMemberValues, evaluateMemberValues, objectEntity, requireObject } from './shared.ts';
import { describeType, isBuiltinEntity } from '../expressions/types.ts';

/**
 * Change object: sets members of the object in a variable. The change stays uncommitted (the
 * session holds the new version) until a Commit, or at once with `commit`. Every variable and
 * list holding the object then holds the new version.
 */
export const changeObject = activityKind({
  type: 'changeObject',
  check(a, c) {
    const t = c.variable('activity.variable', a.variable);
    if (t && t.kind !== 'unknown' && (t.kind !== 'object' || isBuiltinEntity(t.entity))) {
      c.problem('activity.variable', `$${a.variable} is ${describeType(t)}: an object is expected`);
    }
    if (Object.keys(a.values).length === 0) c.problem('activity.values', 'name at least one member to change');
    checkMemberValues(c, objectEntity(t), a.values, 'activity.values');
  },
  async run(a, r) {
    const object = r.current(requireObject(r, a.variable));
    const values = await evaluateMemberValues(r, object.$entity, a.values);
    let changed = await r.session.change(object, values);
    r.touch([changed]);
    if (a.commit) {
      await r.session.commit([changed]);
      changed = r.current(changed);
    }
    r.replaceObjects([changed]);
  },
});
