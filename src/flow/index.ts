// The flow interpreter's public surface: format, loading, expressions, the interpreter, host types.
export {
  flowSchema,
  nodeSchema,
  edgeSchema,
  activitySchema,
  dataTypeSchema,
  ERROR_HANDLING,
  type Flow,
  type FlowNode,
  type FlowEdge,
  type FlowParameter,
  type FlowConstraint,
  type Activity,
  type ActivityType,
  type ActivityOf,
  type DataType,
  type ErrorHandling,
  type NodeType,
} from './format.ts';
export { flowJsonSchema, flowJsonSchemaText, FLOW_SCHEMA_FILE } from './flowJsonSchema.ts';
export { validateFlow, loadFlow, isCompiledFlow, type CompiledFlow, type FlowProblem, type ValidateFlowOptions } from './validateFlow.ts';
export { Interpreter, runFlow, type InterpreterOptions, type RunOptions } from './Interpreter.ts';
export { parseExpression } from './expressions/parseExpression.ts';
export { typecheck, type TypeEnv } from './expressions/typecheck.ts';
export { evaluate, type EvalContext } from './expressions/evaluate.ts';
export { FUNCTIONS } from './expressions/functions.ts';
export type { Expr } from './expressions/ast.ts';
export { ERROR_ENTITY, FAILURE_ENTITY, type StaticType } from './expressions/types.ts';
export { ACTIVITIES } from './activities/index.ts';
export type { ActivityKind } from './activities/ActivityKind.ts';
export type {
  FlowHost,
  FlowStore,
  FlowSession,
  FlowEvent,
  FlowEventType,
  FlowObserver,
  FlowErrorInfo,
  JavaScriptAction,
  LogLevel,
  MessageType,
  StepOutcome,
} from './types.ts';
