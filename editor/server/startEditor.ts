/**
 * The editor's Node side: serves the built app, proxies `/api/*` to the sync server on the
 * same origin (the runtime in the page needs no CORS), and offers the flows API over a folder.
 *
 *   GET  /editor-api/config           { users: [{ id, token }] }  (the demo users to run flows as)
 *   GET  /editor-api/flows            { flows: FlowSummary[] }
 *   GET  /editor-api/flows/:id        FlowSummary
 *   PUT  /editor-api/flows/:id        save a flow (400 { error, problems } when it would not load)
 *   POST /editor-api/flows            { name } creates <name>.flow.json (409 when it exists)
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { demoSchema } from '../../src/demo/schema.ts';
import { isSyncflowError, statusForCode } from '../../src/errors.ts';
import type { Schema } from '../../src/model/schema.ts';
import { demoUsers } from '../../src/server/demo.ts';
import { ensureEditorBuilt } from './buildEditor.ts';
import { FlowRepository, InvalidFlowError } from './flowRepository.ts';

export interface EditorUser {
  id: string;
  token: string;
}

export interface StartEditorOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The sync server, e.g. `http://127.0.0.1:4000`; `/api/*` is proxied to it. */
  syncServerUrl: string;
  /** The folder of `*.flow.json` files the editor opens and saves. */
  flowsDir: string;
  /** The app's schema flows are validated against (default: the demo app's). */
  schema?: Schema;
  /** The users a flow can be run as (default: the demo users alice, bob, carol). */
  users?: EditorUser[];
  /** Where the built app is (default `editor/dist`, built when missing or stale). */
  distDir?: string;
  /** Progress lines (the build); default silent. */
  log?: (line: string) => void;
}

export interface RunningEditor {
  url: string;
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

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * Starts the editor. Builds the app first when `editor/dist` is missing or older than the sources.
 *
 * @example
 * const server = await startDemoServer({ port: 4000 });
 * const editor = await startEditor({ port: 5173, syncServerUrl: server.url, flowsDir: 'flows' });
 * console.log(`editor: ${editor.url}`);
 */
export async function startEditor(options: StartEditorOptions): Promise<RunningEditor> {
  const distDir = await ensureEditorBuilt({ distDir: options.distDir, log: options.log });
  const repository = new FlowRepository(options.flowsDir, options.schema ?? demoSchema);
  const users = options.users ?? demoUsers.map(({ id, token }) => ({ id, token }));
  const target = new URL(options.syncServerUrl);
  const sockets = new Set<import('node:net').Socket>();

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => sendError(res, e));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://editor');
    const path = url.pathname;
    if (path === '/api' || path.startsWith('/api/')) return proxy(req, res, target);
    if (path.startsWith('/editor-api/')) return api(req, res, path.slice('/editor-api'.length));
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: { code: 'not_found', message: 'Method not allowed' } });
    return serveStatic(res, distDir, path);
  }

  async function api(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/config' && method === 'GET') return sendJson(res, 200, { users });
    if (path === '/flows' && method === 'GET') return sendJson(res, 200, { flows: await repository.list() });
    if (path === '/flows' && method === 'POST') {
      const body = (await readJson(req)) as { name?: unknown };
      if (typeof body?.name !== 'string') throw new InvalidFlowError([{ path: 'name', message: 'give the new flow a name' }]);
      return sendJson(res, 201, await repository.create(body.name));
    }
    const match = /^\/flows\/([^/]+)$/.exec(path);
    if (match) {
      const id = decodeURIComponent(match[1]);
      if (method === 'GET') return sendJson(res, 200, await repository.read(id));
      if (method === 'PUT') return sendJson(res, 200, await repository.save(id, await readJson(req)));
    }
    sendJson(res, 404, { error: { code: 'not_found', message: `No ${method} ${path}` } });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const shown = host === '0.0.0.0' || host === '[::]' ? 'localhost' : host;
  return {
    url: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

// ---------------------------------------------------------------------------------------------

function proxy(req: IncomingMessage, res: ServerResponse, target: URL): void {
  const base = target.pathname.replace(/\/$/, '');
  const headers = { ...req.headers, host: target.host };
  delete headers.connection;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const upstream = send(
    {
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: base + (req.url ?? '/'),
      headers,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (e) => {
    if (!res.headersSent) sendJson(res, 502, { error: { code: 'network', message: `The sync server ${target.origin} is not reachable: ${e.message}` } });
    else res.destroy(e);
  });
  req.pipe(upstream);
}

async function serveStatic(res: ServerResponse, distDir: string, path: string): Promise<void> {
  let file = normalize(join(distDir, decodeURIComponent(path)));
  if (!file.startsWith(distDir + sep) && file !== distDir) return sendJson(res, 404, { error: { code: 'not_found', message: 'Not found' } });
  let s = await stat(file).catch(() => null);
  if (s?.isDirectory()) {
    file = join(file, 'index.html');
    s = await stat(file).catch(() => null);
  }
  const isAsset = path.startsWith('/assets/');
  if (!s) {
    if (isAsset || extname(path)) return sendJson(res, 404, { error: { code: 'not_found', message: `Not found: ${path}` } });
    // The app's own routes fall back to the page.
    file = join(distDir, 'index.html');
    s = await stat(file);
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': s.size,
    // Hashed file names never change; the page itself is always revalidated.
    'cache-control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
    // No eval in the page: the runtime's parser and validator must work without it (style attributes are the canvas's).
    ...(extname(file) === '.html' ? { 'content-security-policy': CSP } : {}),
  });
  createReadStream(file).pipe(res);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new InvalidFlowError([{ path: '', message: 'the flow is larger than 2 MB' }]);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new InvalidFlowError([{ path: '', message: 'the body is not valid JSON' }]);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function sendError(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (e instanceof InvalidFlowError) return sendJson(res, 400, { error: e.toJSON(), problems: e.problems });
  if (isSyncflowError(e)) return sendJson(res, statusForCode(e.code), { error: e.toJSON() });
  sendJson(res, 500, { error: { code: 'internal', message: e instanceof Error ? e.message : String(e) } });
}
