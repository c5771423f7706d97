import { SyncflowError, ValidationError, statusForCode, type Problem } from '../errors.ts';
import type { ErrorBody } from '../transport/wire.ts';

/**
 * Maps anything a request handler threw to a status and an ErrorBody, once, by `code`
 * (never by message). Errors of unknown origin become `internal` with a generic message:
 * no stack trace or SQL text leaves the server.
 */
export function errorReply(error: unknown): { status: number; body: ErrorBody; internal: boolean } {
  const e = toRequestError(error);
  const status = statusForCode(e.code);
  const problems: Problem[] | undefined = e instanceof ValidationError ? e.problems : (e as { problems?: Problem[] }).problems;
  const body: ErrorBody = { error: { code: e.code, message: e.message, ...(problems ? { problems } : {}) } };
  return { status, body, internal: status >= 500 };
}

function toRequestError(error: unknown): SyncflowError {
  if (error instanceof SyncflowError) return error;
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown };
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return withProblem('payload_too_large', 'body', 'is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return ValidationError.at('content-type', 'must be application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return ValidationError.at('content-length', 'does not match the body');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return ValidationError.at('body', 'is not valid JSON');
  }
  if (error instanceof SyntaxError && statusCode === 400) return ValidationError.at('body', 'is not valid JSON');
  // A SQL data exception (SQLSTATE class 22) caused by a request value the checks let through.
  if (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) {
    return ValidationError.at('body', 'contains a value the database cannot use');
  }
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const message = error instanceof Error ? error.message : 'Bad request';
    if (statusCode === 404) return new SyncflowError('not_found', message);
    if (statusCode === 413) return withProblem('payload_too_large', 'body', message);
    return ValidationError.at('', message);
  }
  return new SyncflowError('internal', 'Internal server error');
}

function withProblem(code: 'payload_too_large', path: string, message: string): SyncflowError {
  return Object.assign(new SyncflowError(code, `${path}: ${message}`), { problems: [{ path, message }] });
}

/**
 * The raw HTTP answer to a connection-level error Node reports before any route runs (a request
 * over its time limit, headers too large, bytes that are not HTTP), with the protocol's ErrorBody;
 * the socket is closed after it. Null when nothing can be written (a reset or destroyed socket).
 */
export function clientErrorResponse(error: { code?: unknown }, requestLimitMs: number): string | null {
  if (error.code === 'ECONNRESET') return null;
  const [status, text, body]: [number, string, ErrorBody] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', { error: { code: 'request_timeout', message: `The request was not received within ${requestLimitMs} ms` } }]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', { error: { code: 'payload_too_large', message: 'The request headers are larger than the server accepts' } }]
        : [400, 'Bad Request', { error: { code: 'validation_failed', message: 'The request is not valid HTTP' } }];
  const json = JSON.stringify(body);
  return `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
}
