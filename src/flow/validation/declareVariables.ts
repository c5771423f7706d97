import { ACTIVITIES } from '../activities/index.ts';
import type { DeclareContext } from '../activities/ActivityKind.ts';
import { fromDataType, Types, type StaticType } from '../expressions/types.ts';
import type { CheckState } from './CheckState.ts';
import { RESERVED } from './latestError.ts';
import { lookupFlow } from './lookupFlow.ts';
import { profileExists } from './profileExists.ts';

/** Declares every variable of the flow (parameters, loop iterators, activity outputs) once, with its type resolved on demand. */
export function declareVariables(s: CheckState): void {
  for (const p of s.parameters) {
    declare(s, p.name, `parameters[${p.index}].name`, undefined, () => fromDataType(p.type));
  }
  for (const [id, { node }] of s.nodes) {
    if (node.type === 'loop') {
      declare(s, node.iterator, s.at(id, 'iterator'), id, () => {
        const t = typeOf(s, node.list);
        return t?.kind === 'list' ? { kind: 'object', entity: t.entity } : Types.unknown;
      });
    } else if (node.type === 'activity') {
      const kind = ACTIVITIES[node.activity.type] as {
        declares?: (a: unknown, c: DeclareContext) => Array<{ name: string; type: StaticType; field: string }>;
      };
      for (const d of kind.declares?.(node.activity, declareContext(s, true)) ?? []) {
        declare(s, d.name, s.at(id, d.field), id, () => {
          const found = kind.declares!(node.activity, declareContext(s)).find((x) => x.name === d.name);
          return found?.type ?? Types.unknown;
        });
      }
    }
  }
}

function declare(s: CheckState, name: string, path: string, nodeId: string | undefined, type: () => StaticType): void {
  if (RESERVED.has(name)) {
    s.add(path, `$${name} is built in: choose another name`, nodeId);
    return;
  }
  const before = s.declarations.get(name);
  if (before) {
    s.add(path, `variable $${name} is already defined (${before.nodeId ? `by node "${before.nodeId}"` : `at ${before.path}`})`, nodeId);
    return;
  }
  s.declarations.set(name, { path, nodeId, type });
}

/** A variable's declared type, resolved on demand (an output's type may depend on another variable's). */
export function typeOf(s: CheckState, name: string): StaticType | undefined {
  const known = s.types.get(name);
  if (known === 'resolving') return Types.unknown;
  if (known) return known;
  const d = s.declarations.get(name);
  if (!d) return undefined;
  s.types.set(name, 'resolving');
  const t = d.type();
  s.types.set(name, t);
  return t;
}

/** The variables an activity node defines. */
export function declaresOf(s: CheckState, id: string): string[] {
  const { node } = s.nodes.get(id)!;
  if (node.type !== 'activity') return [];
  const kind = ACTIVITIES[node.activity.type] as { declares?: (a: unknown, c: DeclareContext) => Array<{ name: string }> };
  return (kind.declares?.(node.activity, declareContext(s)) ?? []).map((d) => d.name);
}

/** What an activity kind's declares / check may ask about the flow; `namesOnly` while names are being collected (no types yet). */
export function declareContext(s: CheckState, namesOnly = false): DeclareContext {
  return {
    schema: s.options.schema,
    typeOf: (name) => (namesOnly ? undefined : typeOf(s, name)),
    resolveFlow: (name) => (namesOnly ? undefined : lookupFlow(s, name).flow),
    flowExists: (name) => lookupFlow(s, name).exists,
    profileExists: (name) => profileExists(s.options.profiles, name),
  };
}
