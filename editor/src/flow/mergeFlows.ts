/**
 * A three-way merge of a flow, for a save refused because the file changed elsewhere: the version
 * both sides started from (base), the editor's (mine) and the file's now (theirs). Node by node
 * (by id), edge by edge and flow field by field: a side that left something as it was takes the
 * other side's version. Something both changed differently overlaps: the merge is refused and
 * names it (the author reloads or overwrites instead).
 */
import type { Flow, FlowEdge, FlowNode } from '../../../src/flow/format.ts';

export interface FlowMerge {
  /** The merged flow; null when changes overlap. */
  flow: Flow | null;
  /** What both sides changed differently: node ids, and `flow <field>` for the flow's own fields. */
  overlapping: string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** One value three ways: `{ value }`, or null when both sides changed it differently. */
function pick<T>(base: T | undefined, mine: T | undefined, theirs: T | undefined): { value: T | undefined } | null {
  if (same(mine, base)) return { value: theirs };
  if (same(theirs, base) || same(mine, theirs)) return { value: mine };
  return null;
}

/**
 * @example
 * const { flow, overlapping } = mergeFlows(opened, edited, onDisk);
 * if (!flow) console.log(`both changed ${overlapping.join(', ')}`);
 */
export function mergeFlows(base: Flow, mine: Flow, theirs: Flow): FlowMerge {
  const overlapping: string[] = [];
  const byId = (f: Flow) => new Map(f.nodes.map((n) => [n.id, n] as const));
  const [b, m, t] = [byId(base), byId(mine), byId(theirs)];
  // Their order first (the file as it is), then the nodes only mine has.
  const ids = [...new Set([...theirs.nodes.map((n) => n.id), ...mine.nodes.map((n) => n.id)])];
  const nodes: FlowNode[] = [];
  for (const id of ids) {
    const chosen = pick(b.get(id), m.get(id), t.get(id));
    if (!chosen) overlapping.push(id);
    else if (chosen.value) nodes.push(chosen.value);
  }

  // Edges as a set: theirs, plus the ones I added, less the ones I removed.
  const key = (e: FlowEdge) => JSON.stringify([e.from, e.to, e.errorHandler ?? false, e.case ?? null, e.id ?? null]);
  const baseKeys = new Set(base.edges.map(key));
  const mineKeys = new Set(mine.edges.map(key));
  const edges = theirs.edges.filter((e) => !(baseKeys.has(key(e)) && !mineKeys.has(key(e))));
  const kept = new Set(edges.map(key));
  for (const e of mine.edges) if (!baseKeys.has(key(e)) && !kept.has(key(e))) edges.push(e);

  const merged: Record<string, unknown> = {};
  const fields = new Set([...Object.keys(theirs), ...Object.keys(mine), ...Object.keys(base)]);
  for (const field of fields) {
    if (field === 'nodes' || field === 'edges') continue;
    const get = (f: Flow) => (f as unknown as Record<string, unknown>)[field];
    const chosen = pick(get(base), get(mine), get(theirs));
    if (!chosen) overlapping.push(`flow ${field}`);
    else if (chosen.value !== undefined) merged[field] = chosen.value;
  }
  // A node kept from one side must not hang from an edge whose node the other side deleted.
  const present = new Set(nodes.map((n) => n.id));
  const joined = edges.filter((e) => present.has(e.from) && present.has(e.to));
  if (overlapping.length) return { flow: null, overlapping };
  return { flow: { ...(merged as Omit<Flow, 'nodes' | 'edges'>), nodes, edges: joined } as Flow, overlapping };
}
