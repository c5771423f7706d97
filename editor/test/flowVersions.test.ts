/**
 * Safe concurrent saves (issue 15, defects 1 and 4) over real HTTP: each flow has a version (ETag);
 * a save names the version it was based on (If-Match) and a stale one is refused with 409 and the
 * flow as it is now, writing nothing; two saves at once based on one version: one wins. A draft
 * keeps a flow with problems, listed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEditorHttp, type EditorHttp } from './support/editorHttp.ts';

let t: EditorHttp;
let session: string;

beforeAll(async () => {
  t = await startEditorHttp();
  session = await t.signIn('alice-token');
});

afterAll(async () => {
  await t?.close();
});

type Summary = { version: string; flow: { nodes: Array<{ id: string; caption?: string; returnValue?: string }> }; problems: unknown[] };
const get = async (id: string) => {
  const res = await t.send('GET', `/editor-api/flows/${id}`, { session });
  return { etag: res.headers.etag as string, summary: JSON.parse(res.text) as Summary };
};
const put = (id: string, flow: unknown, headers: Record<string, string> = {}, query = '') =>
  t.send('PUT', `/editor-api/flows/${id}${query}`, { session, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(flow) });
const file = (id: string) => readFile(join(t.flowsDir, `${id}.flow.json`), 'utf8');

describe('flow versions', () => {
  it('answers a flow with its version as ETag; a save based on it succeeds, a stale one is 409 with the current flow', async () => {
    const id = 'createForbiddenTask';
    const { etag, summary } = await get(id);
    expect(etag).toBe(`"${summary.version}"`);
    const a = structuredClone(summary.flow);
    a.nodes[1].caption = 'Edited in tab A';
    const saved = await put(id, a, { 'if-match': etag });
    expect(saved.status).toBe(200);
    const newTag = saved.headers.etag as string;
    expect(newTag).not.toBe(etag);

    const b = structuredClone(summary.flow);
    b.nodes[2].caption = 'Edited in tab B';
    const before = await file(id);
    const stale = await put(id, b, { 'if-match': etag });
    expect(stale.status).toBe(409);
    const body = JSON.parse(stale.text) as { error: { code: string; message: string }; current: Summary };
    expect(body.error.code).toBe('conflict');
    expect(body.current.flow.nodes[1].caption).toBe('Edited in tab A');
    expect(`"${body.current.version}"`).toBe(newTag);
    expect(await file(id)).toBe(before);

    // Overwrite on purpose: If-Match *.
    expect((await put(id, b, { 'if-match': '*' })).status).toBe(200);
    expect(JSON.parse(await file(id)).nodes[2].caption).toBe('Edited in tab B');
  });

  it('lets exactly one of two saves based on the same version through', async () => {
    const id = 'renameTask';
    const { etag, summary } = await get(id);
    const edits = ['one', 'two', 'three'].map((caption) => {
      const f = structuredClone(summary.flow);
      f.nodes[1].caption = caption;
      return put(id, f, { 'if-match': etag });
    });
    const statuses = (await Promise.all(edits)).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409, 409]);
  });

  it('keeps a flow with problems as a draft, listed with them; without draft it is refused', async () => {
    const id = 'createForbiddenTask';
    const { etag, summary } = await get(id);
    const broken = structuredClone(summary.flow);
    broken.nodes[4].returnValue = '$task +';
    expect((await put(id, broken, { 'if-match': etag })).status).toBe(400);
    const draft = await put(id, broken, { 'if-match': etag }, '?draft=1');
    expect(draft.status).toBe(200);
    expect((JSON.parse(draft.text) as Summary).problems.length).toBeGreaterThan(0);
    expect(JSON.parse(await file(id)).nodes[4].returnValue).toBe('$task +');
    // A draft is still a flow: not an array, not a string.
    expect((await put(id, [1, 2], {}, '?draft=1')).status).toBe(400);
  });
});
