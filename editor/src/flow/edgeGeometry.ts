/**
 * Where edges run on the canvas, as straight lines from a node's outgoing side to the next node's
 * incoming side (near enough to xyflow's curves to tell what lies on a line): the palette places
 * clicked nodes off them, and a node dropped onto one is inserted into it.
 */
import type { Flow, FlowNode } from '../../../src/flow/format.ts';
import { edgeKeys, nodeSize, type XY } from './graph.ts';

export interface Segment {
  key: string;
  a: XY;
  b: XY;
}

/** Top-level edges as segments (a loop's body lies inside its loop, in the loop's coordinates). */
export function edgeSegments(flow: Flow, positionOf: (n: FlowNode) => XY): Segment[] {
  const nodes = new Map(flow.nodes.map((n) => [n.id, n]));
  const keys = edgeKeys(flow.edges);
  const out: Segment[] = [];
  flow.edges.forEach((e, i) => {
    const from = nodes.get(e.from);
    const to = nodes.get(e.to);
    if (!from || !to || from.parent || to.parent) return;
    const [pf, pt, sf, st] = [positionOf(from), positionOf(to), nodeSize(from), nodeSize(to)];
    const a = e.errorHandler ? { x: pf.x + sf.width / 2, y: pf.y + sf.height } : { x: pf.x + sf.width, y: pf.y + sf.height / 2 };
    out.push({ key: keys[i], a, b: { x: pt.x, y: pt.y + st.height / 2 } });
  });
  return out;
}

/** The distance from a point to a segment. */
export function distanceToSegment(p: XY, a: XY, b: XY): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length2 = dx * dx + dy * dy;
  const t = length2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / length2));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

/** Does a segment cross (or touch) a rectangle grown by `margin`? */
export function segmentCrossesRect(s: Segment, r: { x: number; y: number; width: number; height: number }, margin = 10): boolean {
  const [x0, y0, x1, y1] = [r.x - margin, r.y - margin, r.x + r.width + margin, r.y + r.height + margin];
  // Sampled along the line: exact enough at canvas scale, and simple.
  const steps = Math.max(1, Math.ceil(Math.hypot(s.b.x - s.a.x, s.b.y - s.a.y) / 8));
  for (let i = 0; i <= steps; i++) {
    const x = s.a.x + ((s.b.x - s.a.x) * i) / steps;
    const y = s.a.y + ((s.b.y - s.a.y) * i) / steps;
    if (x >= x0 && x <= x1 && y >= y0 && y <= y1) return true;
  }
  return false;
}

/** The edge nearest a point, within `tolerance` flow units; null when none is that near. */
export function edgeNear(segments: readonly Segment[], p: XY, tolerance = 24): string | null {
  let best: { key: string; d: number } | null = null;
  for (const s of segments) {
    const d = distanceToSegment(p, s.a, s.b);
    if (d <= tolerance && (!best || d < best.d)) best = { key: s.key, d };
  }
  return best?.key ?? null;
}
