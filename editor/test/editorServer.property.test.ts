/**
 * Generated hostile requests against every endpoint of the editor server (issue 10): random
 * paths (%-escapes good and bad, ../, NUL, long names, unicode), random JSON bodies of every
 * shape and size, wrong content types, missing / forged / signed-out / other users' session
 * cookies, foreign Host and Origin. After each: no 5xx, no answer holds the flows folder or a
 * token, and a refused request (or any request not by an author) changed no file of the folder.
 */
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzParameters } from '../../test/support/fuzz.ts';
import { startEditorHttp, type Answer, type EditorHttp } from './support/editorHttp.ts';

const TOKENS = ['alice-token', 'bob-token', 'carol-token'];
let t: EditorHttp;
let sessions: Record<'alice' | 'bob' | 'stale', string>;
let sampleFlow: Record<string, unknown>;

type Who = 'none' | 'alice' | 'bob' | 'stale' | 'forged' | 'garbage';

interface HostileRequest {
  method: string;
  path: string;
  host: 'own' | 'localhost' | 'attacker' | 'attackerWithPort' | 'otherAddress' | 'suffixed';
  origin: 'none' | 'own' | 'attacker' | 'null' | 'lookalike';
  contentType: string | null;
  who: Who;
  forged: string;
  body: string | undefined;
}

/** A path segment: plain, %-escaped unicode, bad escapes, traversal, NUL, long. */
const segment = fc.oneof(
  fc.constantFrom('renameTask', 'createForbiddenTask', 'brokenFlow', 'nothingHere', 'flow.schema', '%ZZ', '%', '%E0%A4%A', '%00', 'a%00b', '..', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f', '.hidden', 'CON', 'a'.repeat(101), `a${'b'.repeat(299)}`),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 30 }).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, ''))),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,120}$/),
  fc.string({ unit: fc.constantFrom(...'%/.\\?#;:=&+~!$\'()*,@[]0aZ'), maxLength: 30 }),
);

const path = fc.oneof(
  segment.map((s) => `/editor-api/flows/${s}`),
  fc.tuple(segment, segment).map(([a, b]) => `/editor-api/flows/${a}/${b}`),
  fc.constantFrom('/editor-api/flows', '/editor-api/session', '/editor-api/app', '/editor-api/app/x', '/editor-api/config', '/editor-api/', '/editor-api/flows/', '/editor-api/session/x'),
  segment.map((s) => `/editor-api/${s}`),
  fc.constantFrom('/api/me', '/api/upload', '/api/download', '/api', '/api/../editor-api/flows'),
  segment.map((s) => `/api/${s}`),
  fc.constantFrom('/', '/index.html', '/assets/', '/..', '/../package.json', '/%2e%2e/package.json'),
  segment.map((s) => `/${s}`),
  segment.map((s) => `/assets/${s}`),
  fc.tuple(segment, segment).map(([a, b]) => `/editor-api/flows?${a}=${b}`),
);

/** A body: random JSON (deep, wide, unicode), flow-like objects, names, tokens, and not JSON at all. */
const body = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.record({ name: fc.oneof(segment, fc.string(), fc.jsonValue()) }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.record({ token: fc.oneof(fc.string({ maxLength: 600 }), fc.constantFrom('alice-token', 'bob-token', 'x\r\nSet-Cookie: a=b', '')) }).map((v) => JSON.stringify(v)) },
  {
    weight: 3,
    arbitrary: fc
      .record({ key: fc.constantFrom('name', 'nodes', 'edges', 'description', 'parameters', '$schema', 'extra'), value: fc.jsonValue({ maxDepth: 4 }) })
      .map(({ key, value }) => JSON.stringify({ ...sampleFlow, [key]: value })),
  },
  { weight: 1, arbitrary: fc.integer({ min: 201, max: 3000 }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '"x"', '[]', '{"name":"planted"}', `{"name":"${'x'.repeat(2_100_000)}"}`) },
);

/** Mostly what gets past the gate (so the flows API itself is hit), the rest refused at it. */
const mostly = <T,>(usual: fc.Arbitrary<T>, rest: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: usual }, { weight: 1, arbitrary: rest });

/** An author's save that may well be accepted: a real flow, its description changed. */
const likelySave = fc.string({ maxLength: 80 }).map((description) => JSON.stringify({ ...sampleFlow, description }));

const hostileRequest: fc.Arbitrary<HostileRequest> = fc.record({
  method: fc.constantFrom('GET', 'GET', 'PUT', 'PUT', 'PUT', 'POST', 'POST', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'),
  path: fc.oneof({ weight: 5, arbitrary: path }, { weight: 1, arbitrary: fc.constant('/editor-api/flows/renameTask') }),
  host: mostly(fc.constant('own' as const), fc.constantFrom('localhost', 'attacker', 'attackerWithPort', 'otherAddress', 'suffixed')),
  origin: mostly(fc.constantFrom('none', 'own'), fc.constantFrom('attacker', 'null', 'lookalike')),
  contentType: mostly(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON'), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null)),
  who: mostly(fc.constantFrom<Who>('alice', 'alice', 'bob'), fc.constantFrom<Who>('none', 'stale', 'forged', 'garbage')),
  forged: fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
  body: fc.option(fc.oneof({ weight: 4, arbitrary: body }, { weight: 1, arbitrary: likelySave }), { nil: undefined, freq: 4 }),
});

function headersOf(r: HostileRequest): Record<string, string> {
  const port = t.host.split(':')[1];
  const host = { own: t.host, localhost: `localhost:${port}`, attacker: 'attacker.example', attackerWithPort: `attacker.example:${port}`, otherAddress: `10.0.0.1:${port}`, suffixed: `127.0.0.1.attacker.example:${port}` }[r.host];
  const headers: Record<string, string> = { host };
  const origin = { none: undefined, own: `http://${host}`, attacker: 'http://attacker.example', null: 'null', lookalike: `http://localhost.attacker.example:${port}` }[r.origin];
  if (origin) headers.origin = origin;
  if (r.contentType) headers['content-type'] = r.contentType;
  return headers;
}

function sessionOf(r: HostileRequest): string | undefined {
  // Signing out a live session would end it for the rest of the run: those go out with the signed-out one.
  const signsOut = r.method === 'DELETE' && r.path.startsWith('/editor-api/session');
  // Proxied calls with a live session reach the sync server, whose own hostile-input tests are its own.
  const proxied = r.path === '/api' || r.path.startsWith('/api/');
  switch (r.who) {
    case 'none':
      return undefined;
    case 'alice':
    case 'bob':
      return signsOut || proxied ? sessions.stale : sessions[r.who];
    case 'stale':
      return sessions.stale;
    case 'forged':
      return r.forged;
    case 'garbage':
      return `${r.forged};${r.forged}=x; other=1`;
  }
}

function checkAnswer(r: HostileRequest, res: Answer): void {
  const label = `${r.method} ${r.path.slice(0, 200)} (${r.who}, host ${r.host}, origin ${r.origin}, ${r.contentType}) -> ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, label).toBeLessThan(500);
  expect(res.status, label).toBeGreaterThanOrEqual(200);
  expect(res.text.includes(t.flowsDir), label).toBe(false);
  for (const token of TOKENS) expect(res.text.includes(token), label).toBe(false);
  for (const value of [res.headers['set-cookie'] ?? []].flat()) expect(value, label).toMatch(/HttpOnly; SameSite=Strict; Path=\//);
  if (r.host === 'attacker' || r.host === 'attackerWithPort' || r.host === 'otherAddress' || r.host === 'suffixed') expect(res.status, label).toBe(421);
}

describe.each([
  { where: 'on a port of its own', mounted: false },
  { where: "under /editor/ of the sync server's port", mounted: true },
])('the editor server $where under generated hostile requests', ({ mounted }) => {
  beforeAll(async () => {
    t = await startEditorHttp({ mounted });
    const stale = await t.signIn('carol-token');
    await t.send('DELETE', '/editor-api/session', { session: stale });
    sessions = { alice: await t.signIn('alice-token'), bob: await t.signIn('bob-token'), stale };
    sampleFlow = JSON.parse(await readFile(join(t.flowsDir, 'renameTask.flow.json'), 'utf8')) as Record<string, unknown>;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('never answers 5xx, never shows the folder or a token, and a refused request writes nothing', async () => {
    let baseline = await t.folderHash();
    let tried = 0;
    let written = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (r) => {
        const res = await t.send(r.method, r.path, { headers: headersOf(r), session: sessionOf(r), body: r.body });
        tried++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        checkAnswer(r, res);
        const now = await t.folderHash();
        if (now !== baseline) {
          // Only an author's accepted save or create may change the folder.
          const label = `${r.method} ${r.path.slice(0, 200)} by ${r.who} -> ${res.status}`;
          expect(r.who, label).toBe('alice');
          expect([200, 201], label).toContain(res.status);
          expect(['PUT', 'POST'], label).toContain(r.method);
          baseline = now;
          written++;
        }
      }),
      fuzzParameters({ runs: 300, soakRuns: 10_000 }),
    );
    // The run covered refusals of every kind, not only one.
    for (const status of [400, 401, 403, 404, 415, 421]) expect(statuses.get(status) ?? 0, `status ${status} in ${JSON.stringify([...statuses])}`).toBeGreaterThan(0);
    expect(tried).toBeGreaterThan(0);
  });

  it('still knows alice after the run: sessions and the proxy work', async () => {
    const me = await t.send('GET', '/api/me', { session: sessions.alice });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.text)).toMatchObject({ user: 'alice' });
  });
});
