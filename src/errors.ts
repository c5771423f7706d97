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
  | 'too_many_requests'
  | 'request_timeout'
  | 'forbidden'
  | 'payload_too_large'
  | 'range_not_satisfiable'
  | 'conflict'
  | 'network'
  | 'server'
  | 'protocol'
  | 'simultaneous_sync'
  | 'sync_cancelled'
  | 'sync_stopped'
  | 'sync_manager_stopped'
  | 'sync_unknown'
  | 'sync_running'
  | 'sync_name_taken'
  | 'storage_full'
  | 'profile_refused'
  | 'flow_invalid'
  | 'flow_runtime'
  | 'flow_cancelled'
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

/** Too many failed sign-ins from one address: refused until the window ends (`Retry-After`). */
export class TooManyRequestsError extends SyncflowError {
  override name = 'TooManyRequestsError';
  constructor(
    message: string,
    /** Whole seconds until requests are accepted again. */
    readonly retryAfterSeconds: number,
  ) {
    super('too_many_requests', message);
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

/**
 * File contents larger than the limit (the client's before sending a byte, or the server's
 * for the size an upload declares). Nothing was stored; a device keeps the contents marked.
 */
export class FileTooLargeError extends SyncflowError {
  override name = 'FileTooLargeError';
  constructor(
    readonly size: number,
    /** null when only the server knows it (a device learns of its limit from a 413). */
    readonly limit: number | null,
  ) {
    super('payload_too_large', `The file is ${size} bytes, over the ${limit === null ? "server's" : `${limit}-byte`} file size limit`);
  }
}

/**
 * A `Range` header of GET /api/files that cannot be served: malformed, several ranges, or none
 * within the file's `size` bytes (answered 416 with `Content-Range: bytes *\/size`).
 */
export class RangeNotSatisfiableError extends SyncflowError {
  override name = 'RangeNotSatisfiableError';
  constructor(
    message: string,
    /** The file's size in bytes. */
    readonly size: number,
  ) {
    super('range_not_satisfiable', message);
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

/**
 * The device's storage is full (IndexedDB's QuotaExceededError). The write that hit it was rolled
 * back as a whole: a commit stored nothing, a download kept the batches before it (with their
 * checkpoint), an upload's answer is asked for again next time. Free space and sync again.
 */
export class StorageFullError extends SyncflowError {
  override name = 'StorageFullError';
  constructor(options?: { cause?: unknown }) {
    super('storage_full', 'The device storage is full: free some space, then try again (nothing was lost)', options);
  }
}

/** reSync / cleanResyncGhosts of a sync id or name that is not defined on this device. */
export class UnknownSyncError extends SyncflowError {
  override name = 'UnknownSyncError';
  constructor(readonly idOrName: string) {
    super('sync_unknown', `No sync is defined with the id or name "${idOrName}"`);
  }
}

/** A named sync was asked to run (or its ghosts cleaned) while it runs. */
export class SyncRunningError extends SyncflowError {
  override name = 'SyncRunningError';
  constructor(readonly idOrName: string) {
    super('sync_running', `The sync "${idOrName}" is running; try again when it has finished`);
  }
}

/** Sync down and sync up names are unique on a device. */
export class SyncNameTakenError extends SyncflowError {
  override name = 'SyncNameTakenError';
  constructor(readonly syncName: string) {
    super('sync_name_taken', `A sync named "${syncName}" already exists (names are unique across sync downs and sync ups)`);
  }
}

/** The sync manager was stopped: it accepts no sync until restart(). */
export class SyncManagerStoppedError extends SyncflowError {
  override name = 'SyncManagerStoppedError';
  constructor() {
    super('sync_manager_stopped', 'The sync manager is stopped; call restart() before submitting syncs');
  }
}

/** A ghost cleaning (or another task that cannot pause) saw a stop request and gave up. */
export class SyncStoppedError extends SyncflowError {
  override name = 'SyncStoppedError';
  constructor(what: string) {
    super('sync_stopped', `${what} was stopped before it finished`);
  }
}

/**
 * A sync profile run by name (a flow's Run profile activity) did not run: a start condition refused
 * it (`reason` is its RefusalReason code, e.g. `unresolved_failures`), or it was skipped because
 * another synchronization ran (`sync_running`) or the sync manager is stopped (`sync_manager_stopped`).
 * Nothing was synchronized. The message names the reason code, so a flow's `$latestError` shows it.
 */
export class ProfileRefusedError extends SyncflowError {
  override name = 'ProfileRefusedError';
  constructor(
    readonly profile: string,
    readonly reason: string,
    /** The reason for people, e.g. `1 unresolved synchronization failure(s)`. */
    readonly detail: string,
  ) {
    super('profile_refused', `The sync profile "${profile}" did not run (${reason}): ${detail}`);
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
  if (isQuotaExceeded(e)) return new StorageFullError({ cause: e });
  if (e instanceof Error) return new SyncflowError('internal', e.message, { cause: e });
  return new SyncflowError('internal', String(e));
}

/**
 * Whether an error is the browser's "storage full": a DOMException named QuotaExceededError
 * (Firefox: NS_ERROR_DOM_QUOTA_REACHED), as such or inside one of Dexie's wrappers (`inner`, a
 * BulkError's `failures`) or an error's `cause`.
 */
export function isQuotaExceeded(e: unknown, depth = 0): boolean {
  if (typeof e !== 'object' || e === null || depth > 4) return false;
  const { name, inner, cause, failures } = e as { name?: unknown; inner?: unknown; cause?: unknown; failures?: unknown };
  if (name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED') return true;
  const nested = Array.isArray(failures) ? failures.slice(0, 8) : [];
  return [inner, cause, ...nested].some((x) => isQuotaExceeded(x, depth + 1));
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
    case 'sync_unknown':
      return 404;
    case 'conflict':
    case 'simultaneous_sync':
    case 'sync_running':
    case 'sync_name_taken':
    case 'sync_manager_stopped':
    case 'profile_refused':
      return 409;
    case 'payload_too_large':
      return 413;
    case 'range_not_satisfiable':
      return 416;
    case 'too_many_requests':
      return 429;
    case 'request_timeout':
      return 408;
    default:
      return 500;
  }
}
