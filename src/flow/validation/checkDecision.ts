import { describeType } from '../expressions/types.ts';
import type { NodeOf } from '../format.ts';
import type { CheckState, EdgeInfo } from './CheckState.ts';
import { checkExpression } from './checkExpression.ts';

/** A decision's expression is a boolean or an enumeration, and its edges cover each value once. */
export function checkDecision(s: CheckState, node: NodeOf<'decision'>): void {
  const id = node.id;
  const t = checkExpression(s, id, 'expression', node.expression);
  const edges = s.caseOut.get(id) ?? [];
  const seen = new Map<string, EdgeInfo>();
  for (const e of edges) {
    const key = JSON.stringify(e.edge.case);
    if (seen.has(key)) s.edgeProblem(e, 'case', `case ${key} appears twice (also edges[${seen.get(key)!.index}])`);
    else seen.set(key, e);
  }
  const values = edges.map((e) => e.edge.case);
  const missing = (expected: ReadonlyArray<boolean | string>) =>
    expected.filter((v) => !values.includes(v)).map((v) => JSON.stringify(v));
  if (t.kind === 'boolean') {
    for (const e of edges) {
      if (typeof e.edge.case !== 'boolean') s.edgeProblem(e, 'case', `the decision is boolean: a case is true or false, not ${JSON.stringify(e.edge.case)}`);
    }
    const m = missing([true, false]);
    if (m.length) s.nodeProblem(id, undefined, `the decision has no edge for case ${m.join(' and ')}`);
  } else if (t.kind === 'enum') {
    for (const e of edges) {
      if (e.edge.case !== null && !(typeof e.edge.case === 'string' && t.values.includes(e.edge.case))) {
        s.edgeProblem(e, 'case', `${JSON.stringify(e.edge.case)} is not a value of the enumeration (${t.values.join(', ')}) nor null (empty)`);
      }
    }
    const m = missing(t.values);
    if (m.length) s.nodeProblem(id, undefined, `the decision has no edge for case ${m.join(', ')}`);
  } else if (t.kind !== 'unknown') {
    s.nodeProblem(id, 'expression', `a decision needs a boolean or an enumeration, not ${describeType(t)}`);
  }
}
