import { fromDataType, Types, type StaticType } from '../expressions/types.ts';
import { flowSchema, type Flow } from '../format.ts';
import type { CheckState } from './CheckState.ts';
import { markCompiled, type CompiledFlow, type DecisionCase } from './CompiledFlow.ts';
import { declaresOf, typeOf } from './declareVariables.ts';

/** The flow, checked without a problem, with the indexes the interpreter runs on. */
export function compileFlow(s: CheckState, input: Flow): CompiledFlow {
  const definition = flowSchema.parse(input);
  const next = new Map<string, string>();
  const errorNext = new Map<string, string>();
  const cases = new Map<string, DecisionCase[]>();
  for (const [id, edges] of s.normalOut) next.set(id, edges[0].edge.to);
  for (const [id, edges] of s.errorOut) errorNext.set(id, edges[0].edge.to);
  for (const [id, edges] of s.caseOut) cases.set(id, edges.map((e) => ({ value: e.edge.case ?? null, to: e.edge.to })));
  const loops = new Map<string, { entry: string; after?: string }>();
  for (const [id, l] of s.loops) loops.set(id, { entry: l.entry!, after: l.after });
  const variables = new Map<string, StaticType>();
  for (const name of s.declarations.keys()) variables.set(name, typeOf(s, name) ?? Types.unknown);
  const outputs = new Map<string, string[]>();
  for (const [id, { node }] of s.nodes) if (node.type === 'activity') outputs.set(id, declaresOf(s, id));
  const compiled: CompiledFlow = {
    definition,
    name: definition.name,
    start: s.start!,
    nodes: new Map([...s.nodes].map(([id, n]) => [id, n.node])),
    next,
    errorNext,
    cases,
    loops,
    parentOf: new Map(s.parentOf),
    variables,
    parameters: s.parameters.map((p) => ({ name: p.name, type: fromDataType(p.type) })),
    returnType: s.returnType,
    expressions: new Map(s.expressions),
    outputs,
  };
  return markCompiled(compiled);
}
