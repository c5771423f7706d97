/**
 * Every error syncflow throws is a SyncflowError with a stable `code`.
 * Subclasses exist only where they carry fields. Boundaries map foreign
 * errors once with `toSyncflowError`; the HTTP layer maps `code` to a status
 * without reading messages.
 */

export type ErrorCode =
  | 'schema_invalid'
  | 'validation_failed'
  | 'not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'payload_too_large'
  | 'conflict'
  | 'network'
  | 'server'
  | 'protocol'
  | 'simultaneous_sync'
  | 'sync_cancelled'
  | 'sync_stopped'
  | 'flow_invalid'
  | 'flow_runtime'
  | 'expression_invalid'
  | 'internal';

export class SyncflowError extends Error {
  override name = 'SyncflowError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** A problem located in some input: `path` names the field, e.g. `changes[3].data.title`. */
export interface Problem {
  path: string;
  message: string;
}

/** Bad schema definition, found at definition time. */
export class SchemaError extends SyncflowError {
  override name = 'SchemaError';
  constructor(readonly problems: Problem[]) {
    super('schema_invalid', `Invalid schema: ${formatProblems(problems)}`);
  }
}

/** Bad input (request body, object values, constraint, cursor). Nothing was written. */
export class ValidationError extends SyncflowError {
  override name = 'ValidationError';
  constructor(readonly problems: Problem[]) {
    super('validation_failed', formatProblems(problems));
  }
  static at(path: string, message: string): ValidationError {
    return new ValidationError([{ path, message }]);
  }
}

/** The device could not reach the server, or the connection broke mid-request. */
export class NetworkError extends SyncflowError {
  override name = 'NetworkError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('network', message, options);
  }
}

/** The server answered with an error status. `serverCode` is the server's own error code. */
export class ServerError extends SyncflowError {
  override name = 'ServerError';
  constructor(
    readonly status: number,
    readonly serverCode: ErrorCode | undefined,
    message: string,
  ) {
    super(status === 401 ? 'unauthorized' : 'server', message);
  }
}

/** The server answered something that does not follow the sync protocol. */
export class ProtocolError extends SyncflowError {
  override name = 'ProtocolError';
  constructor(message: string) {
    super('protocol', message);
  }
}

export const SIMULTANEOUS_SYNC_MESSAGE =
  'Performing simultaneous synchronizations is not supported. Please try again after the current synchronization is completed.';

/** A synchronization was asked for while another one runs. Nothing was queued or changed. */
export class SimultaneousSyncError extends SyncflowError {
  override name = 'SimultaneousSyncError';
  constructor() {
    super('simultaneous_sync', SIMULTANEOUS_SYNC_MESSAGE);
  }
}

/** A flow failed to load: every problem names the node and the field. */
export class FlowValidationError extends SyncflowError {
  override name = 'FlowValidationError';
  constructor(
    readonly flowName: string,
    readonly problems: Array<Problem & { nodeId?: string }>,
  ) {
    super('flow_invalid', `Flow "${flowName}" is invalid: ${formatProblems(problems)}`);
  }
}

/** An expression failed to parse; `position` is the 0-based offset of the problem. */
export class ExpressionError extends SyncflowError {
  override name = 'ExpressionError';
  constructor(
    message: string,
    readonly position: number,
    readonly expression: string,
  ) {
    super('expression_invalid', message);
  }
}

export function formatProblems(problems: Problem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
}

export function isSyncflowError(e: unknown): e is SyncflowError {
  return e instanceof SyncflowError;
}

/** Maps any thrown value to a SyncflowError, once, at a boundary. */
export function toSyncflowError(e: unknown): SyncflowError {
  if (e instanceof SyncflowError) return e;
  if (e instanceof Error) return new SyncflowError('internal', e.message, { cause: e });
  return new SyncflowError('internal', String(e));
}

/** HTTP status for an error code; used by the server, never by reading messages. */
export function statusForCode(code: ErrorCode): number {
  switch (code) {
    case 'schema_invalid':
    case 'validation_failed':
    case 'expression_invalid':
    case 'flow_invalid':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
    case 'simultaneous_sync':
      return 409;
    case 'payload_too_large':
      return 413;
    default:
      return 500;
  }
}
