/**
 * The canvas: the open flow drawn with @xyflow/react. The store owns the flow; the canvas
 * keeps only what xyflow needs between renders (measured sizes, positions while dragging) and
 * reports selections, finished drags and new edges back to the store.
 */
import {
  applyNodeChanges,
  Background,
  Controls,
  MarkerType,
  ReactFlow,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
  type NodePositionChange,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useState, type DragEvent } from 'react';
import type { Flow, FlowNode } from '../../../src/flow/format.ts';
import { edgeNear, edgeSegments, segmentCrossesRect } from '../flow/edgeGeometry.ts';
import { edgeKeys, loopSize, nodeSize, type XY } from '../flow/graph.ts';
import type { RunState } from '../run/runStore.ts';
import { useRun } from '../run/useRun.ts';
import { NOTE, validationOf, type NewNodeSpec } from '../store/editorStore.ts';
import { useEditor, useEditorStore } from '../store/useEditor.ts';
import { FlowNodeView, NoteView, type CanvasNode } from './FlowNodeView.tsx';

const nodeTypes = { flow: FlowNodeView, note: NoteView };
const NO_RUN: RunState['nodeStates'] = {};
const FIT = { padding: 0.15, maxZoom: 1.1 };
export const PALETTE_MIME = 'application/x-syncflow-node';

/**
 * Parents before children, as xyflow wants them; within that, in the order the flow runs (from
 * the start, along its edges): Tab goes through the nodes as the flow does.
 */
function byDepth(flow: Flow): FlowNode[] {
  const depth = (n: FlowNode, seen = new Set<string>()): number => {
    if (!n.parent || seen.has(n.id)) return 0;
    seen.add(n.id);
    const parent = flow.nodes.find((p) => p.id === n.parent);
    return parent ? depth(parent, seen) + 1 : 0;
  };
  const rank = new Map<string, number>();
  const start = flow.nodes.find((n) => n.type === 'start');
  const queue = start ? [start.id] : [];
  for (let i = 0; i < queue.length; i++) {
    if (rank.has(queue[i])) continue;
    rank.set(queue[i], rank.size);
    for (const e of flow.edges) if (e.from === queue[i] && !rank.has(e.to)) queue.push(e.to);
  }
  const order = (n: FlowNode) => rank.get(n.id) ?? Number.MAX_SAFE_INTEGER;
  return [...flow.nodes].sort((a, b) => depth(a) - depth(b) || order(a) - order(b));
}

export function Canvas() {
  const store = useEditorStore();
  const flow = useEditor((s) => s.flow);
  const currentId = useEditor((s) => s.currentId);
  const autoPositions = useEditor((s) => s.autoPositions);
  const selection = useEditor((s) => s.selection);
  const validation = useEditor((s) => validationOf(s));
  // The last run's path is lit only while the flow is as it ran: an edit makes it stale.
  const runStates = useRun((s) => (flow && s.ranFlow === flow ? s.nodeStates : NO_RUN));
  const breakpoints = useRun((s) => s.breakpoints);
  const pausedAt = useRun((s) => (flow && s.paused?.flow === flow.name ? s.paused.nodeId : null));
  const [nodes, setNodes] = useState<CanvasNode[]>([]);
  // Which flow `nodes` were made for: a newly opened flow is drawn (and fitted) once its nodes exist.
  const [nodesOf, setNodesOf] = useState<string | null>(null);
  const { screenToFlowPosition, getInternalNode, getZoom, setCenter } = useReactFlow();

  // A node selected elsewhere (added from the palette, picked in the Problems list) that lies
  // outside the view is brought into it.
  const selectedNode = selection.nodes.length === 1 ? selection.nodes[0] : null;
  useEffect(() => {
    const node = selectedNode ? store.getState().flow?.nodes.find((n) => n.id === selectedNode) : undefined;
    const pane = document.querySelector('.canvas .react-flow')?.getBoundingClientRect();
    if (!node || !pane) return;
    const internal = getInternalNode(node.id);
    const at = internal?.internals.positionAbsolute ?? node.position ?? store.getState().autoPositions[node.id];
    if (!at) return;
    const size = internal?.measured.width ? { width: internal.measured.width, height: internal.measured.height ?? 0 } : nodeSize(node);
    const centre = { x: at.x + size.width / 2, y: at.y + size.height / 2 };
    const topLeft = screenToFlowPosition({ x: pane.left, y: pane.top });
    const bottomRight = screenToFlowPosition({ x: pane.right, y: pane.bottom });
    if (centre.x < topLeft.x || centre.y < topLeft.y || centre.x > bottomRight.x || centre.y > bottomRight.y) {
      void setCenter(centre.x, centre.y, { zoom: getZoom(), duration: 200 });
    }
  }, [selectedNode, store, getInternalNode, getZoom, setCenter, screenToFlowPosition]);

  // The flow drawn as xyflow nodes; sizes measured earlier and positions mid-drag are kept.
  useEffect(() => {
    setNodesOf(currentId);
    if (!flow) {
      setNodes([]);
      return;
    }
    const ids = new Set(flow.nodes.map((n) => n.id));
    const positionOf = (n: FlowNode): XY => n.position ?? autoPositions[n.id] ?? { x: 0, y: 0 };
    setNodes((previous) => {
      const before = new Map(previous.map((n) => [n.id, n]));
      return byDepth(flow).map((n): CanvasNode => {
        const old = before.get(n.id);
        const parentId = n.parent && ids.has(n.parent) && flow.nodes.find((p) => p.id === n.parent)?.type === 'loop' ? n.parent : undefined;
        const size = n.type === 'loop' ? loopSize(flow, n.id, positionOf) : undefined;
        return {
          id: n.id,
          type: 'flow',
          position: old?.dragging ? old.position : positionOf(n),
          ...(parentId ? { parentId } : {}),
          data: {
            node: n,
            problems: validation?.byNode.get(n.id) ?? [],
            run: runStates[n.id],
            breakpoint: breakpoints.includes(n.id),
            paused: pausedAt === n.id,
            ...(size ? { size } : {}),
          },
          selected: selection.nodes.includes(n.id),
          ...(old?.measured && !size ? { measured: old.measured } : {}),
          ...(size ? { width: size.width, height: size.height } : {}),
          dragging: old?.dragging,
        };
      }).concat(
        // Annotations: notes on the canvas, drawn behind nothing and connected to nothing.
        (flow.annotations ?? []).map((a) => {
          const id = `${NOTE}${a.id}`;
          const old = before.get(id);
          return {
            id,
            type: 'note',
            position: old?.dragging ? old.position : (a.position ?? { x: 0, y: 0 }),
            data: { id: a.id, text: a.text },
            selected: selection.nodes.includes(id),
            connectable: false,
            ...(old?.measured ? { measured: old.measured } : {}),
            dragging: old?.dragging,
          } as unknown as CanvasNode;
        }),
      );
    });
  }, [flow, currentId, autoPositions, selection, validation, runStates, breakpoints, pausedAt]);

  const edges = useMemo((): Edge[] => {
    if (!flow) return [];
    const keys = edgeKeys(flow.edges);
    const ids = new Set(flow.nodes.map((n) => n.id));
    const activities = new Set(flow.nodes.filter((n) => n.type === 'activity').map((n) => n.id));
    const positionOf = (id: string) => {
      const n = flow.nodes.find((x) => x.id === id);
      return n ? { ...(n.position ?? autoPositions[id] ?? { x: 0, y: 0 }), ...nodeSize(n) } : null;
    };
    /** Is `to` wholly below `from` (and not beside it), where a line straight down reaches its top? */
    const below = (from: string, to: string) => {
      const [a, b] = [positionOf(from), positionOf(to)];
      return Boolean(a && b && b.y >= a.y + a.height + 20 && b.x < a.x + a.width / 2 + 40 && b.x + b.width > a.x + a.width / 2 - 40);
    };
    const problemEdges = new Set((validation?.problems ?? []).map((p) => /^edges\[(\d+)\]/.exec(p.path)?.[1]).filter(Boolean).map(Number));
    return flow.edges.flatMap((e, i): Edge[] => {
      if (!ids.has(e.from) || !ids.has(e.to)) return [];
      const error = e.errorHandler === true;
      const label = error ? 'error' : e.case !== undefined ? (e.case === null ? 'empty' : String(e.case)) : undefined;
      return [
        {
          id: keys[i],
          source: e.from,
          target: e.to,
          sourceHandle: error && activities.has(e.from) ? 'error' : 'out',
          // From the bottom handle an error edge goes down: into the top of a node below it, else a
          // stepped line across (a bezier into the left side curled back under its own node).
          ...(error ? { type: 'smoothstep' } : {}),
          targetHandle: error && below(e.from, e.to) ? 'in-top' : 'in',
          label,
          selected: selection.edges.includes(keys[i]),
          markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18 },
          className: [error ? 'edge-error' : '', problemEdges.has(i) ? 'edge-problem' : ''].filter(Boolean).join(' ') || undefined,
        },
      ];
    });
  }, [flow, selection, validation, autoPositions]);

  const onNodesChange = useCallback(
    (changes: NodeChange<CanvasNode>[]) => {
      const local = changes.filter((c) => c.type === 'position' || c.type === 'dimensions');
      if (local.length) setNodes((ns) => applyNodeChanges(local, ns));
      // A move that has ended (the arrow keys move selected nodes too) is an edit of the flow.
      const moved = changes.filter((c): c is NodePositionChange & { position: XY } => c.type === 'position' && c.dragging === false && c.position !== undefined);
      if (moved.length) store.getState().moveNodes(Object.fromEntries(moved.map((c) => [c.id, c.position])));
      const selects = changes.filter((c) => c.type === 'select');
      if (selects.length) {
        const current = new Set(store.getState().selection.nodes);
        for (const c of selects) {
          if (c.selected) current.add(c.id);
          else current.delete(c.id);
        }
        store.getState().select({ nodes: [...current] });
      }
    },
    [store],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      const selects = changes.filter((c) => c.type === 'select');
      if (!selects.length) return;
      const current = new Set(store.getState().selection.edges);
      for (const c of selects) {
        if (c.selected) current.add(c.id);
        else current.delete(c.id);
      }
      store.getState().select({ edges: [...current] });
    },
    [store],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      if (c.source && c.target) store.getState().connect(c.source, c.target, { errorHandler: c.sourceHandle === 'error' });
    },
    [store],
  );

  const onNodeDragStop = useCallback(
    (_: unknown, _node: CanvasNode, dragged: CanvasNode[]) => {
      store.getState().moveNodes(Object.fromEntries(dragged.map((n) => [n.id, n.position])));
    },
    [store],
  );

  const onDrop = useCallback(
    (e: DragEvent) => {
      const raw = e.dataTransfer.getData(PALETTE_MIME);
      if (!raw) return;
      e.preventDefault();
      const spec = JSON.parse(raw) as NewNodeSpec;
      const p = screenToFlowPosition({ x: e.clientX, y: e.clientY });
      const { flow: current, autoPositions: auto } = store.getState();
      // Dropped onto an edge: inserted into it (connected both ways), as the line suggests.
      const onEdge = current && spec.type !== 'start' && spec.type !== 'end' ? edgeNear(edgeSegments(current, (n) => n.position ?? auto[n.id] ?? { x: 0, y: 0 }), p) : null;
      if (onEdge) store.getState().insertNode(spec, { x: p.x - 75, y: p.y - 30 }, onEdge);
      else store.getState().addNode(spec, { x: p.x - 75, y: p.y - 30 });
    },
    [store, screenToFlowPosition],
  );

  if (!flow) return <div className="canvas-empty">No flow open.</div>;
  if (nodesOf !== currentId) return null;
  return (
    <ReactFlow<CanvasNode>
      // A flow of its own per opened flow: fitted into view once its nodes are measured, before they show.
      key={currentId}
      fitView
      fitViewOptions={FIT}
      nodes={nodes}
      edges={edges}
      nodeTypes={nodeTypes}
      onNodesChange={onNodesChange}
      onEdgesChange={onEdgesChange}
      onConnect={onConnect}
      onNodeDragStop={onNodeDragStop}
      onDrop={onDrop}
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      }}
      isValidConnection={(c) => c.source !== c.target && flow.nodes.find((n) => n.id === c.target)?.type !== 'start'}
      deleteKeyCode={null}
      minZoom={0.2}
      maxZoom={2}
      proOptions={{ hideAttribution: true }}
      data-testid="canvas"
    >
      <Background gap={20} size={1} />
      <Controls showInteractive={false} />
    </ReactFlow>
  );
}

/**
 * Where a node added from the palette goes: the free spot nearest the middle of the view,
 * inside the view (away from its borders, where dragging pans the canvas).
 */
export function usePlacement(): () => XY {
  const { screenToFlowPosition } = useReactFlow();
  const store = useEditorStore();
  return () => {
    const pane = document.querySelector('.react-flow')?.getBoundingClientRect();
    const { flow, autoPositions } = store.getState();
    const centre = pane ? screenToFlowPosition({ x: pane.left + pane.width / 2, y: pane.top + pane.height / 2 }) : { x: 0, y: 0 };
    const margin = 60;
    const topLeft = pane ? screenToFlowPosition({ x: pane.left + margin, y: pane.top + margin }) : null;
    const bottomRight = pane ? screenToFlowPosition({ x: pane.right - margin, y: pane.bottom - margin }) : null;
    const size = { width: 150, height: 60 };
    // Room under each node for its problem line.
    const taken = (flow?.nodes ?? [])
      .filter((n) => !n.parent)
      .map((n) => ({ p: n.position ?? autoPositions[n.id] ?? { x: 0, y: 0 }, s: { width: nodeSize(n).width, height: nodeSize(n).height + 18 } }));
    // Off the edges too: a node on a line looks inserted, and is not.
    const lines = flow ? edgeSegments(flow, (n) => n.position ?? autoPositions[n.id] ?? { x: 0, y: 0 }) : [];
    const free = (x: number, y: number) =>
      !taken.some(({ p, s }) => x < p.x + s.width + 20 && x + size.width + 20 > p.x && y < p.y + s.height + 20 && y + size.height + 20 > p.y) &&
      !lines.some((line) => segmentCrossesRect(line, { x, y, ...size }));
    const visible = (x: number, y: number) => !topLeft || !bottomRight || (x >= topLeft.x && y >= topLeft.y && x + size.width <= bottomRight.x && y + size.height <= bottomRight.y);
    const start = { x: Math.round(centre.x - size.width / 2), y: Math.round(centre.y - size.height / 2) };
    const spots: XY[] = [];
    for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) spots.push({ x: start.x + dx * 190, y: start.y + dy * 100 });
    spots.sort((a, b) => Math.hypot(a.x - start.x, (a.y - start.y) * 1.5) - Math.hypot(b.x - start.x, (b.y - start.y) * 1.5));
    return spots.find((p) => free(p.x, p.y) && visible(p.x, p.y)) ?? spots.find((p) => free(p.x, p.y)) ?? start;
  };
}
