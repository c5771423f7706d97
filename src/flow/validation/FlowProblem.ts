import type { Problem } from '../../errors.ts';

/** A problem of a flow: the field's path (`nodes[3].activity.values.title`), the node, and for expressions the offset. */
export interface FlowProblem extends Problem {
  nodeId?: string;
  /** 0-based offset in the expression, for expression problems. */
  position?: number;
}
