/**
 * Loads a flow: checks its structure (zod) and its meaning (one start, every path reaches an
 * end, no dangling edges, variables defined before use, types where known), reports every
 * problem with the node id and the field, and compiles the flow for the interpreter (expressions
 * parsed once, edges indexed). An invalid flow never starts.
 */
import { z } from 'zod';
import { ExpressionError, FlowValidationError, type Problem } from '../errors.ts';
import type { Schema } from '../model/schema.ts';
import { ACTIVITIES } from './activities/index.ts';
import type { CheckContext, DeclareContext, ExpressionOptions } from './activities/ActivityKind.ts';
import type { Expr } from './expressions/ast.ts';
import { parseExpression } from './expressions/parseExpression.ts';
import { typecheck, type TypeEnv } from './expressions/typecheck.ts';
import {
  describeType,
  ERROR_ENTITY,
  fromDataType,
  isAssignable,
  isBuiltinEntity,
  Types,
  type StaticType,
} from './expressions/types.ts';
import {
  edgeSchema,
  flowSchema,
  nodeSchema,
  type DataType,
  type Flow,
  type FlowEdge,
  type FlowNode,
  type NodeOf,
  type ReturnType,
} from './format.ts';

/** A problem of a flow: the field's path (`nodes[3].activity.values.title`), the node, and for expressions the offset. */
export interface FlowProblem extends Problem {
  nodeId?: string;
  /** 0-based offset in the expression, for expression problems. */
  position?: number;
}

export interface ValidateFlowOptions {
  schema: Schema;
  /** Finds the flows a Call flow activity names; without it, calls are checked when they run. */
  resolveFlow?: (name: string) => unknown;
  /** The app's sync profile names; without them, a Run profile's name is checked when it runs. */
  profiles?: readonly string[];
}

export interface DecisionCase {
  value: boolean | string | null;
  to: string;
}

/** A validated flow, ready to run: the definition plus indexes and parsed expressions. */
export interface CompiledFlow {
  readonly definition: Flow;
  readonly name: string;
  readonly start: string;
  readonly nodes: ReadonlyMap<string, FlowNode>;
  /** The normal next node; absent where a path ends (end node, or the end of a loop iteration). */
  readonly next: ReadonlyMap<string, string>;
  /** The error-handler edge's target (custom error handling). */
  readonly errorNext: ReadonlyMap<string, string>;
  readonly cases: ReadonlyMap<string, readonly DecisionCase[]>;
  /** Per loop: the body's first node and the node after the loop (absent at the end of an outer loop's body). */
  readonly loops: ReadonlyMap<string, { entry: string; after?: string }>;
  /** The loop a node is inside of. */
  readonly parentOf: ReadonlyMap<string, string>;
  /** Every variable's declared type (parameters, outputs, iterators). */
  readonly variables: ReadonlyMap<string, StaticType>;
  readonly parameters: ReadonlyArray<{ name: string; type: StaticType }>;
  readonly returnType: StaticType;
  /** Every expression of the flow, parsed: source text -> AST. */
  readonly expressions: ReadonlyMap<string, Expr>;
  /** The variables each activity node defines (set to empty when its error handling is continue). */
  readonly outputs: ReadonlyMap<string, readonly string[]>;
}

const compiledFlows = new WeakSet<object>();

/**
 * Whether a value is a flow compiled by `validateFlow` / `loadFlow`.
 *
 * @example
 * const flow = isCompiledFlow(input) ? input : loadFlow(input, { schema });
 */
export function isCompiledFlow(value: unknown): value is CompiledFlow {
  return typeof value === 'object' && value !== null && compiledFlows.has(value);
}

/** Variables every flow has; no flow may declare them. */
const LATEST_ERROR = 'latestError';
const RESERVED = new Set([LATEST_ERROR, 'currentObject']);

/**
 * Validates a flow (parsed JSON) and compiles it. `flow` is set only when there is no problem.
 *
 * @example
 * const { flow, problems } = validateFlow(JSON.parse(text), { schema: demoSchema });
 * for (const p of problems) console.log(p.nodeId, p.path, p.message);
 */
export function validateFlow(input: unknown, options: ValidateFlowOptions): { flow?: CompiledFlow; problems: FlowProblem[] } {
  const checker = new FlowChecker(options);
  try {
    return checker.check(input);
  } catch (e) {
    // Never thrown for a flow the checks know (the property tests assert it); a last guard for what
    // they do not (a getter that throws, a Proxy), so a caller always gets problems, never a crash.
    const message = e instanceof Error ? e.message : String(e);
    return { problems: [...checker.problemsSoFar(), { path: '', message: `the flow could not be checked: ${message}` }] };
  }
}

/** How deep a node's JSON may nest (a Retrieve's constraints nest); deeper input would exhaust the stack of the checks. */
export const MAX_NODE_DEPTH = 64;

/** The path to the first value nested deeper than `max` levels, or undefined. Iterative: any depth costs no stack. */
function tooDeep(value: unknown, max: number): PropertyKey[] | undefined {
  const stack: Array<{ v: unknown; path: PropertyKey[] }> = [{ v: value, path: [] }];
  // Each object once: a value built in code may share (or cycle through) objects; JSON never does.
  const seen = new WeakSet<object>();
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (path.length >= max) return path;
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, path: [...path, i] }));
    else for (const [k, x] of Object.entries(v)) stack.push({ v: x, path: [...path, k] });
  }
  return undefined;
}

/**
 * Validates and compiles a flow, or throws a FlowValidationError listing every problem.
 *
 * @example
 * const flow = loadFlow(JSON.parse(readFileSync('flows/editTaskAndSync.flow.json', 'utf8')), { schema: demoSchema });
 */
export function loadFlow(input: unknown, options: ValidateFlowOptions): CompiledFlow {
  if (isCompiledFlow(input)) return input;
  const { flow, problems } = validateFlow(input, options);
  if (!flow) {
    const name = typeof (input as { name?: unknown })?.name === 'string' ? (input as { name: string }).name : '(unnamed)';
    throw new FlowValidationError(name, problems);
  }
  return flow;
}

// ---------------------------------------------------------------------------------------------
// Structure

type Issue = z.core.$ZodIssue;

function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** Zod issues as problems; a union is reported by its closest branch, not as "Invalid input". */
function issueProblems(issues: readonly Issue[], base: PropertyKey[] = []): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // The branch with the fewest problems is the one the author meant; an unknown key is a strong hint it was not.
      const score = (branch: readonly Issue[]) => branch.reduce((s, i) => s + (i.code === 'unrecognized_keys' ? 10 : 1), 0);
      const best = issue.errors.reduce((a, b) => (score(b) < score(a) ? b : a));
      out.push(...issueProblems(best, path));
    } else if (issue.code === 'invalid_union') {
      const options = (issue as { options?: unknown[] }).options;
      out.push({ path, message: options ? `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}` : issue.message });
    } else if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: 'unknown field' });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

// Nodes and edges are parsed one by one, so one bad node does not hide the problems of the others.
const headerSchema = flowSchema.extend({ nodes: z.array(z.unknown()), edges: z.array(z.unknown()) });

const an = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// The checker

interface NodeInfo {
  node: FlowNode;
  index: number;
}

interface EdgeInfo {
  edge: FlowEdge;
  index: number;
}

interface Declaration {
  path: string;
  nodeId?: string;
  type: () => StaticType;
}

interface Successor {
  to: string;
  /** Variables defined when the flow goes this way. */
  gen: readonly string[];
}

class FlowChecker {
  private readonly problems: FlowProblem[] = [];
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly edges: EdgeInfo[] = [];
  /** Ids of nodes that failed to parse: edges to them are not reported again. */
  private readonly unparsed = new Set<string>();
  /** Nodes with an outgoing edge that failed to parse or was refused: their edge counts are not reported. */
  private readonly unparsedFrom = new Set<string>();
  private structureBroken = false;
  private parameters: Array<{ name: string; type: DataType; index: number }> = [];
  private returnType: StaticType = Types.nothing;
  private returnTypeData: ReturnType | undefined;
  private start: string | undefined;
  private readonly parentOf = new Map<string, string>();
  private readonly normalOut = new Map<string, EdgeInfo[]>();
  private readonly errorOut = new Map<string, EdgeInfo[]>();
  private readonly caseOut = new Map<string, EdgeInfo[]>();
  private readonly incoming = new Map<string, number>();
  private readonly loops = new Map<string, { entry?: string; after?: string }>();
  /** Nodes reported for a missing outgoing edge: treated as path ends so the report does not cascade. */
  private readonly deadEnds = new Set<string>();
  private readonly declarations = new Map<string, Declaration>();
  private readonly types = new Map<string, StaticType | 'resolving'>();
  private readonly definedAt = new Map<string, Set<string>>();
  private readonly expressions = new Map<string, Expr>();
  private readonly flowCache = new Map<string, { exists: boolean | undefined; flow?: Flow }>();
  private readonly reachable = new Set<string>();

  constructor(private readonly options: ValidateFlowOptions) {}

  problemsSoFar(): FlowProblem[] {
    return this.problems;
  }

  check(input: unknown): { flow?: CompiledFlow; problems: FlowProblem[] } {
    if (!isRecord(input)) return { problems: [{ path: '', message: 'a flow is a JSON object' }] };
    this.parse(input);
    this.checkParentsAndStart();
    this.indexEdges();
    this.checkOutgoing();
    if (!this.structureBroken && this.start) this.checkPaths();
    this.checkHeaderTypes();
    this.declareVariables();
    if (!this.structureBroken && this.start) this.computeDefinitions();
    for (const info of this.nodes.values()) this.checkNode(info);
    if (this.problems.length) return { problems: this.problems };
    return { flow: this.compile(input as Flow), problems: [] };
  }

  // -- reporting ------------------------------------------------------------------------------

  private add(path: string, message: string, nodeId?: string, position?: number): void {
    const p: FlowProblem = { path, message };
    if (nodeId !== undefined) p.nodeId = nodeId;
    if (position !== undefined) p.position = position;
    this.problems.push(p);
  }

  private at(id: string, field?: string): string {
    const info = this.nodes.get(id)!;
    return `nodes[${info.index}]${field ? `.${field}` : ''}`;
  }

  private nodeProblem(id: string, field: string | undefined, message: string, position?: number): void {
    this.add(this.at(id, field), message, id, position);
  }

  private edgeProblem(e: EdgeInfo, field: string, message: string): void {
    this.add(`edges[${e.index}].${field}`, message, e.edge.from);
  }

  // -- structure ------------------------------------------------------------------------------

  private parse(input: Record<string, unknown>): void {
    const header = headerSchema.safeParse(input);
    if (!header.success) {
      for (const p of issueProblems(header.error.issues)) this.add(formatPath('', p.path), p.message);
    }
    const params = Array.isArray(input.parameters) ? input.parameters : [];
    params.forEach((raw, index) => {
      const p = flowSchema.shape.parameters.unwrap().element.safeParse(raw);
      if (p.success) this.parameters.push({ ...p.data, index });
    });
    const rt = flowSchema.shape.returnType.safeParse(input.returnType);
    this.returnTypeData = rt.success ? rt.data : undefined;
    this.returnType = rt.success && rt.data ? fromDataType(rt.data) : rt.success ? Types.nothing : Types.unknown;

    const rawNodes = Array.isArray(input.nodes) ? input.nodes : [];
    rawNodes.forEach((raw, index) => {
      const id = isRecord(raw) && typeof raw.id === 'string' ? raw.id : undefined;
      const deep = tooDeep(raw, MAX_NODE_DEPTH);
      if (deep) {
        this.structureBroken = true;
        if (id !== undefined) this.unparsed.add(id);
        this.add(formatPath(`nodes[${index}]`, deep), `nests more than ${MAX_NODE_DEPTH} levels deep`, id);
        return;
      }
      const parsed = nodeSchema.safeParse(raw);
      if (!parsed.success) {
        this.structureBroken = true;
        if (id !== undefined) this.unparsed.add(id);
        for (const p of issueProblems(parsed.error.issues)) this.add(formatPath(`nodes[${index}]`, p.path), p.message, id);
        return;
      }
      const node = parsed.data;
      if (this.nodes.has(node.id)) {
        this.structureBroken = true;
        this.add(`nodes[${index}].id`, `duplicate node id "${node.id}" (also nodes[${this.nodes.get(node.id)!.index}])`, node.id);
        return;
      }
      this.nodes.set(node.id, { node, index });
    });
    const rawEdges = Array.isArray(input.edges) ? input.edges : [];
    const edgeIds = new Map<string, number>();
    rawEdges.forEach((raw, index) => {
      const parsed = edgeSchema.safeParse(raw);
      if (!parsed.success) {
        this.structureBroken = true;
        const from = isRecord(raw) && typeof raw.from === 'string' ? raw.from : undefined;
        if (from !== undefined) this.unparsedFrom.add(from);
        for (const p of issueProblems(parsed.error.issues)) this.add(formatPath(`edges[${index}]`, p.path), p.message, from);
        return;
      }
      const edge = parsed.data;
      if (edge.id !== undefined) {
        if (edgeIds.has(edge.id)) this.add(`edges[${index}].id`, `duplicate edge id "${edge.id}" (also edges[${edgeIds.get(edge.id)}])`, edge.from);
        else edgeIds.set(edge.id, index);
      }
      this.edges.push({ edge, index });
    });
  }

  private checkParentsAndStart(): void {
    for (const [id, { node }] of this.nodes) {
      if (node.parent === undefined) continue;
      const parent = this.nodes.get(node.parent);
      if (!parent) {
        if (!this.unparsed.has(node.parent)) this.nodeProblem(id, 'parent', `unknown loop "${node.parent}"`);
      } else if (parent.node.type !== 'loop') {
        this.nodeProblem(id, 'parent', `"${node.parent}" is ${an(parent.node.type)} node, not a loop`);
      } else {
        this.parentOf.set(id, node.parent);
      }
    }
    // A loop inside itself (directly or through others) has no outside to start from.
    for (const id of [...this.parentOf.keys()]) {
      const seen = new Set<string>([id]);
      for (let p = this.parentOf.get(id); p !== undefined; p = this.parentOf.get(p)) {
        if (seen.has(p)) {
          if (p === id) this.nodeProblem(id, 'parent', 'loops cannot contain each other');
          this.parentOf.delete(id);
          this.structureBroken = true;
          break;
        }
        seen.add(p);
      }
    }
    const starts = [...this.nodes.values()].filter((n) => n.node.type === 'start');
    if (starts.length === 0) {
      if (!this.structureBroken) this.add('nodes', 'a flow needs a start node');
      return;
    }
    for (const extra of starts.slice(1)) {
      this.nodeProblem(extra.node.id, undefined, `a flow has one start node ("${starts[0].node.id}" is the start)`);
    }
    const start = starts[0].node;
    if (start.parent !== undefined) this.nodeProblem(start.id, 'parent', 'the start node cannot be inside a loop');
    else if (starts.length === 1) this.start = start.id;
  }

  private indexEdges(): void {
    const push = (map: Map<string, EdgeInfo[]>, id: string, e: EdgeInfo) => {
      const list = map.get(id);
      if (list) list.push(e);
      else map.set(id, [e]);
    };
    for (const e of this.edges) {
      const { edge } = e;
      const from = this.nodes.get(edge.from);
      const to = this.nodes.get(edge.to);
      if (!from && !this.unparsed.has(edge.from)) this.edgeProblem(e, 'from', `unknown node "${edge.from}"`);
      if (!to && !this.unparsed.has(edge.to)) this.edgeProblem(e, 'to', `unknown node "${edge.to}"`);
      if (!from || !to) {
        this.structureBroken = true;
        this.unparsedFrom.add(edge.from);
        continue;
      }
      let ok = true;
      const scopeOf = (id: string) => this.parentOf.get(id);
      if (scopeOf(edge.from) !== scopeOf(edge.to)) {
        const where = (id: string) => (scopeOf(id) ? `inside loop "${scopeOf(id)}"` : 'outside every loop');
        this.edgeProblem(e, 'to', `an edge cannot cross a loop's border ("${edge.from}" is ${where(edge.from)}, "${edge.to}" is ${where(edge.to)})`);
        ok = false;
      }
      if (to.node.type === 'start') {
        this.edgeProblem(e, 'to', 'no edge leads into the start node');
        ok = false;
      }
      if (from.node.type === 'end' || from.node.type === 'break' || from.node.type === 'continue') {
        this.edgeProblem(e, 'from', `${an(from.node.type)} node has no outgoing edges`);
        ok = false;
      }
      if (edge.errorHandler && from.node.type !== 'activity') {
        this.edgeProblem(e, 'errorHandler', 'only an activity has an error-handler edge');
        ok = false;
      }
      if (edge.case !== undefined && from.node.type !== 'decision') {
        this.edgeProblem(e, 'case', 'only the edges of a decision have a case value');
        ok = false;
      }
      if (from.node.type === 'decision' && edge.case === undefined) {
        this.edgeProblem(e, 'case', 'an edge from a decision needs a case value (true / false, an enumeration value, or null for empty)');
        ok = false;
      }
      if (!ok) {
        // Reported once, here: the node's edge counts would only repeat it.
        this.structureBroken = true;
        this.unparsedFrom.add(edge.from);
        continue;
      }
      this.incoming.set(edge.to, (this.incoming.get(edge.to) ?? 0) + 1);
      if (edge.errorHandler) push(this.errorOut, edge.from, e);
      else if (from.node.type === 'decision') push(this.caseOut, edge.from, e);
      else push(this.normalOut, edge.from, e);
    }
  }

  private checkOutgoing(): void {
    const bodies = new Map<string, string[]>();
    for (const [id, loop] of this.parentOf) {
      const body = bodies.get(loop);
      if (body) body.push(id);
      else bodies.set(loop, [id]);
    }
    for (const [id, { node }] of this.nodes) {
      if (this.unparsedFrom.has(id)) continue;
      const normal = this.normalOut.get(id) ?? [];
      const errors = this.errorOut.get(id) ?? [];
      const inLoop = this.parentOf.has(id);
      const one = (what: string) => {
        if (normal.length > 1) {
          this.nodeProblem(id, undefined, `has ${normal.length} outgoing edges: ${what} has one`);
        } else if (normal.length === 0 && !inLoop) {
          this.nodeProblem(id, undefined, 'has no outgoing edge: every path must reach an end node');
          this.deadEnds.add(id);
        }
      };
      switch (node.type) {
        case 'start':
          if (normal.length !== 1) {
            this.nodeProblem(id, undefined, normal.length ? `has ${normal.length} outgoing edges: the start node has one` : 'the start node needs an outgoing edge');
            if (!normal.length) this.deadEnds.add(id);
          }
          break;
        case 'activity': {
          one('an activity');
          const custom = node.errorHandling === 'customWithRollback' || node.errorHandling === 'customWithoutRollback';
          if (custom && errors.length === 0) {
            this.nodeProblem(id, 'errorHandling', `${node.errorHandling} needs an error-handler edge (an edge with "errorHandler": true)`);
          } else if (!custom) {
            for (const e of errors) {
              this.edgeProblem(e, 'errorHandler', `the activity's error handling is ${node.errorHandling ?? 'abort'}: only custom error handling takes an error-handler edge`);
            }
          } else if (errors.length > 1) {
            this.nodeProblem(id, undefined, `has ${errors.length} error-handler edges: one is expected`);
          }
          break;
        }
        case 'decision':
          if ((this.caseOut.get(id) ?? []).length === 0) {
            this.nodeProblem(id, undefined, 'a decision needs outgoing edges with case values');
            this.deadEnds.add(id);
          }
          break;
        case 'merge':
          one('a merge');
          break;
        case 'loop': {
          if (normal.length > 1) this.nodeProblem(id, undefined, `has ${normal.length} outgoing edges: a loop has one (to what follows it)`);
          else if (normal.length === 0 && !inLoop) {
            this.nodeProblem(id, undefined, 'has no outgoing edge to what follows the loop');
            this.deadEnds.add(id);
          }
          const body = bodies.get(id) ?? [];
          const entries = body.filter((n) => !this.incoming.get(n));
          if (body.length === 0) this.nodeProblem(id, undefined, `the loop's body is empty (its nodes have "parent": "${id}")`);
          else if (entries.length !== 1) {
            this.nodeProblem(
              id,
              undefined,
              entries.length
                ? `the loop's body has ${entries.length} nodes without incoming edges (${entries.join(', ')}): one of them is its first step`
                : "the loop's body needs a first step: a node without incoming edges",
            );
          }
          this.loops.set(id, { entry: entries.length === 1 ? entries[0] : undefined, after: normal[0]?.edge.to });
          break;
        }
        case 'break':
        case 'continue':
          if (!inLoop && node.parent === undefined) this.nodeProblem(id, undefined, `a ${node.type} node must be inside a loop (set "parent")`);
          break;
        case 'end':
          break;
      }
    }
  }

  // -- paths ----------------------------------------------------------------------------------

  /** Where the flow goes after a loop: its outgoing edge, or (inside an outer loop's body) the next iteration of that loop. */
  private exitOf(loop: string): string | undefined {
    return this.loops.get(loop)?.after ?? this.parentOf.get(loop);
  }

  private declaresOf(id: string): string[] {
    const { node } = this.nodes.get(id)!;
    if (node.type !== 'activity') return [];
    const kind = ACTIVITIES[node.activity.type] as { declares?: (a: unknown, c: DeclareContext) => Array<{ name: string }> };
    return (kind.declares?.(node.activity, this.declareContext()) ?? []).map((d) => d.name);
  }

  private successors(id: string): Successor[] {
    const { node } = this.nodes.get(id)!;
    const out: Successor[] = [];
    const loop = this.parentOf.get(id);
    const normal = this.normalOut.get(id) ?? [];
    switch (node.type) {
      case 'end':
        break;
      case 'break': {
        const exit = loop !== undefined ? this.exitOf(loop) : undefined;
        if (exit !== undefined) out.push({ to: exit, gen: [] });
        break;
      }
      case 'continue':
        if (loop !== undefined) out.push({ to: loop, gen: [] });
        break;
      case 'decision':
        for (const e of this.caseOut.get(id) ?? []) out.push({ to: e.edge.to, gen: [] });
        break;
      case 'loop': {
        const info = this.loops.get(id);
        if (info?.entry) out.push({ to: info.entry, gen: [node.iterator] });
        const exit = this.exitOf(id);
        if (exit !== undefined) out.push({ to: exit, gen: [] });
        break;
      }
      default: {
        const declared = node.type === 'activity' ? this.declaresOf(id) : [];
        // An activity that continues on error may arrive with $latestError set: its way on is an error handler's path too.
        const gen = node.type === 'activity' && node.errorHandling === 'continue' ? [...declared, LATEST_ERROR] : declared;
        for (const e of normal) out.push({ to: e.edge.to, gen });
        // The end of a loop body's path ends the iteration.
        if (normal.length === 0 && loop !== undefined) out.push({ to: loop, gen });
        // $latestError is defined on an error handler's path only (scoped as Mendix does): the edge defines it.
        for (const e of this.errorOut.get(id) ?? []) out.push({ to: e.edge.to, gen: [LATEST_ERROR] });
      }
    }
    return out;
  }

  private checkPaths(): void {
    const queue = [this.start!];
    this.reachable.add(this.start!);
    const preds = new Map<string, string[]>();
    // An index instead of shift(): shifting a long queue is linear each time.
    for (let head = 0; head < queue.length; head++) {
      const id = queue[head];
      for (const s of this.successors(id)) {
        const list = preds.get(s.to);
        if (list) list.push(id);
        else preds.set(s.to, [id]);
        if (!this.reachable.has(s.to)) {
          this.reachable.add(s.to);
          queue.push(s.to);
        }
      }
    }
    // A body without a first step is reported at its loop; its nodes are not reported again.
    const inBrokenLoop = (id: string): boolean => {
      for (let p = this.parentOf.get(id); p !== undefined; p = this.parentOf.get(p)) if (!this.loops.get(p)?.entry) return true;
      return false;
    };
    for (const id of this.nodes.keys()) {
      if (!this.reachable.has(id) && !inBrokenLoop(id)) this.nodeProblem(id, undefined, 'is not reachable from the start node');
    }
    // Backwards from the ends: a reachable node that reaches none loops forever.
    const ends = [...this.reachable].filter((id) => this.nodes.get(id)!.node.type === 'end' || this.deadEnds.has(id));
    const done = new Set(ends);
    while (ends.length) {
      const id = ends.pop()!;
      for (const p of preds.get(id) ?? []) {
        if (!done.has(p)) {
          done.add(p);
          ends.push(p);
        }
      }
    }
    for (const id of this.reachable) {
      if (!done.has(id)) this.nodeProblem(id, undefined, 'no path from this node reaches an end node (an endless cycle)');
    }
  }

  // -- variables ------------------------------------------------------------------------------

  private declare(name: string, path: string, nodeId: string | undefined, type: () => StaticType): void {
    if (RESERVED.has(name)) {
      this.add(path, `$${name} is built in: choose another name`, nodeId);
      return;
    }
    const before = this.declarations.get(name);
    if (before) {
      this.add(path, `variable $${name} is already defined (${before.nodeId ? `by node "${before.nodeId}"` : `at ${before.path}`})`, nodeId);
      return;
    }
    this.declarations.set(name, { path, nodeId, type });
  }

  private declareVariables(): void {
    for (const p of this.parameters) {
      this.declare(p.name, `parameters[${p.index}].name`, undefined, () => fromDataType(p.type));
    }
    for (const [id, { node }] of this.nodes) {
      if (node.type === 'loop') {
        this.declare(node.iterator, this.at(id, 'iterator'), id, () => {
          const t = this.typeOf(node.list);
          return t?.kind === 'list' ? { kind: 'object', entity: t.entity } : Types.unknown;
        });
      } else if (node.type === 'activity') {
        const kind = ACTIVITIES[node.activity.type] as {
          declares?: (a: unknown, c: DeclareContext) => Array<{ name: string; type: StaticType; field: string }>;
        };
        for (const d of kind.declares?.(node.activity, this.declareContext(true)) ?? []) {
          this.declare(d.name, this.at(id, d.field), id, () => {
            const found = kind.declares!(node.activity, this.declareContext()).find((x) => x.name === d.name);
            return found?.type ?? Types.unknown;
          });
        }
      }
    }
  }

  /** A variable's declared type, resolved on demand (an output's type may depend on another variable's). */
  private typeOf(name: string): StaticType | undefined {
    const known = this.types.get(name);
    if (known === 'resolving') return Types.unknown;
    if (known) return known;
    const d = this.declarations.get(name);
    if (!d) return undefined;
    this.types.set(name, 'resolving');
    const t = d.type();
    this.types.set(name, t);
    return t;
  }

  private lookupFlow(name: string): { exists: boolean | undefined; flow?: Flow } {
    const cached = this.flowCache.get(name);
    if (cached) return cached;
    let result: { exists: boolean | undefined; flow?: Flow } = { exists: undefined };
    if (this.options.resolveFlow) {
      const found = this.options.resolveFlow(name);
      if (found === undefined || found === null) result = { exists: false };
      else if (isCompiledFlow(found)) result = { exists: true, flow: found.definition };
      else {
        const parsed = flowSchema.safeParse(found);
        // A flow that does not parse is reported when it loads; here its signature is unknown.
        result = { exists: true, flow: parsed.success ? parsed.data : undefined };
      }
    }
    this.flowCache.set(name, result);
    return result;
  }

  private declareContext(namesOnly = false): DeclareContext {
    return {
      schema: this.options.schema,
      typeOf: (name) => (namesOnly ? undefined : this.typeOf(name)),
      resolveFlow: (name) => (namesOnly ? undefined : this.lookupFlow(name).flow),
      flowExists: (name) => this.lookupFlow(name).exists,
      profileExists: (name) => profileExists(this.options.profiles, name),
    };
  }

  /** Definite assignment: the variables defined on every path from the start to each node. */
  private computeDefinitions(): void {
    const start = this.start!;
    this.definedAt.set(start, new Set(this.parameters.map((p) => p.name)));
    const queue = [start];
    for (let head = 0; head < queue.length; head++) {
      const id = queue[head];
      const here = this.definedAt.get(id)!;
      for (const s of this.successors(id)) {
        const out = new Set([...here, ...s.gen]);
        const before = this.definedAt.get(s.to);
        const next = before ? new Set([...before].filter((v) => out.has(v))) : out;
        if (!before || next.size !== before.size) {
          this.definedAt.set(s.to, next);
          queue.push(s.to);
        }
      }
    }
  }

  // -- node checks ----------------------------------------------------------------------------

  private typeEnv(id: string, extra: Record<string, StaticType> = {}): TypeEnv {
    const defined = this.definedAt.get(id);
    return {
      schema: this.options.schema,
      variable: (name) => {
        if (Object.hasOwn(extra, name)) return extra[name];
        if (name === LATEST_ERROR) {
          if (defined && !defined.has(LATEST_ERROR)) {
            return { error: "$latestError exists only in an error handler's path (after an error-handler edge, or after an activity whose error handling is continue)" };
          }
          return { kind: 'object', entity: ERROR_ENTITY };
        }
        if (name === 'currentObject') return { error: '$currentObject exists only in the condition of a list filter or find' };
        if (!this.declarations.has(name)) return { error: `unknown variable $${name}` };
        if (defined && !defined.has(name)) return { error: `$${name} is not defined on every path to this node` };
        return this.typeOf(name) ?? Types.unknown;
      },
    };
  }

  private checkExpression(id: string, field: string, source: string, options: ExpressionOptions = {}): StaticType {
    let ast = this.expressions.get(source);
    if (!ast) {
      try {
        ast = parseExpression(source);
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e;
        this.nodeProblem(id, field, e.message, e.position);
        return Types.unknown;
      }
      this.expressions.set(source, ast);
    }
    const { type, errors } = typecheck(ast, source, this.typeEnv(id, options.extra));
    for (const e of errors) this.nodeProblem(id, field, e.message, e.position);
    if (errors.length) return Types.unknown;
    if (options.expected && !isAssignable(options.expected, type)) {
      this.nodeProblem(id, field, `must be ${describeType(options.expected)}, but the expression gives ${describeType(type)}`, 0);
    }
    return type;
  }

  private checkContext(id: string): CheckContext {
    return {
      ...this.declareContext(),
      problem: (field, message) => this.nodeProblem(id, field, message),
      expression: (field, source, options) => this.checkExpression(id, field, source, options),
      variable: (field, name) => {
        const t = this.typeEnv(id).variable(name);
        if ('error' in t) {
          this.nodeProblem(id, field, t.error);
          return undefined;
        }
        return t;
      },
      entity: (field, name, options) => this.checkEntity(field && this.at(id, field), name, id, options?.builtin),
      dataType: (field, type) => this.checkDataType(this.at(id, field), type, id),
    };
  }

  private checkEntity(path: string, name: string, nodeId?: string, builtin = false): boolean {
    if (Object.hasOwn(this.options.schema.entities, name)) return true;
    if (builtin && isBuiltinEntity(name)) return true;
    const known = Object.keys(this.options.schema.entities).join(', ');
    this.add(path, isBuiltinEntity(name) ? `${name} is built in: it cannot be used here` : `unknown entity "${name}" (the schema has ${known})`, nodeId);
    return false;
  }

  private checkDataType(path: string, type: DataType, nodeId?: string): StaticType {
    if (type.type === 'object' || type.type === 'list') {
      if (!this.checkEntity(`${path}.entity`, type.entity, nodeId, true)) return Types.unknown;
    }
    return fromDataType(type);
  }

  private checkNode({ node }: NodeInfo): void {
    const id = node.id;
    switch (node.type) {
      case 'activity': {
        const kind = ACTIVITIES[node.activity.type] as { check: (a: unknown, c: CheckContext) => void };
        kind.check(node.activity, this.checkContext(id));
        break;
      }
      case 'decision':
        this.checkDecision(node);
        break;
      case 'loop': {
        const t = this.checkContext(id).variable('list', node.list);
        if (t && t.kind !== 'list' && t.kind !== 'unknown') this.nodeProblem(id, 'list', `$${node.list} is ${describeType(t)}: a loop iterates over a list`);
        break;
      }
      case 'end': {
        if (this.returnType.kind === 'nothing') {
          if (node.returnValue !== undefined) this.nodeProblem(id, 'returnValue', 'the flow returns nothing (set returnType to return a value)');
        } else if (node.returnValue === undefined) {
          if (this.returnType.kind !== 'unknown') this.nodeProblem(id, 'returnValue', `the flow returns ${describeType(this.returnType)}: give a returnValue`);
        } else {
          const t = this.checkExpression(id, 'returnValue', node.returnValue);
          if (!isAssignable(this.returnType, t)) {
            this.nodeProblem(id, 'returnValue', `the flow returns ${describeType(this.returnType)}, but the value is ${describeType(t)}`);
          }
        }
        break;
      }
      default:
        break;
    }
  }

  /** Parameter and return types name entities that exist. */
  private checkHeaderTypes(): void {
    for (const p of this.parameters) this.checkDataType(`parameters[${p.index}].type`, p.type);
    if (this.returnTypeData && this.returnTypeData.type !== 'nothing') this.checkDataType('returnType', this.returnTypeData);
  }

  private checkDecision(node: NodeOf<'decision'>): void {
    const id = node.id;
    const t = this.checkExpression(id, 'expression', node.expression);
    const edges = this.caseOut.get(id) ?? [];
    const seen = new Map<string, EdgeInfo>();
    for (const e of edges) {
      const key = JSON.stringify(e.edge.case);
      if (seen.has(key)) this.edgeProblem(e, 'case', `case ${key} appears twice (also edges[${seen.get(key)!.index}])`);
      else seen.set(key, e);
    }
    const values = edges.map((e) => e.edge.case);
    const missing = (expected: ReadonlyArray<boolean | string>) =>
      expected.filter((v) => !values.includes(v)).map((v) => JSON.stringify(v));
    if (t.kind === 'boolean') {
      for (const e of edges) {
        if (typeof e.edge.case !== 'boolean') this.edgeProblem(e, 'case', `the decision is boolean: a case is true or false, not ${JSON.stringify(e.edge.case)}`);
      }
      const m = missing([true, false]);
      if (m.length) this.nodeProblem(id, undefined, `the decision has no edge for case ${m.join(' and ')}`);
    } else if (t.kind === 'enum') {
      for (const e of edges) {
        if (e.edge.case !== null && !(typeof e.edge.case === 'string' && t.values.includes(e.edge.case))) {
          this.edgeProblem(e, 'case', `${JSON.stringify(e.edge.case)} is not a value of the enumeration (${t.values.join(', ')}) nor null (empty)`);
        }
      }
      const m = missing(t.values);
      if (m.length) this.nodeProblem(id, undefined, `the decision has no edge for case ${m.join(', ')}`);
    } else if (t.kind !== 'unknown') {
      this.nodeProblem(id, 'expression', `a decision needs a boolean or an enumeration, not ${describeType(t)}`);
    }
  }

  // -- compile --------------------------------------------------------------------------------

  private compile(input: Flow): CompiledFlow {
    const definition = flowSchema.parse(input);
    const next = new Map<string, string>();
    const errorNext = new Map<string, string>();
    const cases = new Map<string, DecisionCase[]>();
    for (const [id, edges] of this.normalOut) next.set(id, edges[0].edge.to);
    for (const [id, edges] of this.errorOut) errorNext.set(id, edges[0].edge.to);
    for (const [id, edges] of this.caseOut) cases.set(id, edges.map((e) => ({ value: e.edge.case ?? null, to: e.edge.to })));
    const loops = new Map<string, { entry: string; after?: string }>();
    for (const [id, l] of this.loops) loops.set(id, { entry: l.entry!, after: l.after });
    const variables = new Map<string, StaticType>();
    for (const name of this.declarations.keys()) variables.set(name, this.typeOf(name) ?? Types.unknown);
    const outputs = new Map<string, string[]>();
    for (const [id, { node }] of this.nodes) if (node.type === 'activity') outputs.set(id, this.declaresOf(id));
    const compiled: CompiledFlow = {
      definition,
      name: definition.name,
      start: this.start!,
      nodes: new Map([...this.nodes].map(([id, n]) => [id, n.node])),
      next,
      errorNext,
      cases,
      loops,
      parentOf: new Map(this.parentOf),
      variables,
      parameters: this.parameters.map((p) => ({ name: p.name, type: fromDataType(p.type) })),
      returnType: this.returnType,
      expressions: new Map(this.expressions),
      outputs,
    };
    compiledFlows.add(compiled);
    return compiled;
  }
}

/** Whether a Run profile's name is one of the app's profiles; undefined when they are not known. */
function profileExists(profiles: readonly string[] | undefined, name: string): boolean | undefined {
  return profiles === undefined ? undefined : profiles.includes(name);
}
