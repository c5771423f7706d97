import type { Expr } from '../expressions/ast.ts';
import { Types, type StaticType } from '../expressions/types.ts';
import type { DataType, Flow, FlowEdge, FlowNode, ReturnType } from '../format.ts';
import type { FlowProblem } from './FlowProblem.ts';
import type { ValidateFlowOptions } from './validateFlow.ts';

export interface NodeInfo {
  node: FlowNode;
  index: number;
}

export interface EdgeInfo {
  edge: FlowEdge;
  index: number;
}

export interface Declaration {
  path: string;
  nodeId?: string;
  type: () => StaticType;
}

/**
 * What the checks of one flow learn and report, shared by the steps of `validateFlow` (each a
 * module of this folder): later steps read the indexes earlier ones built.
 */
export class CheckState {
  readonly problems: FlowProblem[] = [];
  readonly nodes = new Map<string, NodeInfo>();
  readonly edges: EdgeInfo[] = [];
  /** Ids of nodes that failed to parse: edges to them are not reported again. */
  readonly unparsed = new Set<string>();
  /** Nodes with an outgoing edge that failed to parse or was refused: their edge counts are not reported. */
  readonly unparsedFrom = new Set<string>();
  structureBroken = false;
  parameters: Array<{ name: string; type: DataType; index: number }> = [];
  returnType: StaticType = Types.nothing;
  returnTypeData: ReturnType | undefined;
  start: string | undefined;
  readonly parentOf = new Map<string, string>();
  readonly normalOut = new Map<string, EdgeInfo[]>();
  readonly errorOut = new Map<string, EdgeInfo[]>();
  readonly caseOut = new Map<string, EdgeInfo[]>();
  readonly incoming = new Map<string, number>();
  readonly loops = new Map<string, { entry?: string; after?: string }>();
  /** Nodes reported for a missing outgoing edge: treated as path ends so the report does not cascade. */
  readonly deadEnds = new Set<string>();
  readonly declarations = new Map<string, Declaration>();
  readonly types = new Map<string, StaticType | 'resolving'>();
  /** Per node, the variables defined on every path to it (definite assignment). */
  readonly definedAt = new Map<string, Set<string>>();
  /** Parsed expressions by source text: each text is parsed once per flow. */
  readonly expressions = new Map<string, Expr>();
  readonly flowCache = new Map<string, { exists: boolean | undefined; flow?: Flow }>();
  readonly reachable = new Set<string>();

  constructor(readonly options: ValidateFlowOptions) {}

  add(path: string, message: string, nodeId?: string, position?: number): void {
    const p: FlowProblem = { path, message };
    if (nodeId !== undefined) p.nodeId = nodeId;
    if (position !== undefined) p.position = position;
    this.problems.push(p);
  }

  /** The path of a node (or of one of its fields) in the flow's JSON. */
  at(id: string, field?: string): string {
    const info = this.nodes.get(id)!;
    return `nodes[${info.index}]${field ? `.${field}` : ''}`;
  }

  nodeProblem(id: string, field: string | undefined, message: string, position?: number): void {
    this.add(this.at(id, field), message, id, position);
  }

  edgeProblem(e: EdgeInfo, field: string, message: string): void {
    this.add(`edges[${e.index}].${field}`, message, e.edge.from);
  }
}
