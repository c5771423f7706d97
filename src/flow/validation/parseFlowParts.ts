import { z } from 'zod';
import { fromDataType, Types } from '../expressions/types.ts';
import { edgeSchema, flowSchema, nodeSchema } from '../format.ts';
import type { CheckState } from './CheckState.ts';
import { isRecord } from './isRecord.ts';
import { formatPath, issueProblems } from './issueProblems.ts';
import { MAX_NODE_DEPTH, tooDeep } from './tooDeep.ts';

// Nodes and edges are parsed one by one, so one bad node does not hide the problems of the others.
const headerSchema = flowSchema.extend({ nodes: z.array(z.unknown()), edges: z.array(z.unknown()) });

/**
 * Parses a flow's header, parameters, nodes and edges (zod) into the state, reporting each part
 * that does not parse; a node or edge that does not parse marks the structure broken.
 */
export function parseFlowParts(s: CheckState, input: Record<string, unknown>): void {
  const header = headerSchema.safeParse(input);
  if (!header.success) {
    for (const p of issueProblems(header.error.issues)) s.add(formatPath('', p.path), p.message);
  }
  const params = Array.isArray(input.parameters) ? input.parameters : [];
  params.forEach((raw, index) => {
    const p = flowSchema.shape.parameters.unwrap().element.safeParse(raw);
    if (p.success) s.parameters.push({ ...p.data, index });
  });
  const rt = flowSchema.shape.returnType.safeParse(input.returnType);
  s.returnTypeData = rt.success ? rt.data : undefined;
  s.returnType = rt.success && rt.data ? fromDataType(rt.data) : rt.success ? Types.nothing : Types.unknown;

  const rawNodes = Array.isArray(input.nodes) ? input.nodes : [];
  rawNodes.forEach((raw, index) => {
    const id = isRecord(raw) && typeof raw.id === 'string' ? raw.id : undefined;
    const deep = tooDeep(raw, MAX_NODE_DEPTH);
    if (deep) {
      s.structureBroken = true;
      if (id !== undefined) s.unparsed.add(id);
      s.add(formatPath(`nodes[${index}]`, deep), `nests more than ${MAX_NODE_DEPTH} levels deep`, id);
      return;
    }
    const parsed = nodeSchema.safeParse(raw);
    if (!parsed.success) {
      s.structureBroken = true;
      if (id !== undefined) s.unparsed.add(id);
      for (const p of issueProblems(parsed.error.issues)) s.add(formatPath(`nodes[${index}]`, p.path), p.message, id);
      return;
    }
    const node = parsed.data;
    if (s.nodes.has(node.id)) {
      s.structureBroken = true;
      s.add(`nodes[${index}].id`, `duplicate node id "${node.id}" (also nodes[${s.nodes.get(node.id)!.index}])`, node.id);
      return;
    }
    s.nodes.set(node.id, { node, index });
  });
  const rawEdges = Array.isArray(input.edges) ? input.edges : [];
  const edgeIds = new Map<string, number>();
  rawEdges.forEach((raw, index) => {
    const parsed = edgeSchema.safeParse(raw);
    if (!parsed.success) {
      s.structureBroken = true;
      const from = isRecord(raw) && typeof raw.from === 'string' ? raw.from : undefined;
      if (from !== undefined) s.unparsedFrom.add(from);
      for (const p of issueProblems(parsed.error.issues)) s.add(formatPath(`edges[${index}]`, p.path), p.message, from);
      return;
    }
    const edge = parsed.data;
    if (edge.id !== undefined) {
      if (edgeIds.has(edge.id)) s.add(`edges[${index}].id`, `duplicate edge id "${edge.id}" (also edges[${edgeIds.get(edge.id)}])`, edge.from);
      else edgeIds.set(edge.id, index);
    }
    s.edges.push({ edge, index });
  });
}
