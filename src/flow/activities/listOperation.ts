import { memberOf, Types, type StaticType } from '../expressions/types.ts';
import { compareValues } from '../../model/values.ts';
import { activityKind } from './ActivityKind.ts';
import { checkListVariable, requireList } from './shared.ts';

/**
 * List operation: filter and find (by a condition on `$currentObject`), sort (by attributes),
 * head (the first object or empty) and tail (all but the first). The list variable itself is
 * not changed: the result goes to the output variable.
 */
export const listOperation = activityKind({
  type: 'listOperation',
  declares(a, c) {
    const t = c.typeOf(a.list);
    const list: StaticType = t?.kind === 'list' ? t : Types.unknown;
    const one = a.operation.op === 'find' || a.operation.op === 'head';
    const type: StaticType = one && list.kind === 'list' ? { kind: 'object', entity: list.entity } : list;
    return [{ name: a.outputVariable, type, field: 'activity.outputVariable' }];
  },
  check(a, c) {
    const { entity } = checkListVariable(c, a.list, 'activity.list');
    const op = a.operation;
    if (op.op === 'filter' || op.op === 'find') {
      const currentObject: StaticType = entity ? { kind: 'object', entity } : Types.unknown;
      c.expression('activity.operation.expression', op.expression, { expected: Types.boolean, extra: { currentObject } });
    } else if (op.op === 'sort') {
      if (op.by.length === 0) c.problem('activity.operation.by', 'name at least one attribute to sort by');
      op.by.forEach((k, i) => {
        if (entity && !memberOf(c.schema, entity, k.attribute)) {
          c.problem(`activity.operation.by[${i}].attribute`, `${entity} has no member "${k.attribute}"`);
        }
      });
    }
  },
  async run(a, r) {
    const list = requireList(r, a.list).map((o) => r.current(o));
    const op = a.operation;
    switch (op.op) {
      case 'filter':
      case 'find': {
        const out = [];
        for (const o of list) {
          // Empty counts as false, as in every condition.
          if ((await r.evaluate(op.expression, { currentObject: o })) === true) {
            if (op.op === 'find') return r.set(a.outputVariable, o);
            out.push(o);
          }
        }
        return r.set(a.outputVariable, op.op === 'find' ? null : out);
      }
      case 'sort': {
        // Array.prototype.sort is stable: equal keys keep the list's order.
        const sorted = [...list].sort((x, y) => {
          for (const k of op.by) {
            const c = compareValues(x[k.attribute], y[k.attribute]);
            if (c !== 0) return k.direction === 'desc' ? -c : c;
          }
          return 0;
        });
        return r.set(a.outputVariable, sorted);
      }
      case 'head':
        return r.set(a.outputVariable, list[0] ?? null);
      case 'tail':
        return r.set(a.outputVariable, list.slice(1));
    }
  },
});
