import { createServer, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { SchemaError, SyncflowError, TooManyRequestsError, ValidationError } from '../errors.ts';
import type { Schema } from '../model/schema.ts';
import type { SyncObject } from '../model/values.ts';
import type { ChangeRequest, ChangeResult, FailuresResponse, MeResponse, RetryResponse, UploadResponse } from '../transport/wire.ts';
import { AccessPolicy, type AccessRules } from './access.ts';
import { authenticate, authenticateWith, checkUsers, DEFAULT_SIGN_IN_LIMIT, saveUsers, setRoles, type SignInLimit, type UserConfig } from './auth.ts';
import type { AuthUser } from './AuthUser.ts';
import { download } from './download.ts';
import { clientErrorResponse, errorReply } from './errorReply.ts';
import { dismissFailure, listFailures, retryFailure } from './failures.ts';
import { fetchObjects } from './fetchObjects.ts';
import { fileAnswer, fileUploadStatus, getFile, putFile, putFileChunk, RangeNotSatisfiableError } from './files.ts';
import { checkHandlers, type Handlers } from './handlers.ts';
import { listIds } from './listIds.ts';
import { ensureReferenceIndexes } from './referenceIndexes.ts';
import { downloadBody, failuresQuery, fetchBody, idsBody, parseRequest, parseUploadRequest, requestId } from './requests.ts';
import { referrersOf, type ServerContext } from './ServerContext.ts';
import type { Storage } from './storage/Storage.ts';
import { upload } from './upload.ts';

export interface SyncServerOptions {
  schema: Schema;
  storage: Storage;
  /** Created or updated in storage at start (tokens kept as sha256 hashes). */
  users?: UserConfig[];
  access: AccessRules;
  handlers?: Handlers;
  /**
   * `inOrder` applies every upload change by change (a savepoint per change, the clock held for
   * the whole transaction) instead of set-based where exact. The results are the same; it is
   * there to compare the two paths (tests, diagnostics), not for production.
   */
  uploadPath?: 'auto' | 'inOrder';
  /** Largest JSON request body, in bytes (default 16 MiB). */
  bodyLimit?: number;
  /** Largest file body for PUT /api/files, in bytes (default 64 MiB). */
  fileLimit?: number;
  /** Answer browsers from any origin (the flow editor runs on another port). Tokens travel in a header, not cookies. */
  cors?: boolean;
  /** Fastify's logger option (default off). */
  logger?: FastifyServerOptions['logger'];
  /** How long a client may take over a request or hold an idle socket (defaults: SERVER_TIMEOUTS). */
  timeouts?: Partial<ServerTimeouts>;
  /** Failed sign-ins allowed per client address (default 100 a minute); `false` turns the limit off. */
  signInLimit?: SignInLimit | false;
  /** Behind a proxy: trust its `X-Forwarded-For` for the client's address (fastify's `trustProxy`; default off). */
  trustProxy?: FastifyServerOptions['trustProxy'];
  /**
   * The app's own authentication: the user a bearer token belongs to, or null. Default: the
   * token table (`users` and the tokens `syncflow token issue` hands out).
   */
  verifyToken?: (token: string) => AuthUser | null | Promise<AuthUser | null>;
  /**
   * Another app on this port (the flow editor under `/editor`): requests for `prefix` and below go
   * to `handle` as they came, before the API's hooks, CORS and body parsing.
   */
  mount?: MountedApp;
}

/** A plain Node request handler served under a path prefix of the sync server's port. */
export interface MountedApp {
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/** Time limits of the HTTP server, in milliseconds. A slow or stalled client cannot hold a socket for long. */
export interface ServerTimeouts {
  /** From a request's first byte until its whole body has arrived; then 408 and the socket closes. */
  requestMs: number;
  /** Until a request's headers have arrived (at most `requestMs`). */
  headersMs: number;
  /** A socket on which no byte moves either way is destroyed (a stalled reader of a response too). */
  idleMs: number;
  /** How long a kept-alive socket waits for its next request. */
  keepAliveMs: number;
}

export const SERVER_TIMEOUTS: ServerTimeouts = { requestMs: 30_000, headersMs: 10_000, idleMs: 120_000, keepAliveMs: 10_000 };

export interface SyncServer {
  app: FastifyInstance;
  storage: Storage;
  schema: Schema;
  /** Starts listening; answers the base URL, e.g. `http://127.0.0.1:41234`. */
  listen(options?: { port?: number; host?: string }): Promise<string>;
  /** Stops listening. The storage stays open: it belongs to the caller. */
  close(): Promise<void>;
  /** Replaces a user's roles, in storage: every server process applies it on the next request. */
  setRoles(user: string, roles: string[]): Promise<void>;
  /** Applies changes as `user`, exactly as POST /api/upload does (server scripts, seeding). */
  upload(user: string, changes: ChangeRequest[], device?: string): Promise<ChangeResult[]>;
  /** Stores file contents as `user`, exactly as PUT /api/files/:entity/:id does. */
  putFile(user: string, entity: string, id: string, content: Uint8Array, contentType: string): Promise<SyncObject>;
}

/**
 * Creates the sync server (docs/protocol.md): validates the access rules, handlers and users
 * against the schema (SchemaError naming each problem), stores the users, and builds the HTTP
 * app. It keeps no state of its own: several servers may share one PostgreSQL database.
 *
 * @example
 * const storage = await openStorage({});
 * const server = await createSyncServer({ schema: demoSchema, storage, users: demoUsers, access: demoAccess, handlers: demoHandlers });
 * const url = await server.listen({ port: 4000 });
 */
export async function createSyncServer(options: SyncServerOptions): Promise<SyncServer> {
  const { schema, storage } = options;
  if (!schema?.entities || !storage?.transaction) {
    throw new SchemaError([{ path: schema?.entities ? 'storage' : 'schema', message: 'is required' }]);
  }
  const ctx: ServerContext = {
    schema,
    storage,
    access: AccessPolicy.compile(schema, options.access),
    handlers: checkHandlers(schema, options.handlers ?? {}),
    referrers: referrersOf(schema),
    uploadPath: options.uploadPath ?? 'auto',
  };
  const users = checkUsers(options.users ?? []);
  await saveUsers(storage, users);
  await ensureReferenceIndexes(storage, schema);

  const app = buildApp(ctx, options);
  const userById = async (id: string): Promise<AuthUser> => {
    const { rows } = await storage.query<{ roles: string[] }>('SELECT roles FROM sf_users WHERE id = $1', [id]);
    // With the app's own verifier, users need not be in the token table: a server script acts without roles.
    if (!rows[0] && options.verifyToken) return { id, roles: [] };
    if (!rows[0]) throw new SyncflowError('not_found', `No user "${id}"`);
    return { id, roles: rows[0].roles };
  };

  return {
    app,
    storage,
    schema,
    async listen({ port = 0, host = '127.0.0.1' } = {}) {
      return app.listen({ port, host });
    },
    close: () => app.close(),
    setRoles: (user, roles) => setRoles(storage, user, roles),
    async upload(user, changes, device = 'server') {
      return (await upload(ctx, await userById(user), device, parseUploadRequest(schema, { changes }))).results;
    },
    async putFile(user, entity, id, content, contentType) {
      return putFile(ctx, await userById(user), entity, id, content, contentType);
    },
  };
}

const JSON_TYPE = 'application/json; charset=utf-8';

function mountingServer(mount: MountedApp): FastifyServerOptions['serverFactory'] {
  const mine = (url: string | undefined) => {
    const path = (url ?? '').split('?')[0];
    return path === mount.prefix || path.startsWith(`${mount.prefix}/`);
  };
  return (handler, options) => {
    const o = options as { http?: ServerOptions; keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number };
    const server = createServer(o.http ?? {}, (req, res) => (mine(req.url) ? mount.handle(req, res) : handler(req, res)));
    server.keepAliveTimeout = o.keepAliveTimeout;
    server.requestTimeout = o.requestTimeout;
    server.setTimeout(o.connectionTimeout);
    return server;
  };
}

function buildApp(ctx: ServerContext, options: SyncServerOptions): FastifyInstance {
  const timeouts = { ...SERVER_TIMEOUTS, ...options.timeouts };
  const signInLimit = options.signInLimit ?? DEFAULT_SIGN_IN_LIMIT;
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024,
    logger: options.logger ?? false,
    trustProxy: options.trustProxy ?? false,
    // A malformed URL (bad percent-encoding) gets the protocol's error body too, not Fastify's own.
    frameworkErrors: (error, _req, reply) => void (reply as FastifyReply).status(errorReply(error).status).type(JSON_TYPE).send(errorReply(error).body),
    requestTimeout: timeouts.requestMs,
    connectionTimeout: timeouts.idleMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    // Node checks request and header deadlines on this interval (30 s by default, which would let a
    // trickled body live up to twice the limit).
    http: { connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(timeouts.requestMs / 4))) },
    // A mounted app gets its requests before Fastify sees them (no routing, hooks, CORS or body
    // parsing); the server's time limits are set as Fastify sets them on a server of its own.
    ...(options.mount ? { serverFactory: mountingServer(options.mount) } : {}),
    clientErrorHandler(error, socket) {
      const response = socket.destroyed ? null : clientErrorResponse(error as { code?: unknown }, timeouts.requestMs);
      if (response && socket.writable) socket.write(response);
      socket.destroy();
    },
  });
  app.server.headersTimeout = Math.min(timeouts.headersMs, timeouts.requestMs);
  // The authenticated user of each request (a WeakMap rather than a request decoration: no global typings).
  const users = new WeakMap<FastifyRequest, AuthUser>();
  // JSON only: a text/plain body is a 400 naming content-type, not a string handed to the endpoints.
  app.removeContentTypeParser('text/plain');
  const userOf = (req: FastifyRequest): AuthUser => users.get(req)!;

  app.setErrorHandler((error, req, reply) => {
    const { status, body, internal } = errorReply(error);
    if (internal) req.log.error({ err: error }, 'request failed');
    if (status === 401) reply.header('www-authenticate', 'Bearer');
    if (error instanceof TooManyRequestsError) reply.header('retry-after', String(error.retryAfterSeconds));
    // A refused sign-in ends the connection: an unauthenticated client keeps no socket (nor a body it trickles).
    if (status === 401 || status === 429) reply.header('connection', 'close');
    return reply.status(status).type(JSON_TYPE).send(body);
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).type(JSON_TYPE).send({ error: { code: 'not_found', message: `No endpoint ${req.method} ${req.url.split('?')[0]}` } }),
  );

  if (options.cors) {
    app.addHook('onRequest', async (req, reply) => {
      reply.header('access-control-allow-origin', '*');
      if (req.method === 'OPTIONS') {
        reply
          .header('access-control-allow-methods', 'GET, POST, PUT, OPTIONS')
          .header('access-control-allow-headers', 'authorization, content-type, x-device-id')
          .header('access-control-max-age', '600');
        return reply.status(204).send();
      }
    });
  }

  app.get('/api/health', async () => ({ status: 'ok' }));

  app.register(async (api) => {
    // Authenticate before the body is read: an anonymous request never costs a parse.
    api.addHook('onRequest', async (req) => {
      const verify = options.verifyToken;
      users.set(
        req,
        verify
          ? await authenticateWith(ctx.storage, req.headers.authorization, req.ip, signInLimit, verify)
          : await authenticate(ctx.storage, req.headers.authorization, req.ip, signInLimit),
      );
    });

    api.get('/api/me', async (req): Promise<MeResponse> => {
      const user = userOf(req);
      return { user: user.id, roles: [...user.roles] };
    });

    api.get('/api/schema', async () => ctx.schema);

    api.post('/api/upload', async (req): Promise<UploadResponse> => {
      const device = deviceOf(req);
      const changes = parseUploadRequest(ctx.schema, req.body);
      return upload(ctx, userOf(req), device, changes);
    });

    api.post('/api/download', async (req, reply) => {
      const body = parseRequest(downloadBody, req.body);
      return sendJsonText(reply, await download(ctx, userOf(req), body));
    });

    api.post('/api/fetch', async (req, reply) => {
      const body = parseRequest(fetchBody, req.body);
      return sendJsonText(reply, await fetchObjects(ctx, userOf(req), body));
    });

    api.post('/api/ids', async (req) => listIds(ctx, userOf(req), parseRequest(idsBody, req.body)));

    api.get('/api/failures', async (req): Promise<FailuresResponse> => {
      return listFailures(ctx, userOf(req), parseRequest(failuresQuery, req.query, 'query'));
    });

    api.post<{ Params: { id: string } }>('/api/failures/:id/retry', async (req): Promise<RetryResponse> => {
      return { result: await retryFailure(ctx, userOf(req), requestId(req.params.id)) };
    });

    api.post<{ Params: { id: string } }>('/api/failures/:id/dismiss', async (req) => {
      return { failure: await dismissFailure(ctx, userOf(req), requestId(req.params.id)) };
    });

    api.register(async (files) => {
      // File bodies are raw bytes of any content type.
      files.removeAllContentTypeParsers();
      const fileLimit = options.fileLimit ?? 64 * 1024 * 1024;
      files.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: fileLimit }, (_req, body, done) =>
        done(null, body),
      );

      files.get<{ Params: { entity: string; id: string } }>('/api/files/:entity/:id', async (req, reply) => {
        const file = await getFile(ctx, userOf(req), req.params.entity, req.params.id);
        const answer = answerFileOrRange(reply, file, req.headers.range, req.headers['if-range']);
        // A user's file is never rendered as a page of this origin: no sniffing, and anything but
        // a raster image downloads (a stored text/html or SVG would run its scripts inline).
        return reply
          .code(answer.status)
          .headers(answer.headers)
          .type(file.contentType)
          .header('cache-control', 'no-store')
          .header('x-content-type-options', 'nosniff')
          .header('content-disposition', isInlineImage(file.contentType) ? 'inline' : 'attachment')
          .send(Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength));
      });

      files.put<{ Params: { entity: string; id: string } }>('/api/files/:entity/:id', async (req) => {
        const content = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const contentType = req.headers['content-type'] || 'application/octet-stream';
        return { object: await putFile(ctx, userOf(req), req.params.entity, req.params.id, content, contentType) };
      });

      type UploadRoute = { Params: { entity: string; id: string; uploadId: string }; Querystring: { offset?: string; size?: string } };

      files.get<UploadRoute>('/api/files/:entity/:id/uploads/:uploadId', async (req) =>
        fileUploadStatus(ctx, userOf(req), req.params.entity, req.params.id, req.params.uploadId),
      );

      files.put<UploadRoute>('/api/files/:entity/:id/uploads/:uploadId', async (req) => {
        const chunk = {
          offset: byteCount(req.query.offset, 'offset'),
          size: byteCount(req.query.size, 'size'),
          contentType: req.headers['content-type'] || 'application/octet-stream',
          data: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        };
        return putFileChunk(ctx, userOf(req), req.params.entity, req.params.id, req.params.uploadId, chunk, fileLimit);
      });
    });
  });
  return app;
}

/** fileAnswer, with the `Content-Range: bytes *\/size` a 416 carries set on the reply before the error goes on. */
function answerFileOrRange(reply: FastifyReply, file: Parameters<typeof fileAnswer>[0], range: string | undefined, ifRange: string | string[] | undefined) {
  try {
    return fileAnswer(file, { range, ifRange: Array.isArray(ifRange) ? ifRange.join(', ') : ifRange });
  } catch (e) {
    if (e instanceof RangeNotSatisfiableError) reply.header('content-range', `bytes */${e.size}`);
    throw e;
  }
}

/** Raster images may show inline; every other type (SVG, HTML, text, ...) downloads as an attachment. */
function isInlineImage(contentType: string): boolean {
  return /^image\/(png|jpeg|gif|webp|avif|bmp)\s*(;|$)/i.test(contentType);
}

/** A byte position or size in a query string: a whole number. */
function byteCount(raw: string | undefined, path: string): number {
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) throw ValidationError.at(path, 'must be a whole number of bytes');
  return Number(raw);
}

/**
 * The device of an upload (`X-Device-Id`): required there, as failures record it. Other
 * endpoints ignore it (a retried failure keeps the device of the original upload).
 */
function deviceOf(req: FastifyRequest): string {
  const raw = req.headers['x-device-id'];
  const device = Array.isArray(raw) ? raw[0] : raw;
  if (!device) throw ValidationError.at('x-device-id', 'the X-Device-Id header is required');
  if (device.length > 200) throw ValidationError.at('x-device-id', 'is longer than 200 characters');
  return device;
}

function sendJsonText(reply: FastifyReply, json: string): FastifyReply {
  return reply.type(JSON_TYPE).send(json);
}
