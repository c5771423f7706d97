import { activityKind } from './ActivityKind.ts';

/** Create list: an empty list of an entity's objects. */
export const createList = activityKind({
  type: 'createList',
  declares: (a) => [{ name: a.outputVariable, type: { kind: 'list', entity: a.entity }, field: 'activity.outputVariable' }],
  check(a, c) {
    c.entity('activity.entity', a.entity, { builtin: true });
  },
  async run(a, r) {
    r.set(a.outputVariable, []);
  },
});
