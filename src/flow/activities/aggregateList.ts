import { describeType, Types, type StaticType } from '../expressions/types.ts';
import { activityKind } from './ActivityKind.ts';
import { checkListVariable, checkMember, requireList, runtimeError } from './shared.ts';
import { memberOf } from '../expressions/types.ts';

/**
 * Aggregate list: count the objects, or the sum, average, minimum or maximum of an attribute
 * over them. Empty values are left out; the average, minimum and maximum of no values are
 * empty, the sum of no values is 0.
 */
export const aggregateList = activityKind({
  type: 'aggregateList',
  declares(a, c) {
    let type: StaticType = Types.unknown;
    if (a.function === 'count') type = Types.integer;
    else if (a.function === 'average') type = Types.decimal;
    else {
      const t = c.typeOf(a.list);
      const attr = t?.kind === 'list' && a.attribute ? memberOf(c.schema, t.entity, a.attribute) : undefined;
      if (attr && !attr.association) type = attr.type;
    }
    return [{ name: a.outputVariable, type, field: 'activity.outputVariable' }];
  },
  check(a, c) {
    const { entity } = checkListVariable(c, a.list, 'activity.list');
    if (a.function === 'count') {
      if (a.attribute) c.problem('activity.attribute', 'count counts objects: leave the attribute out');
      return;
    }
    if (!a.attribute) return c.problem('activity.attribute', `${a.function} needs an attribute`);
    const t = checkMember(c, entity, a.attribute, 'activity.attribute');
    const numeric = t.kind === 'integer' || t.kind === 'decimal';
    const ok = t.kind === 'unknown' || numeric || (t.kind === 'datetime' && (a.function === 'min' || a.function === 'max'));
    if (!ok) c.problem('activity.attribute', `cannot take the ${a.function} of ${describeType(t)} ${entity}/${a.attribute}`);
  },
  async run(a, r) {
    const list = requireList(r, a.list).map((o) => r.current(o));
    if (a.function === 'count') return r.set(a.outputVariable, list.length);
    const values = list.map((o) => o[a.attribute!]).filter((v) => v !== null && v !== undefined);
    if (a.function === 'min' || a.function === 'max') {
      if (values.length === 0) return r.set(a.outputVariable, null);
      const pick = values.reduce((m, v) => ((a.function === 'min' ? v < m! : v > m!) ? v : m));
      return r.set(a.outputVariable, pick);
    }
    const numbers = values.map((v) => {
      if (typeof v !== 'number') throw runtimeError(`${a.function}: ${JSON.stringify(v)} of ${a.attribute} is not a number`);
      return v;
    });
    const sum = numbers.reduce((s, v) => s + v, 0);
    if (a.function === 'sum') return r.set(a.outputVariable, sum);
    r.set(a.outputVariable, numbers.length ? sum / numbers.length : null);
  },
});
