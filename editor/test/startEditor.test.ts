/** The editor's Node side: the flows API, the `/api` proxy, and serving the built app. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEditor, type RunningEditor } from '../server/startEditor.ts';

const flowsSource = fileURLToPath(new URL('../../flows', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures', import.meta.url));

let editor: RunningEditor;
let upstream: Server;
let flowsDir: string;
const seen: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];

beforeAll(async () => {
  flowsDir = await mkdtemp(join(tmpdir(), 'syncflow-editor-api-'));
  await cp(flowsSource, flowsDir, { recursive: true });
  await cp(fixtures, flowsDir, { recursive: true });
  // A stand-in sync server that echoes what reached it.
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify({ echoed: body.length }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  editor = await startEditor({ port: 0, syncServerUrl: `http://127.0.0.1:${port}`, flowsDir });
});

afterAll(async () => {
  await editor?.close();
  await new Promise((r) => upstream?.close(r));
  await rm(flowsDir, { recursive: true, force: true });
});

const api = (path: string, init?: RequestInit) => fetch(`${editor.url}${path}`, init);
const put = (id: string, flow: unknown) =>
  api(`/editor-api/flows/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(flow) });

describe('startEditor', () => {
  it('lists the flows of the folder with their problems', async () => {
    const res = await api('/editor-api/flows');
    expect(res.status).toBe(200);
    const { flows } = (await res.json()) as { flows: Array<{ id: string; name: string; problems: unknown[] }> };
    const files = (await readdir(flowsDir)).filter((f) => f.endsWith('.flow.json'));
    expect(flows.map((f) => `${f.id}.flow.json`)).toEqual(files.sort());
    expect(flows.find((f) => f.id === 'createForbiddenTask')).toMatchObject({ name: 'createForbiddenTask', problems: [] });
    expect(flows.find((f) => f.id === 'brokenFlow')?.problems.length).toBeGreaterThan(0);
  });

  it('saves a valid flow atomically, and refuses one that would not load with its problems', async () => {
    const id = 'createForbiddenTask';
    const { flow } = (await (await api(`/editor-api/flows/${id}`)).json()) as { flow: { nodes: Array<{ id: string; caption?: string }> } };
    flow.nodes[1].caption = 'A new task';
    expect((await put(id, flow)).status).toBe(200);
    const text = await readFile(join(flowsDir, `${id}.flow.json`), 'utf8');
    expect(JSON.parse(text)).toEqual(flow);
    expect(text.endsWith('}\n')).toBe(true);
    expect((await readdir(flowsDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const broken = structuredClone(flow) as { nodes: Array<Record<string, unknown>> };
    broken.nodes[3] = { ...broken.nodes[3], activity: { type: 'logMessage', message: "'unterminated" } };
    const refused = await put(id, broken);
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { error: { code: string }; problems: Array<{ nodeId?: string; path: string; message: string }> };
    expect(body.error.code).toBe('flow_invalid');
    expect(body.problems[0]).toMatchObject({ nodeId: 'report', path: 'nodes[3].activity.message' });
    expect(await readFile(join(flowsDir, `${id}.flow.json`), 'utf8')).toBe(text);
  });

  it('creates a new flow once, and refuses names that are not file-safe', async () => {
    const created = await api('/editor-api/flows', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'approveTask' }) });
    expect(created.status).toBe(201);
    expect(JSON.parse(await readFile(join(flowsDir, 'approveTask.flow.json'), 'utf8'))).toMatchObject({ $schema: './flow.schema.json', name: 'approveTask' });
    const again = await api('/editor-api/flows', { method: 'POST', body: JSON.stringify({ name: 'approveTask' }) });
    expect(again.status).toBe(409);
    expect((await api('/editor-api/flows', { method: 'POST', body: JSON.stringify({ name: '../escape' }) })).status).toBe(400);
    expect((await put('..%2Fescape', { name: 'x', nodes: [], edges: [] })).status).toBe(400);
    expect((await api('/editor-api/flows/nothingHere')).status).toBe(404);
  });

  it('proxies /api/* to the sync server on the same origin, body and headers included', async () => {
    const res = await api('/api/upload?x=1', { method: 'POST', headers: { authorization: 'Bearer alice-token', 'content-type': 'application/json' }, body: '{"changes":[]}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-upstream')).toBe('yes');
    expect(await res.json()).toEqual({ echoed: 14 });
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/api/upload?x=1', auth: 'Bearer alice-token', body: '{"changes":[]}' });
  });

  it('answers 502 when the sync server is down', async () => {
    const lonely = await startEditor({ port: 0, syncServerUrl: 'http://127.0.0.1:9', flowsDir });
    try {
      const res = await fetch(`${lonely.url}/api/me`);
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('network');
    } finally {
      await lonely.close();
    }
  });

  it('serves the built app, with the page for its own routes', async () => {
    const page = await api('/');
    expect(page.headers.get('content-type')).toContain('text/html');
    // The page runs without eval: the runtime's parser and validator need none.
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await api(script!);
    expect(asset.status).toBe(200);
    // A production bundle (tests run with NODE_ENV=test, which must not leak into the build).
    expect(await asset.text()).not.toContain('react-devtools');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(await (await api('/some/route')).text()).toBe(html);
    expect((await api('/assets/missing.js')).status).toBe(404);
    expect((await api('/../package.json')).status).not.toBe(200);
  });
});
