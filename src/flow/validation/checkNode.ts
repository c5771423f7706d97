import { ACTIVITIES } from '../activities/index.ts';
import type { CheckContext } from '../activities/ActivityKind.ts';
import { describeType, isAssignable } from '../expressions/types.ts';
import type { CheckState, NodeInfo } from './CheckState.ts';
import { checkContext } from './checkContext.ts';
import { checkDecision } from './checkDecision.ts';
import { checkExpression } from './checkExpression.ts';

/** A node's own fields: an activity by its kind's check, a decision's cases, a loop's list, an end's return value. */
export function checkNode(s: CheckState, { node }: NodeInfo): void {
  const id = node.id;
  switch (node.type) {
    case 'activity': {
      const kind = ACTIVITIES[node.activity.type] as { check: (a: unknown, c: CheckContext) => void };
      kind.check(node.activity, checkContext(s, id));
      break;
    }
    case 'decision':
      checkDecision(s, node);
      break;
    case 'loop': {
      const t = checkContext(s, id).variable('list', node.list);
      if (t && t.kind !== 'list' && t.kind !== 'unknown') s.nodeProblem(id, 'list', `$${node.list} is ${describeType(t)}: a loop iterates over a list`);
      break;
    }
    case 'end': {
      if (s.returnType.kind === 'nothing') {
        if (node.returnValue !== undefined) s.nodeProblem(id, 'returnValue', 'the flow returns nothing (set returnType to return a value)');
      } else if (node.returnValue === undefined) {
        if (s.returnType.kind !== 'unknown') s.nodeProblem(id, 'returnValue', `the flow returns ${describeType(s.returnType)}: give a returnValue`);
      } else {
        const t = checkExpression(s, id, 'returnValue', node.returnValue);
        if (!isAssignable(s.returnType, t)) {
          s.nodeProblem(id, 'returnValue', `the flow returns ${describeType(s.returnType)}, but the value is ${describeType(t)}`);
        }
      }
      break;
    }
    default:
      break;
  }
}
