/** Small builders for flows in tests: nodes in a row from start to end, with edges between them. */
import type { Activity, DataType, Flow, FlowEdge, FlowNode } from '../../../src/flow/format.ts';

export type NodeInput = FlowNode;

export function activity(id: string, a: Activity, extra: Partial<Extract<FlowNode, { type: 'activity' }>> = {}): FlowNode {
  return { id, type: 'activity', activity: a, ...extra };
}

export interface LinearOptions {
  name?: string;
  parameters?: Array<{ name: string; type: DataType }>;
  returnType?: Flow['returnType'];
  returnValue?: string;
  /** More nodes and edges, not part of the row. */
  nodes?: FlowNode[];
  edges?: FlowEdge[];
}

/** start -> steps... -> end, each step's normal edge to the next. */
export function linear(steps: FlowNode[], options: LinearOptions = {}): Flow {
  const ids = ['start', ...steps.map((s) => s.id), 'end'];
  return {
    name: options.name ?? 'test',
    parameters: options.parameters,
    returnType: options.returnType,
    nodes: [
      { id: 'start', type: 'start' },
      ...steps,
      { id: 'end', type: 'end', ...(options.returnValue !== undefined ? { returnValue: options.returnValue } : {}) },
      ...(options.nodes ?? []),
    ],
    edges: [...ids.slice(1).map((to, i) => ({ from: ids[i], to })), ...(options.edges ?? [])],
  };
}

export const T = {
  string: { type: 'string' },
  integer: { type: 'integer' },
  decimal: { type: 'decimal' },
  boolean: { type: 'boolean' },
  datetime: { type: 'datetime' },
  object: (entity: string) => ({ type: 'object', entity }),
  list: (entity: string) => ({ type: 'list', entity }),
} as const satisfies Record<string, DataType | ((e: string) => DataType)>;

/** A parameter list of object parameters: `objects('task', 'Task')`. */
export const objectParam = (name: string, entity: string) => ({ name, type: { type: 'object', entity } as DataType });
export const listParam = (name: string, entity: string) => ({ name, type: { type: 'list', entity } as DataType });
