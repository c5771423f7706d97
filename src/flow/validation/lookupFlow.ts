import { flowSchema, type Flow } from '../format.ts';
import type { CheckState } from './CheckState.ts';
import { isCompiledFlow } from './CompiledFlow.ts';

/**
 * The flow a Call flow activity names, through `options.resolveFlow`, once per name: `exists` is
 * undefined when flows cannot be resolved (the call is checked when it runs), and `flow` is absent
 * when the called flow does not parse (its own load reports that).
 */
export function lookupFlow(s: CheckState, name: string): { exists: boolean | undefined; flow?: Flow } {
  const cached = s.flowCache.get(name);
  if (cached) return cached;
  let result: { exists: boolean | undefined; flow?: Flow } = { exists: undefined };
  if (s.options.resolveFlow) {
    const found = s.options.resolveFlow(name);
    if (found === undefined || found === null) result = { exists: false };
    else if (isCompiledFlow(found)) result = { exists: true, flow: found.definition };
    else {
      const parsed = flowSchema.safeParse(found);
      // A flow that does not parse is reported when it loads; here its signature is unknown.
      result = { exists: true, flow: parsed.success ? parsed.data : undefined };
    }
  }
  s.flowCache.set(name, result);
  return result;
}
