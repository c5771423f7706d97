/** The variables a flow declares (parameters, activity outputs, loop iterators), for pickers. */
import { ACTIVITIES } from '../../../src/flow/activities/index.ts';
import type { DeclareContext } from '../../../src/flow/activities/ActivityKind.ts';
import { fromDataType, type StaticType } from '../../../src/flow/expressions/types.ts';
import type { Flow } from '../../../src/flow/format.ts';
import type { Schema } from '../../../src/model/schema.ts';

export interface DeclaredVariable {
  name: string;
  type: StaticType;
  /** The node that declares it; undefined for parameters. */
  nodeId?: string;
}

/**
 * Every variable of the flow with its type where it can be told (the activity kinds' own
 * `declares`, so outputs are typed as the validator types them).
 */
export function declaredVariables(flow: Flow, schema: Schema): DeclaredVariable[] {
  const out = new Map<string, DeclaredVariable>();
  for (const p of flow.parameters ?? []) {
    if (p?.name) out.set(p.name, { name: p.name, type: safe(() => fromDataType(p.type)) });
  }
  // Two rounds: an output's type may depend on a variable declared further down the list.
  for (let round = 0; round < 2; round++) {
    const context: DeclareContext = {
      schema,
      typeOf: (name) => out.get(name)?.type,
      resolveFlow: () => undefined,
      flowExists: () => undefined,
      profileExists: () => undefined,
    };
    for (const node of flow.nodes) {
      if (node.type === 'loop' && node.iterator) {
        const listType = out.get(node.list)?.type;
        out.set(node.iterator, {
          name: node.iterator,
          nodeId: node.id,
          type: listType?.kind === 'list' ? { kind: 'object', entity: listType.entity } : { kind: 'unknown' },
        });
      } else if (node.type === 'activity') {
        const kind = ACTIVITIES[node.activity.type] as { declares?: (a: unknown, c: DeclareContext) => Array<{ name: string; type: StaticType }> };
        const declared = safe(() => kind?.declares?.(node.activity, context) ?? []);
        for (const d of Array.isArray(declared) ? declared : []) {
          if (d.name) out.set(d.name, { name: d.name, type: d.type, nodeId: node.id });
        }
      }
    }
  }
  return [...out.values()];
}

function safe<T>(fn: () => T): T {
  try {
    return fn();
  } catch {
    return { kind: 'unknown' } as T;
  }
}
