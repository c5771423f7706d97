import type { CheckState } from './CheckState.ts';
import { successors } from './successors.ts';

/** Definite assignment: the variables defined on every path from the start to each node. */
export function computeDefinitions(s: CheckState): void {
  const start = s.start!;
  s.definedAt.set(start, new Set(s.parameters.map((p) => p.name)));
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head];
    const here = s.definedAt.get(id)!;
    for (const step of successors(s, id)) {
      const out = new Set([...here, ...step.gen]);
      const before = s.definedAt.get(step.to);
      const next = before ? new Set([...before].filter((v) => out.has(v))) : out;
      if (!before || next.size !== before.size) {
        s.definedAt.set(step.to, next);
        queue.push(step.to);
      }
    }
  }
}
