/** How deep a node's JSON may nest (a Retrieve's constraints nest); deeper input would exhaust the stack of the checks. */
export const MAX_NODE_DEPTH = 64;

/** The path to the first value nested deeper than `max` levels, or undefined. Iterative: any depth costs no stack. */
export function tooDeep(value: unknown, max: number): PropertyKey[] | undefined {
  const stack: Array<{ v: unknown; path: PropertyKey[] }> = [{ v: value, path: [] }];
  // Each object once: a value built in code may share (or cycle through) objects; JSON never does.
  const seen = new WeakSet<object>();
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (path.length >= max) return path;
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, path: [...path, i] }));
    else for (const [k, x] of Object.entries(v)) stack.push({ v: x, path: [...path, k] });
  }
  return undefined;
}
