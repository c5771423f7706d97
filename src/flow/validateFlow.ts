/**
 * Flow validation and compilation. The checks live in ./validation/, one concern a module; this
 * entry keeps the path every importer uses.
 */
export { isCompiledFlow, type CompiledFlow, type DecisionCase } from './validation/CompiledFlow.ts';
export type { FlowProblem } from './validation/FlowProblem.ts';
export { MAX_NODE_DEPTH } from './validation/tooDeep.ts';
export { loadFlow, validateFlow, type ValidateFlowOptions } from './validation/validateFlow.ts';
