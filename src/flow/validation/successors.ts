import type { CheckState } from './CheckState.ts';
import { declaresOf } from './declareVariables.ts';
import { LATEST_ERROR } from './latestError.ts';

export interface Successor {
  to: string;
  /** Variables defined when the flow goes this way. */
  gen: readonly string[];
}

/** Where the flow goes after a loop: its outgoing edge, or (inside an outer loop's body) the next iteration of that loop. */
export function exitOf(s: CheckState, loop: string): string | undefined {
  return s.loops.get(loop)?.after ?? s.parentOf.get(loop);
}

/** Where the flow may go from node `id`, with the variables each way defines: the graph checkPaths and computeDefinitions walk. */
export function successors(s: CheckState, id: string): Successor[] {
  const { node } = s.nodes.get(id)!;
  const out: Successor[] = [];
  const loop = s.parentOf.get(id);
  const normal = s.normalOut.get(id) ?? [];
  switch (node.type) {
    case 'end':
      break;
    case 'break': {
      const exit = loop !== undefined ? exitOf(s, loop) : undefined;
      if (exit !== undefined) out.push({ to: exit, gen: [] });
      break;
    }
    case 'continue':
      if (loop !== undefined) out.push({ to: loop, gen: [] });
      break;
    case 'decision':
      for (const e of s.caseOut.get(id) ?? []) out.push({ to: e.edge.to, gen: [] });
      break;
    case 'loop': {
      const info = s.loops.get(id);
      if (info?.entry) out.push({ to: info.entry, gen: [node.iterator] });
      const exit = exitOf(s, id);
      if (exit !== undefined) out.push({ to: exit, gen: [] });
      break;
    }
    default: {
      const declared = node.type === 'activity' ? declaresOf(s, id) : [];
      // An activity that continues on error may arrive with $latestError set: its way on is an error handler's path too.
      const gen = node.type === 'activity' && node.errorHandling === 'continue' ? [...declared, LATEST_ERROR] : declared;
      for (const e of normal) out.push({ to: e.edge.to, gen });
      // The end of a loop body's path ends the iteration.
      if (normal.length === 0 && loop !== undefined) out.push({ to: loop, gen });
      // $latestError is defined on an error handler's path only (scoped as Mendix does): the edge defines it.
      for (const e of s.errorOut.get(id) ?? []) out.push({ to: e.edge.to, gen: [LATEST_ERROR] });
    }
  }
  return out;
}
