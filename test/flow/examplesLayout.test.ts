/**
 * The example flows open readably in the editor: no two boxes (at the sizes the editor draws
 * them) overlap or nearly touch, and a loop's body stays below the loop's header.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LOOP_PADDING, loopSize, nodeSize } from '../../editor/src/flow/graph.ts';
import type { Flow, FlowNode } from '../../src/flow/format.ts';
import { readFlowDirectory } from '../../src/flow/node/loadFlowFile.ts';

const flows = (await readFlowDirectory(fileURLToPath(new URL('../../flows', import.meta.url)))) as Record<string, Flow>;
/** Room for an edge and its arrow between two boxes. */
const GAP = 40;

interface Box {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

function boxesIn(flow: Flow, parent: string | undefined): Box[] {
  const positionOf = (n: FlowNode) => n.position ?? { x: 0, y: 0 };
  return flow.nodes
    .filter((n) => n.parent === parent)
    .map((n) => ({ id: n.id, ...positionOf(n), ...(n.type === 'loop' ? loopSize(flow, n.id, positionOf) : nodeSize(n)) }));
}

const apart = (a: Box, b: Box) =>
  a.x + a.width + GAP <= b.x || b.x + b.width + GAP <= a.x || a.y + a.height + GAP <= b.y || b.y + b.height + GAP <= a.y;

describe.each(Object.keys(flows))('example flow %s', (name) => {
  const flow = flows[name];

  it('gives every node a position', () => {
    expect(flow.nodes.filter((n) => !n.position).map((n) => n.id)).toEqual([]);
  });

  it('keeps its boxes apart, inside each loop too', () => {
    const crowded: string[] = [];
    for (const parent of [undefined, ...flow.nodes.filter((n) => n.type === 'loop').map((n) => n.id)]) {
      const boxes = boxesIn(flow, parent);
      boxes.forEach((a, i) => boxes.slice(i + 1).forEach((b) => !apart(a, b) && crowded.push(`${a.id} / ${b.id}`)));
    }
    expect(crowded).toEqual([]);
  });

  it("puts a loop's body below the loop's header", () => {
    const inside = flow.nodes.filter((n) => n.parent !== undefined);
    expect(inside.filter((n) => (n.position?.y ?? 0) < LOOP_PADDING.top || (n.position?.x ?? 0) < LOOP_PADDING.side / 2).map((n) => n.id)).toEqual([]);
  });
});
