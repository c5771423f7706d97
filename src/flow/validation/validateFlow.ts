/**
 * Loads a flow: checks its structure (zod) and its meaning (one start, every path reaches an
 * end, no dangling edges, variables defined before use, types where known), reports every
 * problem with the node id and the field, and compiles the flow for the interpreter (expressions
 * parsed once, edges indexed). An invalid flow never starts.
 *
 * Each step is a module of this folder working on one CheckState, in the order below.
 */
import { FlowValidationError } from '../../errors.ts';
import type { Schema } from '../../model/schema.ts';
import type { Flow } from '../format.ts';
import { CheckState } from './CheckState.ts';
import { checkHeaderTypes } from './checkDataType.ts';
import { checkNode } from './checkNode.ts';
import { checkPaths } from './checkPaths.ts';
import { checkStructure } from './checkStructure.ts';
import { compileFlow } from './compileFlow.ts';
import { isCompiledFlow, type CompiledFlow } from './CompiledFlow.ts';
import { computeDefinitions } from './computeDefinitions.ts';
import { declareVariables } from './declareVariables.ts';
import type { FlowProblem } from './FlowProblem.ts';
import { isRecord } from './isRecord.ts';
import { parseFlowParts } from './parseFlowParts.ts';

export interface ValidateFlowOptions {
  schema: Schema;
  /** Finds the flows a Call flow activity names; without it, calls are checked when they run. */
  resolveFlow?: (name: string) => unknown;
  /** The app's sync profile names; without them, a Run profile's name is checked when it runs. */
  profiles?: readonly string[];
}

/**
 * Validates a flow (parsed JSON) and compiles it. `flow` is set only when there is no problem.
 *
 * @example
 * const { flow, problems } = validateFlow(JSON.parse(text), { schema: demoSchema });
 * for (const p of problems) console.log(p.nodeId, p.path, p.message);
 */
export function validateFlow(input: unknown, options: ValidateFlowOptions): { flow?: CompiledFlow; problems: FlowProblem[] } {
  const s = new CheckState(options);
  try {
    return check(s, input);
  } catch (e) {
    // Never thrown for a flow the checks know (the property tests assert it); a last guard for what
    // they do not (a getter that throws, a Proxy), so a caller always gets problems, never a crash.
    const message = e instanceof Error ? e.message : String(e);
    return { problems: [...s.problems, { path: '', message: `the flow could not be checked: ${message}` }] };
  }
}

function check(s: CheckState, input: unknown): { flow?: CompiledFlow; problems: FlowProblem[] } {
  if (!isRecord(input)) return { problems: [{ path: '', message: 'a flow is a JSON object' }] };
  parseFlowParts(s, input);
  checkStructure(s);
  // Paths and definite assignment need a sound graph; on a broken one they would only add noise.
  if (!s.structureBroken && s.start) checkPaths(s);
  checkHeaderTypes(s);
  declareVariables(s);
  if (!s.structureBroken && s.start) computeDefinitions(s);
  for (const info of s.nodes.values()) checkNode(s, info);
  if (s.problems.length) return { problems: s.problems };
  return { flow: compileFlow(s, input as Flow), problems: [] };
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
