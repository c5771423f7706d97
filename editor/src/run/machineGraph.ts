/**
 * A sync machine drawn from its XState definition: its top-level states (`machine.root.states`)
 * and the transitions between them (each state's `transitions`, the invoked actors' done and
 * error events included), laid out top to bottom with dagre. Plain data, so a store can keep it.
 */
import dagre from '@dagrejs/dagre';
import type { AnyStateMachine } from 'xstate';

export interface MachineGraphState {
  name: string;
  final: boolean;
  initial: boolean;
  /** Top-left corner and size, in the graph's coordinates. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface MachineGraphEdge {
  from: string;
  to: string;
  /** The events taking it, readable: `done: upload`, `error: upload`, `CANCEL`. */
  events: string[];
  /** The line to draw, from dagre. */
  points: Array<{ x: number; y: number }>;
}

export interface MachineGraph {
  id: string;
  states: MachineGraphState[];
  edges: MachineGraphEdge[];
  width: number;
  height: number;
}

interface StateNodeLike {
  key: string;
  type: string;
  transitions: Map<string, ReadonlyArray<{ target?: ReadonlyArray<{ key: string; path: readonly string[] }> }>>;
}

/** `xstate.done.actor.upload` -> `done: upload`. */
export function eventLabel(event: string): string {
  const m = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event);
  return m ? `${m[1]}: ${m[2]}` : event;
}

/** The top-level state of a snapshot's value (`"uploading"`, or `{ downloading: "Task" }` -> `"downloading"`). */
export function topState(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') return Object.keys(value)[0] ?? '';
  return String(value);
}

/** A snapshot's value as a path: `{ downloading: "Task" }` -> `downloading.Task`. */
export function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const [key] = Object.keys(value);
    if (key === undefined) return '';
    const inner = statePath((value as Record<string, unknown>)[key]);
    return inner ? `${key}.${inner}` : key;
  }
  return String(value);
}

const FONT_WIDTH = 6.4;
const cache = new Map<AnyStateMachine, MachineGraph>();

/**
 * @example
 * const graph = machineGraph(allObjectsMachine);
 * graph.states.map((s) => s.name); // ['uploading', 'downloading', 'downloadingFiles', 'done', 'failed', 'cancelled']
 */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const hit = cache.get(machine);
  if (hit) return hit;
  const root = machine.root as unknown as { states: Record<string, StateNodeLike>; initial?: { target?: ReadonlyArray<{ key: string }> } };
  const nodes = Object.values(root.states);
  const initial = new Set((root.initial?.target ?? []).map((t) => t.key));
  const names = new Set(nodes.map((n) => n.key));

  // One edge per pair of states, with every event that takes it.
  const pairs = new Map<string, { from: string; to: string; events: string[] }>();
  for (const node of nodes) {
    for (const [event, definitions] of node.transitions) {
      for (const definition of definitions) {
        for (const target of definition.target ?? []) {
          // A target inside another state is drawn to its top-level state.
          const to = target.path[0] ?? target.key;
          if (!names.has(to) || to === node.key) continue;
          const key = `${node.key}->${to}`;
          const pair = pairs.get(key) ?? { from: node.key, to, events: [] };
          if (!pair.events.includes(eventLabel(event))) pair.events.push(eventLabel(event));
          pairs.set(key, pair);
        }
      }
    }
  }

  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: 'TB', nodesep: 8, ranksep: 16, edgesep: 4, marginx: 2, marginy: 2 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.key, { width: Math.ceil(n.key.length * FONT_WIDTH + 18), height: 20 });
  for (const p of pairs.values()) {
    // The way forward (an actor done) weighs most: it is the straight line down the middle.
    const forward = p.events.some((e) => e.startsWith('done:'));
    g.setEdge(p.from, p.to, { weight: forward ? 4 : 1, minlen: 1 });
  }
  dagre.layout(g);

  const states = nodes.map((n): MachineGraphState => {
    const p = g.node(n.key) as { x: number; y: number; width: number; height: number };
    return { name: n.key, final: n.type === 'final', initial: initial.has(n.key), x: p.x - p.width / 2, y: p.y - p.height / 2, width: p.width, height: p.height };
  });
  const edges = [...pairs.values()].map((p): MachineGraphEdge => {
    const e = g.edge(p.from, p.to) as { points?: Array<{ x: number; y: number }> };
    return { ...p, points: (e.points ?? []).map(({ x, y }) => ({ x, y })) };
  });
  const graph = g.graph() as { width?: number; height?: number };
  const result: MachineGraph = { id: machine.id, states, edges, width: Math.ceil(graph.width ?? 0), height: Math.ceil(graph.height ?? 0) };
  cache.set(machine, result);
  return result;
}
