/** Graph helpers over a flow: stable edge keys, fresh ids, and dagre layout. */
import dagre from '@dagrejs/dagre';
import type { Flow, FlowEdge, FlowNode } from '../../../src/flow/format.ts';

export interface XY {
  x: number;
  y: number;
}

/** Sizes the canvas draws nodes at (also what the layout reserves). */
export function nodeSize(node: FlowNode): { width: number; height: number } {
  switch (node.type) {
    case 'start':
    case 'end':
      return { width: 60, height: 60 };
    case 'merge':
      return { width: 48, height: 48 };
    case 'decision':
      return { width: 140, height: 64 };
    case 'break':
    case 'continue':
      return { width: 110, height: 40 };
    default:
      return { width: 150, height: 60 };
  }
}

/**
 * A key per edge, in the order of `flow.edges`: its id, or `from->to` (with `#2`, `#3`... for
 * repeats) for edges without one. Keys survive edits of other edges, unlike indexes.
 */
export function edgeKeys(edges: readonly FlowEdge[]): string[] {
  const seen = new Map<string, number>();
  const ids = new Set(edges.map((e) => e.id).filter((id): id is string => id !== undefined));
  return edges.map((e) => {
    let base = e.id ?? `${e.from}->${e.to}${e.errorHandler ? ':error' : ''}${e.case !== undefined ? `:${JSON.stringify(e.case)}` : ''}`;
    if (e.id === undefined && ids.has(base)) base = `~${base}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  });
}

export function edgeIndex(flow: Flow, key: string): number {
  return edgeKeys(flow.edges).indexOf(key);
}

/** `base`, or `base2`, `base3`... : the first that `taken` does not have. */
export function freshName(base: string, taken: (name: string) => boolean): string {
  if (!taken(base)) return base;
  for (let i = 2; ; i++) if (!taken(`${base}${i}`)) return `${base}${i}`;
}

/** `base1`, `base2`... : the first that `taken` does not have. */
export function numbered(base: string, taken: (name: string) => boolean): string {
  for (let i = 1; ; i++) if (!taken(`${base}${i}`)) return `${base}${i}`;
}

export function freshEdgeId(flow: Flow): string {
  const ids = new Set(flow.edges.map((e) => e.id));
  for (let i = 1; ; i++) if (!ids.has(`e${i}`)) return `e${i}`;
}

/** Room around a loop's body inside the loop's box (the header is on top). */
export const LOOP_PADDING = { top: 44, side: 20, bottom: 20 };

/**
 * The box of a loop: around its body's nodes (positions relative to the loop), at least the
 * size of a plain node.
 */
export function loopSize(flow: Flow, loopId: string, positionOf: (n: FlowNode) => XY): { width: number; height: number } {
  let width = 170;
  let height = 60;
  for (const n of flow.nodes) {
    if (n.parent !== loopId) continue;
    const p = positionOf(n);
    const size = n.type === 'loop' ? loopSize(flow, n.id, positionOf) : nodeSize(n);
    width = Math.max(width, p.x + size.width + LOOP_PADDING.side);
    height = Math.max(height, p.y + size.height + LOOP_PADDING.bottom);
  }
  return { width, height };
}

/**
 * Positions for the nodes that have none (or all, with `all`), from a dagre layout of the
 * whole flow, left to right. A loop's body is laid out inside it (a dagre cluster) and gets
 * positions relative to the loop, as the canvas draws them. Nodes that have a position keep it.
 *
 * @example
 * const auto = layoutMissing(flow); // { start: { x: 20, y: 40 }, ... } for nodes without `position`
 */
export function layoutMissing(flow: Flow, all = false): Record<string, XY> {
  const missing = flow.nodes.filter((n) => all || !n.position);
  if (missing.length === 0) return {};
  const ids = new Set(flow.nodes.map((n) => n.id));
  const g = new dagre.graphlib.Graph({ multigraph: true, compound: true });
  g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 60, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const loops = new Set(flow.nodes.filter((n) => n.type === 'loop' && flow.nodes.some((c) => c.parent === n.id)).map((n) => n.id));
  for (const n of flow.nodes) {
    // A loop with a body is a cluster: dagre sizes it around its children.
    g.setNode(n.id, loops.has(n.id) ? { paddingTop: LOOP_PADDING.top, paddingLeft: LOOP_PADDING.side, paddingRight: LOOP_PADDING.side, paddingBottom: LOOP_PADDING.bottom } : nodeSize(n));
  }
  for (const n of flow.nodes) if (n.parent && ids.has(n.parent) && loops.has(n.parent)) g.setParent(n.id, n.parent);
  flow.edges.forEach((e, i) => {
    if (ids.has(e.from) && ids.has(e.to) && !loops.has(e.from) && !loops.has(e.to)) g.setEdge(e.from, e.to, {}, String(i));
  });
  // Edges to and from a loop attach to its body's first node, so the loop sits in line.
  flow.edges.forEach((e, i) => {
    if (!ids.has(e.from) || !ids.has(e.to) || (!loops.has(e.from) && !loops.has(e.to))) return;
    const inside = (id: string, first: boolean) => {
      if (!loops.has(id)) return id;
      const body = flow.nodes.filter((n) => n.parent === id);
      const entry = body.find((n) => !flow.edges.some((x) => x.to === n.id)) ?? body[0];
      return first ? entry.id : (body.find((n) => !flow.edges.some((x) => x.from === n.id)) ?? body[body.length - 1]).id;
    };
    g.setEdge(inside(e.from, false), inside(e.to, true), {}, `l${i}`);
  });
  dagre.layout(g);
  const topLeft = (id: string): XY => {
    const p = g.node(id) as { x: number; y: number; width: number; height: number };
    // dagre gives centres; the canvas places nodes by their top-left corner.
    return { x: p.x - p.width / 2, y: p.y - p.height / 2 };
  };
  const out: Record<string, XY> = {};
  for (const n of missing) {
    const p = topLeft(n.id);
    const parent = n.parent && loops.has(n.parent) ? topLeft(n.parent) : { x: 0, y: 0 };
    out[n.id] = { x: Math.round(p.x - parent.x), y: Math.round(p.y - parent.y) };
  }
  return out;
}
