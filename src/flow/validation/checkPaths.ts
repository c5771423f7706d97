import type { CheckState } from './CheckState.ts';
import { successors } from './successors.ts';

/** Every node is reachable from the start, and every reachable node reaches an end (no endless cycle). */
export function checkPaths(s: CheckState): void {
  const queue = [s.start!];
  s.reachable.add(s.start!);
  const preds = new Map<string, string[]>();
  // An index instead of shift(): shifting a long queue is linear each time.
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head];
    for (const step of successors(s, id)) {
      const list = preds.get(step.to);
      if (list) list.push(id);
      else preds.set(step.to, [id]);
      if (!s.reachable.has(step.to)) {
        s.reachable.add(step.to);
        queue.push(step.to);
      }
    }
  }
  // A body without a first step is reported at its loop; its nodes are not reported again.
  const inBrokenLoop = (id: string): boolean => {
    for (let p = s.parentOf.get(id); p !== undefined; p = s.parentOf.get(p)) if (!s.loops.get(p)?.entry) return true;
    return false;
  };
  for (const id of s.nodes.keys()) {
    if (!s.reachable.has(id) && !inBrokenLoop(id)) s.nodeProblem(id, undefined, 'is not reachable from the start node');
  }
  // Backwards from the ends: a reachable node that reaches none loops forever.
  const ends = [...s.reachable].filter((id) => s.nodes.get(id)!.node.type === 'end' || s.deadEnds.has(id));
  const done = new Set(ends);
  while (ends.length) {
    const id = ends.pop()!;
    for (const p of preds.get(id) ?? []) {
      if (!done.has(p)) {
        done.add(p);
        ends.push(p);
      }
    }
  }
  for (const id of s.reachable) {
    if (!done.has(id)) s.nodeProblem(id, undefined, 'no path from this node reaches an end node (an endless cycle)');
  }
}
