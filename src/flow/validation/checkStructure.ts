import type { CheckState, EdgeInfo } from './CheckState.ts';

const an = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

/**
 * The graph's shape: loops and their bodies, one start node, edges that connect known nodes
 * within one scope, and the right number of outgoing edges per node kind. Builds the edge
 * indexes (normal, error-handler, case) the later checks walk.
 */
export function checkStructure(s: CheckState): void {
  checkParentsAndStart(s);
  indexEdges(s);
  checkOutgoing(s);
}

/** Each node's loop exists and is a loop, loops do not contain each other, and there is one start node outside every loop. */
function checkParentsAndStart(s: CheckState): void {
  for (const [id, { node }] of s.nodes) {
    if (node.parent === undefined) continue;
    const parent = s.nodes.get(node.parent);
    if (!parent) {
      if (!s.unparsed.has(node.parent)) s.nodeProblem(id, 'parent', `unknown loop "${node.parent}"`);
    } else if (parent.node.type !== 'loop') {
      s.nodeProblem(id, 'parent', `"${node.parent}" is ${an(parent.node.type)} node, not a loop`);
    } else {
      s.parentOf.set(id, node.parent);
    }
  }
  // A loop inside itself (directly or through others) has no outside to start from.
  for (const id of [...s.parentOf.keys()]) {
    const seen = new Set<string>([id]);
    for (let p = s.parentOf.get(id); p !== undefined; p = s.parentOf.get(p)) {
      if (seen.has(p)) {
        if (p === id) s.nodeProblem(id, 'parent', 'loops cannot contain each other');
        s.parentOf.delete(id);
        s.structureBroken = true;
        break;
      }
      seen.add(p);
    }
  }
  const starts = [...s.nodes.values()].filter((n) => n.node.type === 'start');
  if (starts.length === 0) {
    if (!s.structureBroken) s.add('nodes', 'a flow needs a start node');
    return;
  }
  for (const extra of starts.slice(1)) {
    s.nodeProblem(extra.node.id, undefined, `a flow has one start node ("${starts[0].node.id}" is the start)`);
  }
  const start = starts[0].node;
  if (start.parent !== undefined) s.nodeProblem(start.id, 'parent', 'the start node cannot be inside a loop');
  else if (starts.length === 1) s.start = start.id;
}

/** Each edge joins known nodes in one scope and fits its source's kind; the sound ones are indexed by kind. */
function indexEdges(s: CheckState): void {
  const push = (map: Map<string, EdgeInfo[]>, id: string, e: EdgeInfo) => {
    const list = map.get(id);
    if (list) list.push(e);
    else map.set(id, [e]);
  };
  for (const e of s.edges) {
    const { edge } = e;
    const from = s.nodes.get(edge.from);
    const to = s.nodes.get(edge.to);
    if (!from && !s.unparsed.has(edge.from)) s.edgeProblem(e, 'from', `unknown node "${edge.from}"`);
    if (!to && !s.unparsed.has(edge.to)) s.edgeProblem(e, 'to', `unknown node "${edge.to}"`);
    if (!from || !to) {
      s.structureBroken = true;
      s.unparsedFrom.add(edge.from);
      continue;
    }
    let ok = true;
    const scopeOf = (id: string) => s.parentOf.get(id);
    if (scopeOf(edge.from) !== scopeOf(edge.to)) {
      const where = (id: string) => (scopeOf(id) ? `inside loop "${scopeOf(id)}"` : 'outside every loop');
      s.edgeProblem(e, 'to', `an edge cannot cross a loop's border ("${edge.from}" is ${where(edge.from)}, "${edge.to}" is ${where(edge.to)})`);
      ok = false;
    }
    if (to.node.type === 'start') {
      s.edgeProblem(e, 'to', 'no edge leads into the start node');
      ok = false;
    }
    if (from.node.type === 'end' || from.node.type === 'break' || from.node.type === 'continue') {
      s.edgeProblem(e, 'from', `${an(from.node.type)} node has no outgoing edges`);
      ok = false;
    }
    if (edge.errorHandler && from.node.type !== 'activity') {
      s.edgeProblem(e, 'errorHandler', 'only an activity has an error-handler edge');
      ok = false;
    }
    if (edge.case !== undefined && from.node.type !== 'decision') {
      s.edgeProblem(e, 'case', 'only the edges of a decision have a case value');
      ok = false;
    }
    if (from.node.type === 'decision' && edge.case === undefined) {
      s.edgeProblem(e, 'case', 'an edge from a decision needs a case value (true / false, an enumeration value, or null for empty)');
      ok = false;
    }
    if (!ok) {
      // Reported once, here: the node's edge counts would only repeat it.
      s.structureBroken = true;
      s.unparsedFrom.add(edge.from);
      continue;
    }
    s.incoming.set(edge.to, (s.incoming.get(edge.to) ?? 0) + 1);
    if (edge.errorHandler) push(s.errorOut, edge.from, e);
    else if (from.node.type === 'decision') push(s.caseOut, edge.from, e);
    else push(s.normalOut, edge.from, e);
  }
}

/** Each node has the outgoing edges its kind needs; each loop's body has one first step. */
function checkOutgoing(s: CheckState): void {
  const bodies = new Map<string, string[]>();
  for (const [id, loop] of s.parentOf) {
    const body = bodies.get(loop);
    if (body) body.push(id);
    else bodies.set(loop, [id]);
  }
  for (const [id, { node }] of s.nodes) {
    if (s.unparsedFrom.has(id)) continue;
    const normal = s.normalOut.get(id) ?? [];
    const errors = s.errorOut.get(id) ?? [];
    const inLoop = s.parentOf.has(id);
    const one = (what: string) => {
      if (normal.length > 1) {
        s.nodeProblem(id, undefined, `has ${normal.length} outgoing edges: ${what} has one`);
      } else if (normal.length === 0 && !inLoop) {
        s.nodeProblem(id, undefined, 'has no outgoing edge: every path must reach an end node');
        s.deadEnds.add(id);
      }
    };
    switch (node.type) {
      case 'start':
        if (normal.length !== 1) {
          s.nodeProblem(id, undefined, normal.length ? `has ${normal.length} outgoing edges: the start node has one` : 'the start node needs an outgoing edge');
          if (!normal.length) s.deadEnds.add(id);
        }
        break;
      case 'activity': {
        one('an activity');
        const custom = node.errorHandling === 'customWithRollback' || node.errorHandling === 'customWithoutRollback';
        if (custom && errors.length === 0) {
          s.nodeProblem(id, 'errorHandling', `${node.errorHandling} needs an error-handler edge (an edge with "errorHandler": true)`);
        } else if (!custom) {
          for (const e of errors) {
            s.edgeProblem(e, 'errorHandler', `the activity's error handling is ${node.errorHandling ?? 'abort'}: only custom error handling takes an error-handler edge`);
          }
        } else if (errors.length > 1) {
          s.nodeProblem(id, undefined, `has ${errors.length} error-handler edges: one is expected`);
        }
        break;
      }
      case 'decision':
        if ((s.caseOut.get(id) ?? []).length === 0) {
          s.nodeProblem(id, undefined, 'a decision needs outgoing edges with case values');
          s.deadEnds.add(id);
        }
        break;
      case 'merge':
        one('a merge');
        break;
      case 'loop': {
        if (normal.length > 1) s.nodeProblem(id, undefined, `has ${normal.length} outgoing edges: a loop has one (to what follows it)`);
        else if (normal.length === 0 && !inLoop) {
          s.nodeProblem(id, undefined, 'has no outgoing edge to what follows the loop');
          s.deadEnds.add(id);
        }
        const body = bodies.get(id) ?? [];
        const entries = body.filter((n) => !s.incoming.get(n));
        if (body.length === 0) s.nodeProblem(id, undefined, `the loop's body is empty (its nodes have "parent": "${id}")`);
        else if (entries.length !== 1) {
          s.nodeProblem(
            id,
            undefined,
            entries.length
              ? `the loop's body has ${entries.length} nodes without incoming edges (${entries.join(', ')}): one of them is its first step`
              : "the loop's body needs a first step: a node without incoming edges",
          );
        }
        s.loops.set(id, { entry: entries.length === 1 ? entries[0] : undefined, after: normal[0]?.edge.to });
        break;
      }
      case 'break':
      case 'continue':
        if (!inLoop && node.parent === undefined) s.nodeProblem(id, undefined, `a ${node.type} node must be inside a loop (set "parent")`);
        break;
      case 'end':
        break;
    }
  }
}

