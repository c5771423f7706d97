/**
 * One port: `syncflow serve` (here `serveApp` in-process, the demo config) serves the flow editor
 * under `/editor/` of the sync server's own port, with the editor's sign-in, Host and Origin checks,
 * and leaves the sync API (`/api/*`) as it was. Raw node:http, so a test controls Host and Origin.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveApp, type RunningApp } from '../../src/cli/serve.ts';
import { loadConfig } from '../../src/config/loadConfig.ts';

const demoConfig = fileURLToPath(new URL('../../src/demo/syncflow.config.ts', import.meta.url));
const flowsSource = fileURLToPath(new URL('../../flows', import.meta.url));

let app: RunningApp;
let flowsDir: string;
let port: number;
let out = '';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };

async function signIn(token: string): Promise<string> {
  const res = await send('POST', '/editor/editor-api/session', json, JSON.stringify({ token }));
  expect(res.status).toBe(200);
  const cookie = [res.headers['set-cookie'] ?? []].flat()[0] ?? '';
  return cookie.split(';')[0];
}

beforeAll(async () => {
  flowsDir = await mkdtemp(join(tmpdir(), 'syncflow-serve-editor-'));
  await cp(flowsSource, flowsDir, { recursive: true });
  const sink = { write: (chunk: string) => ((out += chunk), true) } as unknown as NodeJS.WritableStream;
  app = await serveApp(
    await loadConfig(demoConfig),
    { port: 0, host: '127.0.0.1', editor: true, editorHost: '127.0.0.1', authorRole: 'author', flows: flowsDir },
    sink,
  );
  port = Number(new URL(app.url).port);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await rm(flowsDir, { recursive: true, force: true });
});

describe('the editor on the sync server\'s port', () => {
  it('is printed and linked from / at /editor/, and /editor leads there', async () => {
    expect(app.editorUrl).toBe(`${app.url}/editor/`);
    expect(out).toContain(`syncflow editor:      ${app.url}/editor/`);
    const home = await send('GET', '/');
    expect(home.status).toBe(200);
    expect(home.text).toContain(`href="${app.url}/editor/"`);
    const bare = await send('GET', '/editor?x=1');
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe('/editor/?x=1');
  });

  it('serves the built page under /editor/ with its CSP, and its assets by relative path', async () => {
    const page = await send('GET', '/editor/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    // No CORS on the editor: only the sync API answers other origins.
    expect(page.headers['access-control-allow-origin']).toBeUndefined();
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await send('GET', `/editor/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    const lost = await send('GET', '/editor/some/route');
    expect(lost.status).toBe(302);
    expect(lost.headers.location).toBe('/editor/');
  });

  it('signs in with a cookie scoped to /editor and this port; the page reaches the sync API as that user only', async () => {
    expect((await send('GET', '/editor/editor-api/flows')).status).toBe(401);
    expect((await send('GET', '/editor/api/me')).status).toBe(401);
    const res = await send('POST', '/editor/editor-api/session', json, JSON.stringify({ token: 'alice-token' }));
    expect(res.status).toBe(200);
    const setCookie = [res.headers['set-cookie'] ?? []].flat()[0] ?? '';
    expect(setCookie).toMatch(new RegExp(`^syncflow_editor_${port}=[A-Za-z0-9_-]{40,}; HttpOnly; SameSite=Strict; Path=/editor$`));
    const cookie = setCookie.split(';')[0];
    const flows = await send('GET', '/editor/editor-api/flows', { cookie });
    expect(flows.status).toBe(200);
    expect((JSON.parse(flows.text) as { flows: Array<{ id: string }> }).flows.map((f) => f.id)).toContain('editTaskAndSync');
    // The proxy adds the session's token, whatever the page sends.
    const me = await send('GET', '/editor/api/me', { cookie, authorization: 'Bearer bob-token' });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.text)).toMatchObject({ user: 'alice' });
    // The sync API itself is unchanged: a bearer token, never the editor's cookie.
    expect((await send('GET', '/api/me', { cookie })).status).toBe(401);
    expect((await send('GET', '/api/me', { authorization: 'Bearer carol-token' })).status).toBe(200);
    expect((await send('GET', '/api/health')).status).toBe(200);
  });

  it('keeps the editor\'s guards: Host, Origin, JSON-only writes, authors only, bad names', async () => {
    const alice = await signIn('alice-token');
    const bob = await signIn('bob-token');
    expect((await send('GET', '/editor/', { host: 'attacker.example' })).status).toBe(421);
    // The sync API has no Host rule (devices reach it by any name).
    expect((await send('GET', '/api/health', { host: 'devices.example' })).status).toBe(200);
    const flow = JSON.parse((await send('GET', '/editor/editor-api/flows/editTaskAndSync', { cookie: alice })).text) as { flow: unknown };
    const body = JSON.stringify(flow.flow);
    const put = (headers: Record<string, string>) => send('PUT', '/editor/editor-api/flows/editTaskAndSync', headers, body);
    expect((await put({ cookie: alice, ...json, origin: 'http://attacker.example' })).status).toBe(403);
    expect((await put({ cookie: alice, 'content-type': 'text/plain' })).status).toBe(415);
    expect((await put({ cookie: bob, ...json })).status).toBe(403);
    expect((await put({ ...json })).status).toBe(401);
    expect((await put({ cookie: alice, ...json, origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    expect((await send('GET', '/editor/editor-api/flows/%ZZ', { cookie: alice })).status).toBe(400);
  });

  it('answers hostile paths around the mount without a 5xx and without leaving its folder', async () => {
    const alice = await signIn('alice-token');
    const paths = ['/editor/..', '/editor/../api/me', '/editor/%2e%2e/package.json', '/editor//etc/passwd', '/editor/%ZZ', '/editor/\u0000'.replace('\u0000', '%00'),
      '/editorx', '/editor-api/flows', '/editor/editor-api/flows/..%2F..%2Fpackage.json', `/editor/${'a'.repeat(5000)}`];
    for (const path of paths) {
      const res = await send('GET', path, { cookie: alice });
      expect(res.status, path).toBeLessThan(500);
      expect(res.text, path).not.toContain('"name": "syncflow"');
      expect(res.text, path).not.toContain(flowsDir);
    }
    // Outside the mount is the sync server's (its own 404), not the editor's page.
    const outside = await send('GET', '/editorx', { cookie: alice });
    expect(outside.status).toBe(404);
    expect(outside.text).toContain('No endpoint GET /editorx');
  });
});
