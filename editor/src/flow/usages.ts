/**
 * Find usages: where a variable is declared or used in the open flow (expressions naming `$x`,
 * fields naming the variable), and which flows of the folder call a flow.
 */
import type { Flow, FlowNode } from '../../../src/flow/format.ts';

export interface Usage {
  /** The flow it is in (its file id), and the node; `field` is the path inside the node. */
  flowId: string;
  nodeId: string;
  field: string;
  /** The field's text, to show. */
  text: string;
}

/** Fields that hold a variable's name (not an expression). */
const NAME_FIELDS = new Set(['variable', 'variables', 'outputVariable', 'iterator', 'list']);

function walk(value: unknown, path: string, visit: (path: string, key: string, text: string) => void, key = ''): void {
  if (typeof value === 'string') visit(path, key, value);
  else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, visit, key));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k !== 'position') walk(v, path ? `${path}.${k}` : k, visit, k);
  }
}

/**
 * @example
 * variableUsages('renameTask', flow, 'task'); // [{ nodeId: 'changeTitle', field: 'activity.variable', ... }, ...]
 */
export function variableUsages(flowId: string, flow: Flow, name: string): Usage[] {
  const inExpression = new RegExp(`\\$${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_])`);
  const out: Usage[] = [];
  for (const node of flow.nodes as FlowNode[]) {
    walk(node, '', (path, key, text) => {
      if ((NAME_FIELDS.has(key) && text === name) || inExpression.test(text)) out.push({ flowId, nodeId: node.id, field: path, text });
    });
  }
  return out;
}

/** The Call flow activities of the folder's flows that call `name`. */
export function flowUsages(flows: ReadonlyArray<{ id: string; flow: unknown }>, name: string): Usage[] {
  const out: Usage[] = [];
  for (const { id, flow } of flows) {
    const nodes = (flow as { nodes?: unknown } | null)?.nodes;
    if (!Array.isArray(nodes)) continue;
    for (const node of nodes as Array<{ id?: unknown; activity?: { type?: unknown; flow?: unknown } }>) {
      if (node?.activity?.type === 'callFlow' && node.activity.flow === name && typeof node.id === 'string') {
        out.push({ flowId: id, nodeId: node.id, field: 'activity.flow', text: `calls ${name}` });
      }
    }
  }
  return out;
}
