/**
 * How deep a parsed JSON value nests, walked with a stack of its own: JSON.parse takes any
 * depth, but JSON.stringify and the validator recurse, and a body 10,000 deep would overflow them.
 */
import type { FlowProblem } from '../../src/flow/validateFlow.ts';

/** Far above any real flow (a Retrieve's where nests a few levels per condition). */
export const MAX_JSON_DEPTH = 200;

/**
 * A problem when `value` nests deeper than `MAX_JSON_DEPTH`, else null.
 *
 * @example
 * jsonDepthProblem(JSON.parse('[[[]]]')); // null
 */
export function jsonDepthProblem(value: unknown): FlowProblem | null {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [here, depth] = stack.pop()!;
    if (typeof here !== 'object' || here === null) continue;
    if (depth > MAX_JSON_DEPTH) return { path: '', message: `the flow is nested deeper than ${MAX_JSON_DEPTH} levels` };
    for (const child of Array.isArray(here) ? here : Object.values(here)) stack.push([child, depth + 1]);
  }
  return null;
}
