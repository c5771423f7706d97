/**
 * The editor server as an attacker and a careless user meet it (issue 10, defects 6 and 7): it
 * signs in as a user of the sync server, hands out no tokens, checks Host and Origin, takes
 * writes only as JSON, lets only authors save, and answers bad names with a 400 that shows no
 * folder. Real HTTP against a real demo sync server.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEditorHttp, type EditorHttp } from './support/editorHttp.ts';

let t: EditorHttp;
let alice: string;
let bob: string;
const TOKENS = ['alice-token', 'bob-token', 'carol-token'];
const json = { 'content-type': 'application/json' };

beforeAll(async () => {
  t = await startEditorHttp();
  alice = await t.signIn('alice-token');
  bob = await t.signIn('bob-token');
});

afterAll(async () => {
  await t?.close();
});

const flowText = (id: string) => readFile(join(t.flowsDir, `${id}.flow.json`), 'utf8');
const noSecrets = (text: string) => {
  for (const token of TOKENS) expect(text).not.toContain(token);
  expect(text).not.toContain(t.flowsDir);
};

describe('signing in to the editor', () => {
  it('answers an anonymous caller nothing: no tokens, no flows, no save, no proxy', async () => {
    const config = await t.send('GET', '/editor-api/config');
    expect(config.status).toBeGreaterThanOrEqual(400);
    noSecrets(config.text);
    expect((await t.send('GET', '/editor-api/flows')).status).toBe(401);
    expect((await t.send('GET', '/editor-api/flows/renameTask')).status).toBe(401);
    const before = await flowText('renameTask');
    const put = await t.send('PUT', '/editor-api/flows/renameTask', { headers: json, body: JSON.stringify({ name: 'renameTask', nodes: [], edges: [] }) });
    expect(put.status).toBe(401);
    expect(await flowText('renameTask')).toBe(before);
    // The proxy adds no one's token for an anonymous page.
    expect((await t.send('GET', '/api/me')).status).toBe(401);
    const session = await t.send('GET', '/editor-api/session');
    expect(session.status).toBe(401);
  });

  it('signs in with a token the sync server knows: an HttpOnly, SameSite=Strict session, the own user only', async () => {
    const wrong = await t.send('POST', '/editor-api/session', { headers: json, body: JSON.stringify({ token: 'not-a-token' }) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();

    const res = await t.send('POST', '/editor-api/session', { headers: json, body: JSON.stringify({ token: 'alice-token' }) });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ user: 'alice', roles: ['user', 'author'], canAuthor: true });
    const cookie = [res.headers['set-cookie']].flat()[0]!;
    expect(cookie).toMatch(new RegExp(`^${t.editor.sessionCookie}=[A-Za-z0-9_-]{40,};`));
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
    noSecrets(res.text);

    const me = await t.send('GET', '/editor-api/session', { session: alice });
    expect(JSON.parse(me.text)).toEqual({ user: 'alice', roles: ['user', 'author'], canAuthor: true });
    noSecrets(me.text);
    // Proxied calls carry the session's token: a page cannot pick another user's.
    const proxied = await t.send('GET', '/api/me', { session: alice, headers: { authorization: 'Bearer bob-token' } });
    expect(proxied.status).toBe(200);
    expect(JSON.parse(proxied.text)).toMatchObject({ user: 'alice' });
    // A forged session is nobody.
    expect((await t.send('GET', '/editor-api/flows', { session: 'A'.repeat(43) })).status).toBe(401);
  });

  it('signs out: the session is gone from the server, not only from the page', async () => {
    const session = await t.signIn('carol-token');
    expect((await t.send('GET', '/editor-api/flows', { session })).status).toBe(200);
    const out = await t.send('DELETE', '/editor-api/session', { session });
    expect(out.status).toBe(204);
    expect([out.headers['set-cookie']].flat()[0]).toContain('Max-Age=0');
    expect((await t.send('GET', '/editor-api/flows', { session })).status).toBe(401);
    expect((await t.send('GET', '/api/me', { session })).status).toBe(401);
  });

  it('lets only authors save and create flows; others open them', async () => {
    const list = await t.send('GET', '/editor-api/flows', { session: bob });
    expect(list.status).toBe(200);
    const { flow } = JSON.parse((await t.send('GET', '/editor-api/flows/renameTask', { session: bob })).text) as { flow: { description?: string } };
    const before = await flowText('renameTask');
    const put = await t.send('PUT', '/editor-api/flows/renameTask', { session: bob, headers: json, body: JSON.stringify({ ...flow, description: 'bob was here' }) });
    expect(put.status).toBe(403);
    expect(JSON.parse(put.text).error.message).toContain('author');
    expect(await flowText('renameTask')).toBe(before);
    const post = await t.send('POST', '/editor-api/flows', { session: bob, headers: json, body: JSON.stringify({ name: 'bobsFlow' }) });
    expect(post.status).toBe(403);
    expect(await readdir(t.flowsDir)).not.toContain('bobsFlow.flow.json');

    const saved = await t.send('PUT', '/editor-api/flows/renameTask', { session: alice, headers: json, body: JSON.stringify({ ...flow, description: 'alice edits' }) });
    expect(saved.status).toBe(200);
    expect(JSON.parse(await flowText('renameTask')).description).toBe('alice edits');
  });

  it('takes writes only as JSON: a text/plain POST (no preflight from any page) creates nothing', async () => {
    const before = await t.folderHash();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
      const res = await t.send('POST', '/editor-api/flows', { session: alice, headers: type ? { 'content-type': type } : {}, body: '{"name":"planted"}' });
      expect(res.status).toBe(415);
    }
    const put = await t.send('PUT', '/editor-api/flows/renameTask', { session: alice, headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(put.status).toBe(415);
    const signIn = await t.send('POST', '/editor-api/session', { headers: { 'content-type': 'text/plain' }, body: '{"token":"alice-token"}' });
    expect(signIn.status).toBe(415);
    expect(await t.folderHash()).toBe(before);
  });

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin on every write', async () => {
    for (const host of ['attacker.example', `attacker.example:${new URL(t.editor.url).port}`, '127.0.0.1.attacker.example']) {
      for (const path of ['/editor-api/session', '/editor-api/flows', '/api/me', '/']) {
        const res = await t.send('GET', path, { session: alice, headers: { host } });
        expect(res.status, `${host} ${path}`).toBe(421);
        noSecrets(res.text);
      }
    }
    // The names a local browser uses are fine.
    const port = new URL(t.editor.url).port;
    expect((await t.send('GET', '/editor-api/flows', { session: alice, headers: { host: `localhost:${port}` } })).status).toBe(200);

    const before = await t.folderHash();
    for (const origin of ['http://attacker.example', 'null', `http://localhost.attacker.example:${port}`]) {
      const post = await t.send('POST', '/editor-api/flows', { session: alice, headers: { ...json, origin }, body: JSON.stringify({ name: 'planted' }) });
      expect(post.status, origin).toBe(403);
      const proxied = await t.send('POST', '/api/upload', { session: alice, headers: { ...json, origin, 'x-device-id': 'd1' }, body: '{"changes":[]}' });
      expect(proxied.status, origin).toBe(403);
      const out = await t.send('DELETE', '/editor-api/session', { session: alice, headers: { origin } });
      expect(out.status, origin).toBe(403);
    }
    expect(await t.folderHash()).toBe(before);
    // The page's own origin may write.
    const own = await t.send('POST', '/editor-api/flows', { session: alice, headers: { ...json, origin: t.editor.url }, body: JSON.stringify({ name: 'fromThePage' }) });
    expect(own.status).toBe(201);
    // Signing out from a foreign origin did not end the session.
    expect((await t.send('GET', '/editor-api/flows', { session: alice })).status).toBe(200);
  });

  it('listens on 127.0.0.1 unless told otherwise', () => {
    expect(new URL(t.editor.url).hostname).toBe('127.0.0.1');
  });
});

describe('bad flow names and paths', () => {
  it('answers an undecodable name or path with a 400, never a 500', async () => {
    for (const [method, path] of [
      ['GET', '/editor-api/flows/%ZZ'],
      ['PUT', '/editor-api/flows/%ZZ'],
      ['GET', '/%ZZ'],
      ['GET', '/assets/%E0%A4%A'],
    ] as const) {
      const res = await t.send(method, path, { session: alice, headers: json, body: method === 'PUT' ? '{}' : undefined });
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(JSON.parse(res.text).error.message).toMatch(/not a valid (flow name|address)/);
    }
  });

  it('answers a 300-character name with a 400 that names the rule, not the folder', async () => {
    const long = `a${'b'.repeat(299)}`;
    const before = await t.folderHash();
    for (const res of [
      await t.send('GET', `/editor-api/flows/${long}`, { session: alice }),
      await t.send('PUT', `/editor-api/flows/${long}`, { session: alice, headers: json, body: JSON.stringify({ name: long, nodes: [], edges: [] }) }),
      await t.send('POST', '/editor-api/flows', { session: alice, headers: json, body: JSON.stringify({ name: long }) }),
    ]) {
      expect(res.status).toBe(400);
      expect(res.text).toContain('at most 100 characters');
      noSecrets(res.text);
    }
    expect(await t.folderHash()).toBe(before);
  });

  it('says a flow is missing without showing the folder', async () => {
    const res = await t.send('GET', '/editor-api/flows/nothingHere', { session: alice });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.text).error.message).toBe('No flow "nothingHere"');
    const put = await t.send('PUT', '/editor-api/flows/nothingHere', { session: alice, headers: json, body: JSON.stringify({ name: 'nothingHere', nodes: [], edges: [] }) });
    expect(put.status).toBe(404);
    noSecrets(put.text);
    // A name clash names the other file, not the folder.
    const { flow } = JSON.parse((await t.send('GET', '/editor-api/flows/renameTask', { session: alice })).text) as { flow: object };
    const clash = await t.send('PUT', '/editor-api/flows/createForbiddenTask', { session: alice, headers: json, body: JSON.stringify(flow) });
    expect(clash.status).toBe(400);
    expect(clash.text).toContain('renameTask.flow.json');
    noSecrets(clash.text);
  });

  it('answers a body nested 10,000 deep, or a flow whose expression breaks the validator, with a 400', async () => {
    const before = await t.folderHash();
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const res = await t.send('PUT', '/editor-api/flows/renameTask', { session: alice, headers: json, body: `{"name":"renameTask","nodes":${deep},"edges":[]}` });
    expect(res.status).toBe(400);
    expect(res.text).toContain('nested deeper than');
    expect(await t.folderHash()).toBe(before);

    // A flow file planted in the folder with an expression of 20,000 terms: the list still answers.
    const { flow } = JSON.parse((await t.send('GET', '/editor-api/flows/renameTask', { session: alice })).text) as { flow: Record<string, unknown> };
    const huge = { ...flow, name: 'planted', nodes: [{ id: 'start', type: 'start' }, { id: 'log', type: 'activity', activity: { type: 'logMessage', message: Array(20_000).fill('1').join(' + ') } }, { id: 'end', type: 'end' }], edges: [{ from: 'start', to: 'log' }, { from: 'log', to: 'end' }] };
    await writeFile(join(t.flowsDir, 'planted.flow.json'), JSON.stringify(huge));
    const list = await t.send('GET', '/editor-api/flows', { session: alice });
    expect(list.status).toBe(200);
    const save = await t.send('PUT', '/editor-api/flows/planted', { session: alice, headers: json, body: JSON.stringify(huge) });
    expect(save.status).toBeLessThan(500);
    if (save.status === 400) expect(JSON.parse(save.text).problems.length).toBeGreaterThan(0);
  });
});
