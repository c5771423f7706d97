/** The editor's Node side: the flows API, the `/api` proxy, and serving the built app (signed in as alice, an author). */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { startEditor } from '../server/startEditor.ts';
import { startEditorHttp, type EditorHttp } from './support/editorHttp.ts';

let t: EditorHttp;
let session: string;
const json = { 'content-type': 'application/json' };

beforeAll(async () => {
  t = await startEditorHttp();
  session = await t.signIn('alice-token');
});

afterAll(async () => {
  await t?.close();
});

const get = (path: string) => t.send('GET', path, { session });
const put = (id: string, flow: unknown) => t.send('PUT', `/editor-api/flows/${id}`, { session, headers: json, body: JSON.stringify(flow) });
const post = (body: unknown) => t.send('POST', '/editor-api/flows', { session, headers: json, body: JSON.stringify(body) });

describe('startEditor', () => {
  it('lists the flows of the folder with their problems', async () => {
    const res = await get('/editor-api/flows');
    expect(res.status).toBe(200);
    const { flows } = JSON.parse(res.text) as { flows: Array<{ id: string; name: string; problems: unknown[] }> };
    const files = (await readdir(t.flowsDir)).filter((f) => f.endsWith('.flow.json'));
    expect(flows.map((f) => `${f.id}.flow.json`)).toEqual(files.sort());
    expect(flows.find((f) => f.id === 'createForbiddenTask')).toMatchObject({ name: 'createForbiddenTask', problems: [] });
    expect(flows.find((f) => f.id === 'brokenFlow')?.problems.length).toBeGreaterThan(0);
  });

  it('saves a valid flow atomically, and refuses one that would not load with its problems', async () => {
    const id = 'createForbiddenTask';
    const { flow } = JSON.parse((await get(`/editor-api/flows/${id}`)).text) as { flow: { nodes: Array<{ id: string; caption?: string }> } };
    flow.nodes[1].caption = 'A new task';
    expect((await put(id, flow)).status).toBe(200);
    const text = await readFile(join(t.flowsDir, `${id}.flow.json`), 'utf8');
    expect(JSON.parse(text)).toEqual(flow);
    expect(text.endsWith('}\n')).toBe(true);
    expect((await readdir(t.flowsDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const broken = structuredClone(flow) as { nodes: Array<Record<string, unknown>> };
    broken.nodes[3] = { ...broken.nodes[3], activity: { type: 'logMessage', message: "'unterminated" } };
    const refused = await put(id, broken);
    expect(refused.status).toBe(400);
    const body = JSON.parse(refused.text) as { error: { code: string }; problems: Array<{ nodeId?: string; path: string; message: string }> };
    expect(body.error.code).toBe('flow_invalid');
    expect(body.problems[0]).toMatchObject({ nodeId: 'report', path: 'nodes[3].activity.message' });
    expect(await readFile(join(t.flowsDir, `${id}.flow.json`), 'utf8')).toBe(text);
  });

  it('creates a new flow once, and refuses names that are not file-safe', async () => {
    expect((await post({ name: 'approveTask' })).status).toBe(201);
    expect(JSON.parse(await readFile(join(t.flowsDir, 'approveTask.flow.json'), 'utf8'))).toMatchObject({ $schema: './flow.schema.json', name: 'approveTask' });
    expect((await post({ name: 'approveTask' })).status).toBe(409);
    expect((await post({ name: '../escape' })).status).toBe(400);
    expect((await put('..%2Fescape', { name: 'x', nodes: [], edges: [] })).status).toBe(400);
    expect((await get('/editor-api/flows/nothingHere')).status).toBe(404);
  });

  it('proxies /api/* to the sync server on the same origin, with the signed-in user\'s token', async () => {
    const res = await t.send('POST', '/api/upload?x=1', { session, headers: { ...json, 'x-device-id': 'editor-test' }, body: '{"changes":[]}' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ results: [] });
    expect(JSON.parse((await get('/api/me')).text)).toMatchObject({ user: 'alice' });
  });

  it('answers 502 to a sign-in when the sync server is down', async () => {
    const lonely = await startEditor({ port: 0, syncServerUrl: 'http://127.0.0.1:9', flowsDir: t.flowsDir, schema: demoSchema });
    try {
      const res = await fetch(`${lonely.url}/editor-api/session`, { method: 'POST', headers: json, body: JSON.stringify({ token: 'alice-token' }) });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('network');
    } finally {
      await lonely.close();
    }
  });

  it('serves the built app with relative asset paths; other addresses lead to the page', async () => {
    const page = await get('/');
    expect(page.headers['content-type']).toContain('text/html');
    // The page runs without eval: the runtime's parser and validator need none.
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    // Relative (./assets/...): the same bundle serves at / and under /editor/ of the sync server.
    const script = /src="\.(\/assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await get(script!);
    expect(asset.status).toBe(200);
    // A production bundle (tests run with NODE_ENV=test, which must not leak into the build).
    expect(asset.text).not.toContain('react-devtools');
    expect(asset.headers['cache-control']).toContain('immutable');
    const other = await get('/some/route');
    expect(other.status).toBe(302);
    expect(other.headers.location).toBe('/');
    expect((await get('/assets/missing.js')).status).toBe(404);
    expect((await get('/../package.json')).status).not.toBe(200);
    expect((await get('/..%2Fpackage.json')).status).not.toBe(200);
  });
});
