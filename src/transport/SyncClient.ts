import { FileTooLargeError, NetworkError, ProtocolError, ServerError, SyncflowError, type ErrorCode } from '../errors.ts';
import type { SyncObject } from '../model/values.ts';
import type {
  ChangeRequest,
  DownloadRequest,
  DownloadResponse,
  ErrorBody,
  FailuresRequest,
  FailureStatus,
  FailuresResponse,
  FetchResponse,
  FileUploadStatus,
  IdsRequest,
  IdsResponse,
  MeResponse,
  RetryResponse,
  UploadResponse,
} from './wire.ts';
import { MAX_FAILURES_PAGE } from './wire.ts';

export interface SyncClientOptions {
  /** The sync server's base URL, e.g. `http://127.0.0.1:4000`. */
  baseUrl: string;
  /** Bearer token of the user. */
  token: string;
  /** Identifies this device in SynchronizationFailures. */
  deviceId: string;
  /** Defaults to the global fetch; tests pass one that injects faults. */
  fetch?: typeof fetch;
  /** Per-request timeout in milliseconds (default 60 s). */
  timeoutMs?: number;
  /** Largest file this device uploads, in bytes (default 64 MiB, the server's default limit). */
  maxFileSize?: number;
  /** Bytes per chunk of a resumable file upload (default 4 MiB). */
  fileChunkSize?: number;
}

/** Options of `SyncClient.uploadFile`. */
export interface UploadFileOptions {
  signal?: AbortSignal;
  /** Called after each stored chunk with the bytes the server holds. */
  onProgress?: (sent: number, size: number) => void;
}

/** The bytes received of a download that broke off, and the version (ETag) they belong to. */
export interface PartialDownload {
  etag: string;
  data: Uint8Array;
  contentType: string;
  /** The whole file's size, as the server announced it. */
  size: number;
}

/** Options of `SyncClient.getFile`. */
export interface GetFileOptions {
  signal?: AbortSignal;
  /**
   * The first bytes of this file the device holds (an interrupted download) and their ETag: only
   * the rest is asked for (`Range` + `If-Range`); if the contents changed since, the whole new
   * file comes and these bytes are not used.
   */
  resume?: { etag: string; data: Uint8Array };
  /** Hears what had arrived (resumed bytes included) when the download breaks off: a network fault or a cancel. */
  onPartial?: (partial: PartialDownload) => void;
}

/**
 * The typed client of the sync protocol (docs/protocol.md): the only code that knows HTTP.
 * Errors are typed: NetworkError (no answer), ServerError (an error status, with the server's
 * code), ProtocolError (an answer that is not the protocol).
 *
 * @example
 * const client = new SyncClient({ baseUrl: 'http://127.0.0.1:4000', token: 'alice-token', deviceId: 'tab-1' });
 * const { objects, cursor } = await client.download({ entity: 'Task', limit: 1000 });
 */
export class SyncClient {
  readonly baseUrl: string;
  readonly deviceId: string;
  readonly #token: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly maxFileSize: number;
  readonly fileChunkSize: number;

  constructor(options: SyncClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.deviceId = options.deviceId;
    this.#token = options.token;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.maxFileSize = options.maxFileSize ?? 64 * 1024 * 1024;
    this.fileChunkSize = Math.max(1, options.fileChunkSize ?? 4 * 1024 * 1024);
  }

  upload(changes: ChangeRequest[], signal?: AbortSignal): Promise<UploadResponse> {
    return this.#json('POST', '/api/upload', { changes }, signal, (b) => Array.isArray(b?.results));
  }

  download(request: DownloadRequest, signal?: AbortSignal): Promise<DownloadResponse> {
    return this.#json('POST', '/api/download', request, signal, (b) => Array.isArray(b?.objects) && 'cursor' in b);
  }

  /** Objects by id; ids that do not exist or that the user may not read come back in `missing`. */
  fetchObjects(entity: string, ids: string[], signal?: AbortSignal): Promise<FetchResponse> {
    return this.#json('POST', '/api/fetch', { entity, ids }, signal, (b) => Array.isArray(b?.objects) && Array.isArray(b?.missing));
  }

  ids(request: IdsRequest, signal?: AbortSignal): Promise<IdsResponse> {
    return this.#json('POST', '/api/ids', request, signal, (b) => Array.isArray(b?.ids));
  }

  /** One page of the user's failures (oldest first); pass `nextCursor` back as `cursor` for the next. */
  failuresPage(request: FailuresRequest = {}, signal?: AbortSignal): Promise<FailuresResponse> {
    const query = new URLSearchParams({ status: request.status ?? 'open' });
    if (request.limit !== undefined) query.set('limit', String(request.limit));
    if (request.cursor) query.set('cursor', request.cursor);
    return this.#json('GET', `/api/failures?${query}`, undefined, signal, (b) => Array.isArray(b?.failures) && 'nextCursor' in b);
  }

  /** Every failure of the user with this status, oldest first, fetched page by page. */
  async failures(status: FailureStatus = 'open', signal?: AbortSignal): Promise<FailuresResponse> {
    const failures: FailuresResponse['failures'] = [];
    let cursor: string | null = null;
    do {
      const page: FailuresResponse = await this.failuresPage({ status, limit: MAX_FAILURES_PAGE, cursor }, signal);
      // A server that answers the same position again would keep a device here forever.
      if (page.nextCursor !== null && page.nextCursor === cursor) throw new ProtocolError('GET /api/failures: the next cursor does not move');
      failures.push(...page.failures);
      cursor = page.nextCursor;
    } while (cursor);
    return { failures, nextCursor: null };
  }

  retryFailure(id: string, signal?: AbortSignal): Promise<RetryResponse> {
    return this.#json('POST', `/api/failures/${encodeURIComponent(id)}/retry`, {}, signal, (b) => typeof b?.result === 'object');
  }

  async dismissFailure(id: string, signal?: AbortSignal): Promise<void> {
    await this.#json('POST', `/api/failures/${encodeURIComponent(id)}/dismiss`, {}, signal, () => true);
  }

  me(signal?: AbortSignal): Promise<MeResponse> {
    return this.#json('GET', '/api/me', undefined, signal, (b) => typeof b?.user === 'string');
  }

  /**
   * File contents of an object, or null when it has none; `etag` is their version. Resumable:
   * given the bytes of an earlier attempt (`resume`), asks only for the rest, and never glues
   * bytes of two versions (If-Range). When the body breaks off, `onPartial` hears what arrived.
   *
   * @example
   * const file = await client.getFile('Attachment', id, { resume: { etag, data }, onPartial: (p) => (kept = p) });
   */
  async getFile(
    entity: string,
    id: string,
    signalOrOptions?: AbortSignal | GetFileOptions,
  ): Promise<{ data: Uint8Array; contentType: string; etag: string | null } | null> {
    const options: GetFileOptions = signalOrOptions instanceof AbortSignal ? { signal: signalOrOptions } : (signalOrOptions ?? {});
    const { signal, resume, onPartial } = options;
    const path = fileUrl(entity, id);
    const headers = resume?.data.byteLength ? { range: `bytes=${resume.data.byteLength}-`, 'if-range': resume.etag } : undefined;
    const res = await this.#send('GET', path, undefined, undefined, signal, headers);
    if (res.status === 404) return null;
    if (res.status === 416 && headers) {
      // The bytes held are the whole file, or more than it: start again from the first byte.
      await res.body?.cancel();
      return this.getFile(entity, id, { signal, onPartial });
    }
    if (!res.ok) throw await toServerError(res);
    const contentType = res.headers.get('content-type') ?? 'application/octet-stream';
    const etag = res.headers.get('etag');
    let prefix: Uint8Array = new Uint8Array(0);
    let size = Number(res.headers.get('content-length') ?? NaN);
    if (res.status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
      if (!headers || !resume || !range || Number(range[1]) !== resume.data.byteLength || etag !== resume.etag) {
        await res.body?.cancel();
        throw new ProtocolError(`GET ${path}: a partial answer that does not continue the bytes held`);
      }
      prefix = resume.data;
      size = Number(range[3]);
    }
    const parts: Uint8Array[] = [prefix];
    let received = prefix.byteLength;
    try {
      const reader = res.body?.getReader();
      for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader!.read()) {
        parts.push(chunk.value);
        received += chunk.value.byteLength;
      }
    } catch (e) {
      if (etag && received > 0) onPartial?.({ etag, data: joinBytes(parts, received), contentType, size: Number.isFinite(size) ? size : received });
      throw toNetworkError(e, signal, `GET ${path}`);
    }
    return { data: joinBytes(parts, received), contentType, etag };
  }

  async putFile(entity: string, id: string, data: Uint8Array<ArrayBuffer>, contentType: string, signal?: AbortSignal): Promise<void> {
    const res = await this.#send('PUT', fileUrl(entity, id), data as Uint8Array<ArrayBuffer>, contentType, signal);
    if (!res.ok) throw await toServerError(res);
    await readBody(res, (r) => r.arrayBuffer());
  }

  /** Where the resumable upload `uploadId` of an object's contents stands on the server. */
  fileUploadStatus(entity: string, id: string, uploadId: string, signal?: AbortSignal): Promise<FileUploadStatus> {
    return this.#json('GET', uploadUrl(entity, id, uploadId), undefined, signal, isUploadStatus);
  }

  /** Sends one chunk of the resumable upload `uploadId` (docs/protocol.md, "Resumable file uploads"). */
  async putFileChunk(
    entity: string,
    id: string,
    uploadId: string,
    chunk: { offset: number; size: number; data: Uint8Array; contentType: string },
    signal?: AbortSignal,
  ): Promise<FileUploadStatus> {
    const path = `${uploadUrl(entity, id, uploadId)}?offset=${chunk.offset}&size=${chunk.size}`;
    const res = await this.#send('PUT', path, chunk.data as Uint8Array<ArrayBuffer>, chunk.contentType, signal);
    if (!res.ok) {
      const error = await toServerError(res);
      throw error.status === 413 ? new FileTooLargeError(chunk.size, null) : error;
    }
    const parsed = await this.#parse(res, 'PUT', path, isUploadStatus);
    return parsed as FileUploadStatus;
  }

  /**
   * Uploads an object's file contents in chunks, resumably: a file larger than one chunk first
   * asks the server how many bytes of `uploadId` it already holds and sends only the rest, so an
   * upload broken off at 80 % sends the last 20 % next time. Keep `uploadId` for the same
   * contents across attempts (a new one starts from byte 0). Answers the object after the swap
   * (its changedDate moved), or null when an earlier attempt had already completed the upload.
   * Throws FileTooLargeError, before sending a byte, over `maxFileSize` (or when the server refuses the size).
   *
   * @example
   * const object = await client.uploadFile('Attachment', id, uploadId, bytes, 'image/png');
   */
  async uploadFile(
    entity: string,
    id: string,
    uploadId: string,
    data: Uint8Array,
    contentType: string,
    options: UploadFileOptions = {},
  ): Promise<SyncObject | null> {
    const { signal, onProgress } = options;
    const size = data.byteLength;
    if (size > this.maxFileSize) throw new FileTooLargeError(size, this.maxFileSize);
    let offset = 0;
    // One chunk costs less to resend than a round trip to ask; a larger file asks first.
    if (size > this.fileChunkSize) {
      const status = await this.fileUploadStatus(entity, id, uploadId, signal);
      if (status.complete) return null;
      offset = status.offset;
    }
    for (let conflicts = 0; ; ) {
      const end = Math.min(offset + this.fileChunkSize, size);
      let status: FileUploadStatus;
      try {
        status = await this.putFileChunk(entity, id, uploadId, { offset, size, data: data.subarray(offset, end), contentType }, signal);
      } catch (e) {
        // The server holds another offset (a chunk whose answer was lost): resume from its count.
        if (!(e instanceof ServerError && e.status === 409) || ++conflicts > 3) throw e;
        status = await this.fileUploadStatus(entity, id, uploadId, signal);
        if (status.size !== null && status.size !== size) throw e;
      }
      if (status.complete) return status.object ?? null;
      offset = status.offset;
      onProgress?.(offset, size);
    }
  }

  async #json<T>(
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    looksRight: (b: any) => boolean,
  ): Promise<T> {
    const res = await this.#send(method, path, body === undefined ? undefined : JSON.stringify(body), 'application/json', signal);
    if (!res.ok) throw await toServerError(res);
    return this.#parse<T>(res, method, path, looksRight);
  }

  async #parse<T>(res: Response, method: string, path: string, looksRight: (b: any) => boolean): Promise<T> {
    const text = await readBody(res, (r) => r.text());
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ProtocolError(`${method} ${path}: the answer is not JSON`);
    }
    if (!looksRight(parsed)) throw new ProtocolError(`${method} ${path}: the answer does not follow the protocol`);
    return parsed as T;
  }

  async #send(
    method: string,
    path: string,
    body: BodyInit | undefined,
    contentType: string | undefined,
    signal: AbortSignal | undefined,
    extraHeaders?: Record<string, string>,
  ): Promise<Response> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const headers: Record<string, string> = {
      ...extraHeaders,
      authorization: `Bearer ${this.#token}`,
      'x-device-id': this.deviceId,
    };
    if (contentType && body !== undefined) headers['content-type'] = contentType;
    try {
      return await this.#fetch(this.baseUrl + path, {
        method,
        headers,
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (e) {
      throw toNetworkError(e, signal, `${method} ${path}`);
    }
  }
}

function fileUrl(entity: string, id: string): string {
  return `/api/files/${encodeURIComponent(entity)}/${encodeURIComponent(id)}`;
}

function uploadUrl(entity: string, id: string, uploadId: string): string {
  return `${fileUrl(entity, id)}/uploads/${encodeURIComponent(uploadId)}`;
}

function isUploadStatus(b: any): boolean {
  return typeof b?.offset === 'number' && typeof b?.complete === 'boolean';
}

/** `parts` as one array of `length` bytes. */
function joinBytes(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 2 && parts[0].byteLength === 0) return parts[1];
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** A response body that breaks off mid-way is a network fault, not a protocol one. */
async function readBody<T>(res: Response, read: (r: Response) => Promise<T>): Promise<T> {
  try {
    return await read(res);
  } catch (e) {
    throw toNetworkError(e, undefined, res.url);
  }
}

function toNetworkError(e: unknown, signal: AbortSignal | undefined, what: string): SyncflowError {
  if (e instanceof SyncflowError) return e;
  if (signal?.aborted) return new SyncflowError('sync_cancelled', `${what} was cancelled`, { cause: e });
  const reason = e instanceof Error ? e.message : String(e);
  return new NetworkError(`${what} failed: ${reason}`, { cause: e });
}

async function toServerError(res: Response): Promise<ServerError> {
  let code: ErrorCode | undefined;
  let message = `the server answered ${res.status}`;
  try {
    const body = (await res.json()) as ErrorBody;
    if (body?.error?.message) {
      message = body.error.message;
      code = body.error.code as ErrorCode;
    }
  } catch {
    // not a protocol error body: keep the status line
  }
  return new ServerError(res.status, code, message);
}
