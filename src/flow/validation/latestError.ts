import { ERROR_ENTITY, type StaticType } from '../expressions/types.ts';

/** The error an error handler's path sees: defined by an error-handler edge or by an activity whose error handling is continue. */
export const LATEST_ERROR = 'latestError';

/** Variables every flow has; no flow may declare them. */
export const RESERVED = new Set([LATEST_ERROR, 'currentObject']);

/**
 * $latestError's type at a node, given the variables defined on every path to it (undefined
 * where that is not known, as in a flow whose structure is broken). Scoped as Mendix does: only
 * on an error handler's path.
 */
export function latestErrorType(defined: ReadonlySet<string> | undefined): StaticType | { error: string } {
  if (defined && !defined.has(LATEST_ERROR)) {
    return { error: "$latestError exists only in an error handler's path (after an error-handler edge, or after an activity whose error handling is continue)" };
  }
  return { kind: 'object', entity: ERROR_ENTITY };
}
