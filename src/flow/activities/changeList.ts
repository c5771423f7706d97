import type { LocalObject } from '../../store/types.ts';
import { describeType, type StaticType } from '../expressions/types.ts';
import { objectsIn } from '../runtimeValues.ts';
import { activityKind } from './ActivityKind.ts';
import { checkListVariable, requireList, runtimeError } from './shared.ts';

/**
 * Change list: add an object or a list's objects (once: an object already in the list is not
 * added again), remove them, clear the list or replace it with another list.
 */
export const changeList = activityKind({
  type: 'changeList',
  check(a, c) {
    const { entity } = checkListVariable(c, a.list, 'activity.list');
    if (a.operation === 'clear') {
      if (a.value !== undefined) c.problem('activity.value', 'clear takes no value');
      return;
    }
    if (a.value === undefined) return c.problem('activity.value', `${a.operation} needs a value`);
    const t = c.expression('activity.value', a.value);
    const fits = (x: StaticType) =>
      x.kind === 'unknown' || x.kind === 'empty' || ((x.kind === 'object' || x.kind === 'list') && (!entity || x.entity === entity));
    if (!fits(t) || (a.operation === 'set' && t.kind === 'object')) {
      c.problem('activity.value', `expected ${a.operation === 'set' ? 'a list' : 'an object or a list'}${entity ? ` of ${entity}` : ''}, not ${describeType(t)}`);
    }
  },
  async run(a, r) {
    const list = requireList(r, a.list);
    if (a.operation === 'clear') return r.set(a.list, []);
    const value = await r.evaluate(a.value!);
    if (a.operation === 'set') {
      if (value !== null && !Array.isArray(value)) throw runtimeError(`change list: set needs a list`);
      return r.set(a.list, [...((value as LocalObject[] | null) ?? [])]);
    }
    const objects = objectsIn(value);
    if (a.operation === 'add') {
      const ids = new Set(list.map((o) => o.id));
      const added = objects.filter((o) => !ids.has(o.id) && ids.add(o.id));
      return r.set(a.list, [...list, ...added]);
    }
    const gone = new Set(objects.map((o) => o.id));
    r.set(a.list, list.filter((o) => !gone.has(o.id)));
  },
});
