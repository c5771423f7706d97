/**
 * The editor validates with the runtime's own validator (`src/flow/validateFlow.ts`): what the
 * editor accepts is exactly what loads. Results are cached per flow object (immer gives a new
 * one per edit, and the same one back on undo).
 */
import { validateFlow, type FlowProblem } from '../../../src/flow/validateFlow.ts';
import type { Flow } from '../../../src/flow/format.ts';
import type { Schema } from '../../../src/model/schema.ts';

export interface Validation {
  problems: FlowProblem[];
  byNode: ReadonlyMap<string, FlowProblem[]>;
  /** Problems not tied to a node (the flow's name, parameters, a missing start). */
  general: FlowProblem[];
}

const cache = new WeakMap<object, { library: unknown; schema: Schema; profiles: readonly string[] | undefined; result: Validation }>();

/**
 * @example
 * const { problems, byNode } = validate(flow, demoSchema, (name) => flowsByName.get(name));
 */
export function validate(
  flow: Flow,
  schema: Schema,
  resolveFlow: (name: string) => unknown,
  library: unknown = resolveFlow,
  /** The app's sync profile names (a Run profile naming another one is a problem); undefined: not checked. */
  profiles?: readonly string[],
): Validation {
  const hit = cache.get(flow);
  if (hit && hit.library === library && hit.schema === schema && hit.profiles === profiles) return hit.result;
  let problems: FlowProblem[];
  try {
    problems = validateFlow(flow, { schema, resolveFlow, profiles }).problems;
  } catch (e) {
    // A validator bug must not take the editor down: show it as a problem.
    problems = [{ path: '', message: `validation failed: ${e instanceof Error ? e.message : String(e)}` }];
  }
  const byNode = new Map<string, FlowProblem[]>();
  const general: FlowProblem[] = [];
  for (const p of problems) {
    if (p.nodeId !== undefined && flow.nodes.some((n) => n.id === p.nodeId)) byNode.set(p.nodeId, [...(byNode.get(p.nodeId) ?? []), p]);
    else general.push(p);
  }
  const result = { problems, byNode, general };
  cache.set(flow, { library, schema, profiles, result });
  return result;
}

/** The problems of one field: `path` is the field's full path, e.g. `nodes[3].activity.message`. */
export function problemsAt(problems: readonly FlowProblem[], path: string): FlowProblem[] {
  return problems.filter((p) => p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`));
}

/** `['activity', 'values', 'title']` -> `activity.values.title`; numbers as `[0]`. */
export function formatPath(prefix: string, path: ReadonlyArray<string | number>): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}
