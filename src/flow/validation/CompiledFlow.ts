import type { Expr } from '../expressions/ast.ts';
import type { StaticType } from '../expressions/types.ts';
import type { Flow, FlowNode } from '../format.ts';

export interface DecisionCase {
  value: boolean | string | null;
  to: string;
}

/** A validated flow, ready to run: the definition plus indexes and parsed expressions. */
export interface CompiledFlow {
  readonly definition: Flow;
  readonly name: string;
  readonly start: string;
  readonly nodes: ReadonlyMap<string, FlowNode>;
  /** The normal next node; absent where a path ends (end node, or the end of a loop iteration). */
  readonly next: ReadonlyMap<string, string>;
  /** The error-handler edge's target (custom error handling). */
  readonly errorNext: ReadonlyMap<string, string>;
  readonly cases: ReadonlyMap<string, readonly DecisionCase[]>;
  /** Per loop: the body's first node and the node after the loop (absent at the end of an outer loop's body). */
  readonly loops: ReadonlyMap<string, { entry: string; after?: string }>;
  /** The loop a node is inside of. */
  readonly parentOf: ReadonlyMap<string, string>;
  /** Every variable's declared type (parameters, outputs, iterators). */
  readonly variables: ReadonlyMap<string, StaticType>;
  readonly parameters: ReadonlyArray<{ name: string; type: StaticType }>;
  readonly returnType: StaticType;
  /** Every expression of the flow, parsed: source text -> AST. */
  readonly expressions: ReadonlyMap<string, Expr>;
  /** The variables each activity node defines (set to empty when its error handling is continue). */
  readonly outputs: ReadonlyMap<string, readonly string[]>;
}

// Only compileFlow adds to it: a look-alike object built elsewhere is never taken as checked.
const compiledFlows = new WeakSet<object>();

/** Marks a flow as compiled by the checks; only compileFlow calls it. */
export function markCompiled(flow: CompiledFlow): CompiledFlow {
  compiledFlows.add(flow);
  return flow;
}

/**
 * Whether a value is a flow compiled by `validateFlow` / `loadFlow`.
 *
 * @example
 * const flow = isCompiledFlow(input) ? input : loadFlow(input, { schema });
 */
export function isCompiledFlow(value: unknown): value is CompiledFlow {
  return typeof value === 'object' && value !== null && compiledFlows.has(value);
}
