/**
 * The editor's Node side: serves the built app, proxies `/api/*` to the sync server on the
 * same origin (the runtime in the page needs no CORS), and offers the flows API over a folder.
 * It runs on a port of its own (`startEditor`) or under a path of the sync server's own port
 * (`createEditorHandler` with `basePath: '/editor'`, mounted by `startSyncServer`); the paths
 * below are then under that base (`/editor/api/*`, `/editor/editor-api/*`).
 *
 * The editor is a signed-in user of the sync server like any other client: the user gives their
 * bearer token once, the sync server says who it is (`GET /api/me`), and the editor keeps it in
 * a server-side session behind an HttpOnly, SameSite=Strict cookie. The page never holds a
 * token; the proxy adds the session's own token to every `/api/*` call.
 *
 *   GET    /editor-api/session        { user, roles, canAuthor }  (401 when not signed in)
 *   POST   /editor-api/session        { token } signs in (401 for a token the sync server refuses)
 *   DELETE /editor-api/session        signs out
 *   GET    /editor-api/app            { schema, profiles }: the app the page validates and runs flows against
 *   GET    /editor-api/flows          { flows: FlowSummary[] }
 *   GET    /editor-api/flows/:id      FlowSummary
 *   PUT    /editor-api/flows/:id      save a flow (authors; 400 { error, problems } when it would not load;
 *                                      If-Match: the version it was based on, 409 { error, current } when stale;
 *                                      ?draft=1 keeps a flow with problems, listed)
 *   POST   /editor-api/flows          { name } creates <name>.flow.json (authors; 409 when it exists)
 *
 * Every request must name the editor in `Host` (DNS rebinding); every write must come from the
 * page's own Origin and, on the editor API, be `application/json` (no form or text/plain POST).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { isSyncflowError, statusForCode, SyncflowError, ValidationError } from '../../src/errors.ts';
import type { Schema } from '../../src/model/schema.ts';
import { parseProfiles } from '../../src/profiles/parseProfiles.ts';
import { askSyncServer } from './askSyncServer.ts';
import { ensureEditorBuilt } from './buildEditor.ts';
import { FlowRepository, InvalidFlowError, NAME_RULE, StaleFlowError } from './flowRepository.ts';
import { ifMatchOf } from './ifMatch.ts';
import { jsonDepthProblem } from './jsonDepth.ts';
import { allowedHostNames, checkHostAndOrigin, checkJsonBody, isWrite, type Refusal } from './requestGuard.ts';
import { SessionStore, type EditorSession } from './SessionStore.ts';

export interface EditorHandlerOptions {
  /**
   * The address the server listens on (default 127.0.0.1): with localhost, 127.0.0.1 and [::1],
   * the one Host the editor answers to besides `allowedHosts`.
   */
  host?: string;
  /** Serve under this path (e.g. `/editor`) instead of `/`: the editor shares another server's port. */
  basePath?: string;
  /**
   * Host names the editor answers to besides localhost, 127.0.0.1, [::1] and `host`
   * (e.g. the name of a reverse proxy in front of it). Any other Host is refused (421).
   */
  allowedHosts?: string[];
  /**
   * The sync server, e.g. `http://127.0.0.1:4000`; `/api/*` is proxied to it, sign-ins are checked by it.
   * A function when the URL is known only once the server listens (the editor mounted on its port).
   */
  syncServerUrl: string | (() => string);
  /** The folder of `*.flow.json` files the editor opens and saves. */
  flowsDir: string;
  /**
   * The app's schema: flows are validated, completed and run against it. Required — an editor
   * that fell back to another app's schema would accept flows the app cannot run.
   */
  schema: Schema;
  /**
   * The app's sync profile definitions, as the config's `profiles.definitions` (JSON: an array or
   * `{ profiles: [...] }`, or SmartSync.xml text); default none. The page's runtime runs them and
   * a Run profile activity is checked against their names. A bad one is a ValidationError at start.
   */
  profiles?: unknown;
  /** The sync server role that may save and create flows (default `author`); every signed-in user may open and run them. */
  authorRole?: string;
  /** Where the built app is (default `editor/dist`, built when missing or stale). */
  distDir?: string;
  /** Progress lines (the build) and unexpected errors; default silent. */
  log?: (line: string) => void;
}

export interface StartEditorOptions extends Omit<EditorHandlerOptions, 'basePath'> {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1: only this machine reaches the editor unless told otherwise. */
  host?: string;
}

export interface EditorHandler {
  /** The path the editor is served under ('' for `/`). */
  basePath: string;
  /** Answers one request; requests outside `basePath` are not its business (404). */
  handle(req: IncomingMessage, res: ServerResponse): void;
}

export interface RunningEditor {
  url: string;
  /** The session cookie's name (it holds the port: two editors on one host keep their sign-ins apart). */
  sessionCookie: string;
  close(): Promise<void>;
}


const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

const MAX_BODY = 2 * 1024 * 1024;
/** Failed sign-ins per address and minute before 429 (guessing tokens through the editor). */
const MAX_FAILED_SIGN_INS = 20;

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/**
 * The editor as a request handler, to serve on a port of its own or under a path of another
 * server. Builds the app first when `editor/dist` is missing or older than the sources.
 *
 * @example
 * let url = '';
 * const editor = await createEditorHandler({ basePath: '/editor', syncServerUrl: () => url, flowsDir: 'flows', schema });
 * const server = createServer((req, res) => (req.url?.startsWith('/editor') ? editor.handle(req, res) : other(req, res)));
 */
export async function createEditorHandler(options: EditorHandlerOptions): Promise<EditorHandler> {
  // Also checked at run time: JavaScript callers and config files get no compile-time check.
  const schema = options.schema;
  if (!isDefinedSchema(schema)) throw ValidationError.at('schema', "the app's schema is required (defineSchema({ entities: { ... } }))");
  // Parsed before the build: a bad definition stops the start at once, naming its field.
  const app = { schema, profiles: options.profiles === undefined ? [] : parseProfiles(schema, options.profiles) };
  const distDir = await ensureEditorBuilt({ distDir: options.distDir, log: options.log });
  const repository = new FlowRepository(options.flowsDir, schema, undefined, app.profiles.map((p) => p.name));
  const authorRole = options.authorRole ?? 'author';
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  if (basePath && !/^(\/[A-Za-z0-9_-]+)+$/.test(basePath)) throw ValidationError.at('basePath', 'a path such as /editor (letters, digits, - and _)');
  const syncServerUrl = options.syncServerUrl;
  const targetOf = () => new URL(typeof syncServerUrl === 'function' ? syncServerUrl() : syncServerUrl);
  const hostNames = allowedHostNames(options.host ?? '127.0.0.1', options.allowedHosts);
  const sessions = new SessionStore();
  const failedSignIns = new Map<string, { count: number; resetMs: number }>();
  // The cookie holds the port the browser came in on: two editors on one host keep their sign-ins apart.
  const cookieNameOf = (req: IncomingMessage) => sessionCookieName(req.socket.localPort ?? 0);
  const cookiePath = basePath || '/';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = checkHostAndOrigin(req, hostNames);
    if (refusal) return sendRefusal(res, refusal);
    // The raw path: a URL parser would read `//host/x` as another host and tidy `..` away.
    const raw = (req.url ?? '/').split('?')[0];
    if (basePath && raw === basePath) {
      // The page's addresses are relative to its folder: `/editor` must be `/editor/`.
      res.writeHead(308, { location: `${basePath}/${(req.url ?? '').slice(raw.length)}`, 'cache-control': 'no-store' });
      return void res.end();
    }
    if (!raw.startsWith(`${basePath}/`)) return sendJson(res, 404, { error: { code: 'not_found', message: 'Not found' } });
    const path = raw.slice(basePath.length);
    const session = sessions.get(cookieOf(req, cookieNameOf(req)));
    if (path === '/api' || path.startsWith('/api/')) {
      if (!session) return sendJson(res, 401, { error: { code: 'unauthorized', message: 'Sign in to the editor first' } });
      return proxy(req, res, targetOf(), (req.url ?? '/').slice(basePath.length), session.token);
    }
    if (path.startsWith('/editor-api/')) return api(req, res, path.slice('/editor-api'.length), session);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: { code: 'not_found', message: 'Method not allowed' } });
    return serveStatic(res, distDir, path, basePath);
  }

  async function api(req: IncomingMessage, res: ServerResponse, path: string, session: EditorSession | undefined): Promise<void> {
    const method = req.method ?? 'GET';
    if (isWrite(method) && method !== 'DELETE') {
      const notJson = checkJsonBody(req);
      if (notJson) return sendRefusal(res, notJson);
    }
    if (path === '/session') {
      if (method === 'POST') return signIn(req, res);
      if (method === 'DELETE') {
        if (session) sessions.delete(session.id);
        res.writeHead(204, { 'set-cookie': `${cookieNameOf(req)}=; HttpOnly; SameSite=Strict; Path=${cookiePath}; Max-Age=0`, 'cache-control': 'no-store' });
        return void res.end();
      }
      if (method === 'GET') {
        if (!session) return sendJson(res, 401, { error: { code: 'unauthorized', message: 'Not signed in' } });
        return sendJson(res, 200, whoOf(session));
      }
    }
    if (!session) return sendJson(res, 401, { error: { code: 'unauthorized', message: 'Sign in to the editor first' } });
    if (path === '/app' && method === 'GET') return sendJson(res, 200, app);
    if (path === '/flows' && method === 'GET') return sendJson(res, 200, { flows: await repository.list() });
    if (path === '/flows' && method === 'POST') {
      await requireAuthor(res, session);
      const body = (await readJson(req)) as { name?: unknown } | null;
      if (typeof body?.name !== 'string') throw new InvalidFlowError([{ path: 'name', message: 'give the new flow a name' }]);
      return sendJson(res, 201, await repository.create(body.name));
    }
    const match = /^\/flows\/([^/]+)$/.exec(path);
    if (match && (method === 'GET' || method === 'PUT')) {
      const id = decodeName(match[1]);
      if (method === 'GET') {
        const found = await repository.read(id);
        return sendJson(res, 200, found, { etag: etagOf(found.version) });
      }
      await requireAuthor(res, session);
      const ifMatch = ifMatchOf(req.headers['if-match']);
      const draft = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('draft');
      const saved = await repository.save(id, await readJson(req), { ifMatch, draft: draft === '1' || draft === 'true' });
      return sendJson(res, 200, saved, { etag: etagOf(saved.version) });
    }
    sendJson(res, 404, { error: { code: 'not_found', message: 'No such editor API call' } });
  }

  async function signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const address = req.socket.remoteAddress ?? '';
    const failed = failedSignIns.get(address);
    if (failed && failed.resetMs > Date.now() && failed.count >= MAX_FAILED_SIGN_INS) {
      res.setHeader('retry-after', String(Math.ceil((failed.resetMs - Date.now()) / 1000)));
      return sendJson(res, 429, { error: { code: 'too_many_requests', message: 'Too many failed sign-ins: wait a minute' } });
    }
    const body = (await readJson(req)) as { token?: unknown } | null;
    const token = typeof body?.token === 'string' ? body.token.trim() : '';
    const who = token ? await askSyncServer(targetOf(), token) : ({ refused: 'unauthorized' } as const);
    if ('refused' in who) {
      if (who.refused === 'too_many_requests') {
        if (who.retryAfter) res.setHeader('retry-after', who.retryAfter);
        return sendJson(res, 429, { error: { code: 'too_many_requests', message: 'Too many failed sign-ins: wait a minute' } });
      }
      const now = Date.now();
      const entry = failed && failed.resetMs > now ? failed : { count: 0, resetMs: now + 60_000 };
      entry.count++;
      failedSignIns.set(address, entry);
      return sendJson(res, 401, { error: { code: 'unauthorized', message: 'The sync server does not know this token' } });
    }
    failedSignIns.delete(address);
    const session = sessions.create({ user: who.user, roles: who.roles, token });
    res.setHeader('set-cookie', `${cookieNameOf(req)}=${session.id}; HttpOnly; SameSite=Strict; Path=${cookiePath}`);
    sendJson(res, 200, whoOf(session));
  }

  /** Asks the sync server again before a write: a revoked token or a removed role applies at once. */
  async function requireAuthor(res: ServerResponse, session: EditorSession): Promise<void> {
    const who = await askSyncServer(targetOf(), session.token);
    if ('refused' in who) {
      if (who.refused === 'unauthorized') sessions.delete(session.id);
      throw new SyncflowError('unauthorized', 'Your sign-in is no longer valid: sign in again');
    }
    sessions.setRoles(session.id, who.roles);
    if (!who.roles.includes(authorRole)) {
      throw new SyncflowError('forbidden', `Only users with the role "${authorRole}" may save or create flows; ${session.user} may open and run them`);
    }
  }

  const whoOf = (session: EditorSession) => ({ user: session.user, roles: session.roles, canAuthor: session.roles.includes(authorRole) });

  return {
    basePath,
    handle: (req, res) => void handle(req, res).catch((e) => sendError(res, e, options.log)),
  };
}

/**
 * Starts the editor on a port of its own.
 *
 * @example
 * const server = await startDemoServer({ port: 4000 });
 * const editor = await startEditor({ port: 5173, syncServerUrl: server.url, flowsDir: 'flows', schema });
 * console.log(`editor: ${editor.url}`);
 */
export async function startEditor(options: StartEditorOptions): Promise<RunningEditor> {
  const boundHost = options.host ?? '127.0.0.1';
  const editor = await createEditorHandler({ ...options, host: boundHost });
  const sockets = new Set<Socket>();
  const server = createServer(editor.handle);
  // A request trickled in slowly does not hold a socket for ever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, boundHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const shown = host === '0.0.0.0' || host === '[::]' ? 'localhost' : host;
  return {
    url: `http://${shown}:${address.port}`,
    sessionCookie: sessionCookieName(address.port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

// ---------------------------------------------------------------------------------------------

/** The editor's session cookie on a port. */
export function sessionCookieName(port: number): string {
  return `syncflow_editor_${port}`;
}


/** `url` is the request's path and query below the editor's base. */
function proxy(req: IncomingMessage, res: ServerResponse, target: URL, url: string, token: string): void {
  const base = target.pathname.replace(/\/$/, '');
  // The session's token, whatever the page sent: a page acts only as its signed-in user.
  const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: target.host, authorization: `Bearer ${token}` };
  delete headers.connection;
  delete headers.cookie;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const upstream = send(
    {
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: base + url,
      headers,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) sendJson(res, 502, { error: { code: 'network', message: `The sync server ${target.origin} is not reachable` } });
    else res.destroy();
  });
  req.pipe(upstream);
}

async function serveStatic(res: ServerResponse, distDir: string, path: string, basePath: string): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return sendJson(res, 400, { error: { code: 'validation_failed', message: 'The path is not a valid address (a bad %-escape)' } });
  }
  let file = normalize(join(distDir, decoded));
  if ((!file.startsWith(distDir + sep) && file !== distDir) || decoded.includes('\0')) return sendJson(res, 404, { error: { code: 'not_found', message: 'Not found' } });
  let s = await stat(file).catch(() => null);
  if (s?.isDirectory()) {
    file = join(file, 'index.html');
    s = await stat(file).catch(() => null);
  }
  const isAsset = path.startsWith('/assets/');
  if (!s) {
    if (isAsset || extname(decoded)) return sendJson(res, 404, { error: { code: 'not_found', message: 'Not found' } });
    // Any other address is the page, at its own address: its asset and API paths are relative to it
    // (the flow is in the hash).
    res.writeHead(302, { location: `${basePath}/`, 'cache-control': 'no-store' });
    return void res.end();
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': s.size,
    'x-content-type-options': 'nosniff',
    // Hashed file names never change; the page itself is always revalidated.
    'cache-control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
    // No eval in the page: the runtime's parser and validator must work without it (style attributes are the canvas's).
    ...(extname(file) === '.html' ? { 'content-security-policy': CSP } : {}),
  });
  createReadStream(file).pipe(res);
}

/** A flow id from the path: a bad %-escape is a bad name (400), not a crash. */
function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw ValidationError.at('name', `not a valid flow name (a bad %-escape): a name ${NAME_RULE}`);
  }
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new SyncflowError('payload_too_large', 'The body is larger than 2 MB');
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new InvalidFlowError([{ path: '', message: 'the body is not valid JSON' }]);
  }
  // Bounded here, at parse time: what comes next (validation, JSON.stringify) recurses.
  const depth = jsonDepthProblem(value);
  if (depth) throw new InvalidFlowError([depth]);
  return value;
}

/** A flow's version as an ETag (a strong one: the hash of the file's bytes). */
function etagOf(version: string): string {
  return `"${version}"`;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

function sendRefusal(res: ServerResponse, refusal: Refusal): void {
  sendJson(res, refusal.status, { error: { code: refusal.code, message: refusal.message } });
}

/** The one place an error becomes an answer; an unexpected one says nothing of paths or internals. */
function sendError(res: ServerResponse, e: unknown, log?: (line: string) => void): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (e instanceof InvalidFlowError || e instanceof ValidationError) return sendJson(res, 400, { error: e.toJSON(), problems: e.problems });
  if (e instanceof StaleFlowError) return sendJson(res, 409, { error: e.toJSON(), current: e.current }, { etag: etagOf(e.current.version) });
  if (isSyncflowError(e) && e.code === 'network') return sendJson(res, 502, { error: e.toJSON() });
  if (isSyncflowError(e) && statusForCode(e.code) < 500) {
    // A body refused before it was read: the client may still be sending it.
    if (e.code === 'payload_too_large') res.setHeader('connection', 'close');
    return sendJson(res, statusForCode(e.code), { error: e.toJSON() });
  }
  log?.(`editor: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  sendJson(res, 500, { error: { code: 'internal', message: 'The editor server failed; see its log' } });
}

/** Whether a value is a schema made by defineSchema (its entities and their order), not a raw definition. */
function isDefinedSchema(value: unknown): value is Schema {
  const s = value as Partial<Schema> | null | undefined;
  return typeof s === 'object' && s !== null && typeof s.entities === 'object' && s.entities !== null && Array.isArray(s.order);
}
