import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/server/storage/Storage.ts';
import { fuzzParameters } from '../support/fuzz.ts';
import { cleanRequest, expectExactPage, expectReadable, expectedWalk, mayRead, requestBody, storedRows, type Answers, type CleanRequest, type Entity, type Known, type Reader } from './cleanRequests.ts';
import { change, startTestServer, uuid, type StorageTarget, type TestServer } from './support.ts';

/**
 * Generated hostile requests against every /api endpoint of the sync server, over real HTTP,
 * written once and run on every storage target (hostile.property.test.ts). After each request:
 * no 5xx; a 4xx wrote nothing (a digest of the server tables is unchanged); an answer holds
 * nothing its caller may not read (another user's private objects, file contents, failures);
 * another user's private objects are never changed. Clean and near-clean reads (cleanRequests.ts)
 * answer 200 with rows: each such answer holds only rows the caller may read (checked against
 * plain SQL), the exact page an independent oracle computes, and a cursor walk returns every
 * matching row once.
 */

type Family = 'upload' | 'download' | 'fetch' | 'ids' | 'failures' | 'retry/dismiss' | 'files' | 'me/schema';
type Caller = 'alice' | 'bob' | 'carol' | 'none' | 'bad';

interface HostileRequest {
  family: Family;
  caller: Caller;
  /** A bad or malformed Authorization header (caller 'bad'). */
  authorization?: string;
  method: string;
  path: string;
  /** JSON text, raw text or bytes; absent for GET. */
  body?: string | Uint8Array;
  contentType?: string;
  classes: string[];
}

/** What one user keeps private in the seeded data: readable by that user (and carol, a manager) only. */
interface Secrets {
  ids: string[];
  texts: string[];
  failureIds: string[];
}

const TOKENS: Record<'alice' | 'bob' | 'carol', string> = { alice: 'alice-token', bob: 'bob-token', carol: 'carol-token' };
const SQL_META = ["'; DROP TABLE sf_objects; --", "' OR '1'='1", '"; SELECT pg_sleep(1); --', '\\', '$1', '%_%', '*/ /*', "E'\\x00'", '::jsonb'];
const LONE = ['\ud800', '\udfff', '😀'.slice(0, 1), '\u0000', '\ufffe', '\u202e', '\u2028'];
/** Percent-encodes text; a lone surrogate (which encodeURIComponent refuses) goes as its raw WTF-8 bytes. */
const enc = (text: string): string =>
  text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\u0001').split('\u0001').map(encodeURIComponent).join('%ED%A0%80');
const STRANGE_DATES = ['2025-02-30T10:00:00Z', '2025-03-01T24:00:00Z', '0000-00-00T00:00:00Z', '+275760-09-13T00:00:00Z', '2025-03-01T10:00:00+99:99', 'yesterday'];

export function hostileRequestTests(target: StorageTarget, options: { runs: number; soakRuns: number }): void {
  describe(`generated hostile requests on ${target.name}`, () => {
    let t: TestServer;
    const secrets: Record<'alice' | 'bob', Secrets> = { alice: { ids: [], texts: [], failureIds: [] }, bob: { ids: [], texts: [], failureIds: [] } };
    // Ids the generators draw on: each user's private objects and failures, and public objects.
    const pool = { alicePrivate: [] as string[], bobPrivate: [] as string[], projects: [] as string[], bobTasks: [] as string[], failures: [] as string[] };
    const stats = new Map<Family, { tried: number; right: number; ok: number; rows: number; exact: number; classes: Set<string> }>();
    /** Seeded ids and words for the clean reads; cursors and changedDates answered so far. */
    const known: Known = { ids: { Project: { alice: [], bob: [], carol: [] }, Task: { alice: [], bob: [], carol: [] }, Attachment: { alice: [], bob: [], carol: [] } }, words: ['task', 'alpha', 'a', 'beta', 'board', 'notes', 'secret', 'zz'] };
    const answers: Answers = { cursors: [], dates: [] };
    /** Pages fetched by cursor walks after their first page. */
    let walkPages = 0;

    beforeAll(async () => {
      // A high sign-in limit: bad tokens are counted (that code runs) without locking the test's address out.
      t = await startTestServer(await target.open(), { signInLimit: { max: 1e9, windowMs: 60_000 } });
      for (const who of ['alice', 'bob'] as const) {
        const client = t[who];
        const mark = `${who.toUpperCase()}-SECRET-${uuid()}`;
        const [project, task, attachment] = [uuid(), uuid(), uuid()];
        const r = await client.upload([
          change('create', 'Project', project, { name: `${who} public project` }),
          change('create', 'Task', task, { title: `${mark} task`, project, assignee: null }),
          change('create', 'Attachment', attachment, { name: `${mark} attachment`, task }),
          change('create', 'Task', uuid(), { title: `${mark} refused`, estimate: 'not a number' }),
        ]);
        expect(r.body.results.map((x: any) => x.status)).toEqual(['applied', 'applied', 'applied', 'failed']);
        expect((await client.putFile('Attachment', attachment, `${mark} file contents`, 'text/plain')).status).toBe(200);
        secrets[who] = { ids: [task, attachment], texts: [mark], failureIds: [r.body.results[3].failure.id] };
        pool.projects.push(project);
        pool[who === 'alice' ? 'alicePrivate' : 'bobPrivate'].push(task, attachment);
        pool.failures.push(r.body.results[3].failure.id);
        if (who === 'bob') pool.bobTasks.push(task);
      }
      // Readable data for the clean reads: each user's projects, tasks (some assigned to others,
      // several per upload so they share a changedDate) and attachments.
      const users = ['alice', 'bob', 'carol'] as const;
      for (const [u, who] of users.entries()) {
        const board = uuid();
        const tasks = Array.from({ length: 8 }, () => uuid());
        const task = (id: string, i: number) =>
          change('create', 'Task', id, {
            title: `${who} task ${i} ${i % 2 ? 'alpha' : 'beta'}`,
            done: i % 3 === 0,
            priority: ['low', 'normal', 'high'][i % 3],
            estimate: ((i + u) % 5) + 0.5,
            due: new Date(Date.UTC(2030, (i * 5 + u) % 12, 1 + i)).toISOString(),
            assignee: [null, ...users.filter((x) => x !== who)][i % 3],
            project: i % 2 ? board : pool.projects[i % pool.projects.length],
          });
        const uploads = [
          [change('create', 'Project', board, { name: `${who} board`, archived: u === 1 }), ...tasks.slice(0, 4).map(task)],
          tasks.slice(4).map((id, i) => task(id, i + 4)),
          [0, 5].map((i) => change('create', 'Attachment', uuid(), { name: `${who} notes ${i}`, size: i, task: tasks[i] })),
        ];
        for (const batch of uploads) {
          const r = await t[who].upload(batch);
          expect(r.body.results.map((x: any) => x.status)).toEqual(batch.map(() => 'applied'));
        }
      }
      const { rows } = await t.storage.query<{ entity: Entity; owner: Reader; id: string }>(`SELECT entity, owner, id::text AS id FROM sf_objects ORDER BY entity, id`);
      for (const row of rows) known.ids[row.entity][row.owner].push(row.id);
    });
    afterAll(async () => {
      const rows = [...stats].map(([family, s]) => `| ${family} | ${s.tried} | ${s.right} | ${s.ok} | ${s.rows} | ${s.exact} | ${[...s.classes].sort().join(', ')} |`);
      console.log(
        `hostile requests on ${target.name}\n| family | tried | answered right | 200 | 200 with rows | exact answer checked | classes |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}\ncursor walks fetched ${walkPages} further pages`,
      );
      await t.close();
      await target.cleanup();
    });

    // ------------------------------------------------------------------ generators

    /** The generated requests (built once the ids of the seeded data are known). */
    const hostileRequest = (): fc.Arbitrary<HostileRequest> => {
      const hostileString = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.constantFrom(...SQL_META, ...LONE, ...STRANGE_DATES, '', ' ', '[%CurrentUser%]', '__proto__', 'constructor'),
        fc.tuple(fc.constantFrom(...LONE), fc.constantFrom(...SQL_META)).map(([a, b]) => `${b}${a}`),
        fc.nat({ max: 600 }).map((n) => `${'x'.repeat(n)}😀`.slice(0, n + 1)),
        fc.constant('y'.repeat(70_000)),
      );
      const nested = (depth: number, leaf: unknown): unknown => {
        let v = leaf;
        for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { v };
        return v;
      };
      const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
        hostileString,
        fc.oneof(fc.integer(), fc.double(), fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -0, 0.1 + 0.2)),
        fc.boolean(),
        fc.constant(null),
        fc.jsonValue({ maxDepth: 3 }),
        fc.tuple(fc.integer({ min: 30, max: 1500 }), fc.jsonValue({ maxDepth: 1 })).map(([d, leaf]) => nested(d, leaf)),
      );
      /** An id: one of the other users' private objects, a public one, a fresh UUID, or garbage. */
      const anyId = fc.oneof(
        fc.constantFrom(...['alicePrivate', 'bobPrivate', 'projects', 'bobTasks'] as const).chain((k) => fc.constantFrom(...pool[k])),
        fc.constant(null).map(() => uuid()),
        fc.uuid().map((u) => u.toUpperCase()),
        hostileString,
      );
      const entity = fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('Project', 'Task', 'Attachment') },
        { weight: 1, arbitrary: fc.oneof(hostileString, fc.constantFrom('sf_objects', 'task', 'Task ', 'hasOwnProperty')) },
      );
      const memberName = fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom('title', 'name', 'done', 'priority', 'estimate', 'words', 'due', 'assignee', 'project', 'task', 'archived', 'size') },
        { weight: 1, arbitrary: fc.oneof(hostileString, fc.constantFrom('id', 'owner', 'changedDate', '__proto__')) },
      );
      const memberValue = fc.oneof(
        { weight: 3, arbitrary: hostileValue },
        { weight: 2, arbitrary: anyId },
        { weight: 1, arbitrary: fc.constantFrom('Fine title', 'high', true, 2.5, '2030-01-01T00:00:00Z') },
      );
      const data = fc.dictionary(memberName, memberValue, { maxKeys: 5 });

      const uploadBody = fc
        .array(
          fc.record({
            changeId: fc.oneof(fc.constantFrom('dup-1', 'dup-2', 'seed-task-1'), fc.uuid(), hostileString),
            entity,
            id: anyId,
            kind: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('create', 'update', 'delete') }, { weight: 1, arbitrary: hostileString }),
            data,
          }),
          { maxLength: 8 },
        )
        .chain((changes) =>
          // Half the time: references into the same batch (forward or backward), and duplicated ids.
          fc.boolean().map((link) => {
            if (!link || changes.length < 2) return { body: { changes }, classes: [] as string[] };
            const ids = changes.map((c) => c.id);
            const linked = changes.map((c, i) => ({ ...c, data: { ...c.data, project: ids[(i + 1) % ids.length], task: ids[(i + 1) % ids.length] } }));
            return { body: { changes: linked }, classes: ['batch references'] };
          }),
        );

      const comparison = fc.record(
        { attribute: memberName, op: fc.oneof(fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'contains', 'startsWith'), hostileString), value: fc.oneof(memberValue, fc.array(memberValue, { maxLength: 4 })) },
        { requiredKeys: [] },
      );
      const constraint: fc.Arbitrary<unknown> = fc.oneof(
        { weight: 3, arbitrary: fc.letrec((tie) => ({
          node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, comparison, fc.record({ and: fc.array(tie('node'), { maxLength: 3 }) }), fc.record({ or: fc.array(tie('node'), { maxLength: 3 }) }), fc.record({ not: tie('node') })),
        })).node },
        { weight: 1, arbitrary: hostileValue },
        { weight: 1, arbitrary: fc.integer({ min: 1_001, max: 70_000 }).map((n) => ({ or: Array.from({ length: n }, (_, i) => ({ attribute: 'title', op: 'eq', value: `t${i}` })) })) },
        { weight: 1, arbitrary: fc.integer({ min: 1_001, max: 70_000 }).map((n) => ({ attribute: 'id', op: 'in', value: Array.from({ length: n }, () => uuid()) })) },
        { weight: 1, arbitrary: fc.integer({ min: 17, max: 400 }).map((d) => nested(d, { attribute: 'done', op: 'eq', value: true })) },
      );
      const forgedCursor = fc.oneof(
        hostileString,
        fc.tuple(fc.constantFrom('c1', 'c2', ''), fc.oneof(hostileString, fc.constantFrom('2025-02-30T10:00:00.000000Z', '2024-01-01T00:00:00.000000Z')), anyId).map(([v, d, id]) =>
          Buffer.from(`${v}|${d}|${id}`).toString('base64url'),
        ),
      );
      const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });
      const limit = fc.oneof(fc.integer({ min: -5, max: 6000 }), hostileValue);

      /** A JSON body: mostly the shape the endpoint expects with hostile parts, else anything at all. */
      const jsonBody = (shaped: fc.Arbitrary<unknown>) =>
        fc.oneof(
          { weight: 5, arbitrary: shaped.map((b) => ({ text: JSON.stringify(b), classes: ['hostile fields'] })) },
          { weight: 1, arbitrary: fc.jsonValue().map((b) => ({ text: JSON.stringify(b), classes: ['random JSON'] })) },
          { weight: 1, arbitrary: fc.oneof(hostileString, fc.constantFrom('{', '{"entity": "Task",}', '[]'.repeat(5000), `${'['.repeat(100_000)}${']'.repeat(100_000)}`)).map((text) => ({ text, classes: ['not JSON'] })) },
        );
      const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
      const pathPart = fc.oneof(anyId, fc.constantFrom('%ZZ', '..%2F..%2Fetc', '%00', '%F0%9F', 'a'.repeat(3000))).map((s) => (/^%|\.\./.test(s) ? s : enc(s)));

      const endpoint: fc.Arbitrary<Omit<HostileRequest, 'caller' | 'authorization'>> = fc.oneof(
        jsonBody(uploadBody.map((b) => b.body)).chain((b) => fc.constant({ family: 'upload' as const, method: 'POST', path: '/api/upload', body: b.text, classes: b.classes })),
        uploadBody.map((b) => ({ family: 'upload' as const, method: 'POST', path: '/api/upload', body: JSON.stringify(b.body), classes: ['hostile changes', ...b.classes] })),
        jsonBody(fc.record({ entity, constraint: optional(constraint), cursor: optional(forgedCursor), since: optional(hostileString), limit: optional(limit), count: optional(fc.oneof(fc.boolean(), hostileValue)) }).map(defined)).map((b) => ({
          family: 'download' as const, method: 'POST', path: '/api/download', body: b.text, classes: [...b.classes, 'constraints', 'forged cursors'],
        })),
        jsonBody(fc.record({ entity, ids: fc.oneof(fc.array(anyId, { maxLength: 10 }), hostileValue, fc.constant(Array.from({ length: 5001 }, () => uuid()))) })).map((b) => ({
          family: 'fetch' as const, method: 'POST', path: '/api/fetch', body: b.text, classes: [...b.classes, "other users' ids"],
        })),
        jsonBody(fc.record({ entity, constraint: optional(constraint), after: optional(anyId), limit: optional(limit) }).map(defined)).map((b) => ({
          family: 'ids' as const, method: 'POST', path: '/api/ids', body: b.text, classes: [...b.classes, 'constraints'],
        })),
        fc.tuple(fc.oneof(fc.constantFrom('open', 'resolved', 'dismissed'), hostileString), fc.constantFrom('', '&status=open', `&cursor=x`)).map(([s, more]) => ({
          family: 'failures' as const, method: 'GET', path: `/api/failures?status=${enc(s)}${more}`, classes: ['query strings'],
        })),
        fc.tuple(fc.constantFrom('retry', 'dismiss'), fc.oneof(fc.constantFrom(...pool.failures), pathPart), fc.oneof(fc.constant('{}'), hostileString)).map(([action, id, body]) => ({
          family: 'retry/dismiss' as const, method: 'POST', path: `/api/failures/${id}/${action}`, body, classes: ["other users' failures", 'garbage ids'],
        })),
        fc.tuple(fc.constantFrom('GET', 'PUT'), fc.oneof(entity, fc.constant('Attachment')).map(enc), fc.oneof(fc.constantFrom(...pool.alicePrivate, ...pool.bobPrivate), pathPart), fc.uint8Array({ maxLength: 64 }), fc.constantFrom('text/html', 'application/json', 'image/svg+xml', 'application/octet-stream', 'text/plain; charset=utf-8')).map(
          ([method, e, id, bytes, type]) => ({ family: 'files' as const, method, path: `/api/files/${e}/${id}`, body: method === 'PUT' ? bytes : undefined, contentType: type, classes: ["other users' files", 'content types'] }),
        ),
        fc.tuple(fc.constantFrom('/api/me', '/api/schema'), hostileString).map(([path, q]) => ({ family: 'me/schema' as const, method: 'GET', path: `${path}?x=${enc(q)}`, classes: ['query strings'] })),
      );
      const caller: fc.Arbitrary<{ caller: Caller; authorization?: string; cls: string }> = fc.oneof(
        { weight: 6, arbitrary: fc.constant({ caller: 'bob' as const, cls: 'as bob' }) },
        { weight: 2, arbitrary: fc.constantFrom({ caller: 'alice' as const, cls: 'as alice' }, { caller: 'carol' as const, cls: 'as a manager' }) },
        { weight: 1, arbitrary: fc.constant({ caller: 'none' as const, cls: 'no token' }) },
        { weight: 1, arbitrary: fc.oneof(fc.string({ unit: 'binary-ascii', maxLength: 60 }).filter((s) => /^[\x20-\x7e\t]*$/.test(s)), fc.constantFrom('Bearer', 'Bearer ', 'Basic YWxpY2U6eA==', 'Bearer alice-token x', 'Bearer bob-token\t', 'bearer  carol-tokenx', `Bearer ${'a'.repeat(5000)}`)).map((authorization) => ({ caller: 'bad' as const, authorization: /^bearer +(alice|bob|carol)-token\s*$/i.test(authorization) ? 'Bearer nope' : authorization, cls: 'bad tokens' })) },
      );
      return fc.tuple(endpoint, caller).map(([e, c]) => ({ ...e, caller: c.caller, authorization: c.authorization, classes: [...e.classes, c.cls] }));
    };

    // ------------------------------------------------------------------ checks

    const digest = async (storage: Storage) => {
      const table = (name: string, row: string, order: string) =>
        `(SELECT count(*) || ':' || coalesce(md5(string_agg(${row}, ',' ORDER BY ${order})), '') FROM ${name})`;
      const { rows } = await storage.query<{ d: string }>(
        `SELECT concat_ws('|',
           ${table('sf_objects', "entity || id::text || owner || changed_date::text || data::text", 'entity, id')},
           ${table('sf_deleted', "entity || id::text || changed_date::text", 'entity, id')},
           ${table('sf_failures', "id::text || status || reason || message || coalesce(data::text, '')", 'id')},
           ${table('sf_applied', 'user_id || change_id || result::text', 'user_id, change_id')},
           ${table('sf_files', "entity || id::text || md5(content) || content_type", 'entity, id')}) AS d`,
      );
      return rows[0].d;
    };
    const privateRows = async (who: 'alice' | 'bob') => {
      const { rows } = await t.storage.query<{ d: string }>(
        `SELECT string_agg(id::text || changed_date::text || data::text, ',' ORDER BY id) AS d FROM sf_objects WHERE id = ANY($1::uuid[])`,
        [secrets[who].ids],
      );
      return rows[0].d;
    };

    /** Objects (anything with an id and an owner) anywhere in an answer. */
    const objectsIn = (value: unknown, out: Array<Record<string, unknown>> = [], depth = 0): Array<Record<string, unknown>> => {
      if (depth > 50 || typeof value !== 'object' || value === null) return out;
      if (!Array.isArray(value) && 'id' in value && 'owner' in value) out.push(value as Record<string, unknown>);
      for (const v of Object.values(value)) objectsIn(v, out, depth + 1);
      return out;
    };

    const send = async (r: HostileRequest) => {
      const headers: Record<string, string> = { 'x-device-id': 'fuzz-device' };
      if (r.caller === 'bad') headers.authorization = r.authorization!;
      else if (r.caller !== 'none') headers.authorization = `Bearer ${TOKENS[r.caller]}`;
      if (r.body !== undefined) headers['content-type'] = r.contentType ?? 'application/json';
      const res = await fetch(t.url + r.path, { method: r.method, headers, body: r.body as BodyInit | undefined });
      return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
    };

    /**
     * The exact answer of a clean read, and for a walk the pages that follow: each page exact,
     * each readable, no row twice, none skipped (the union is what the oracle says in one go).
     */
    const checkClean = async (r: CleanRequest, body: Record<string, unknown>, rows: Awaited<ReturnType<typeof storedRows>>, answer: any, what: string) => {
      let { next, exact } = expectExactPage(r, body, rows, answer, what);
      if (r.family === 'fetch' || !(r.family === 'download' || r.family === 'ids') || !r.walk) return { exact };
      const client = t[r.caller];
      const seen: string[] = r.family === 'download' ? answer.objects.map((o: any) => o.id) : [...answer.ids];
      for (let page = 0; next && page < 1000; page++) {
        const more = { ...body, [r.family === 'download' ? 'cursor' : 'after']: next };
        const reply = r.family === 'download' ? await client.download(more) : await client.ids(more);
        const at = `page ${page + 2} of a walk: ${JSON.stringify(more).slice(0, 300)} -> ${reply.status} ${reply.text.slice(0, 300)}`;
        expect(reply.status, at).toBe(200);
        if (r.family === 'download') expectReadable(r.caller, r.entity, rows, reply.body.objects, at);
        const step = expectExactPage(r, more, rows, reply.body, at);
        exact &&= step.exact;
        next = step.next;
        seen.push(...(r.family === 'download' ? reply.body.objects.map((o: any) => o.id) : reply.body.ids));
        walkPages++;
      }
      expect(next, `a walk ended: ${what}`).toBeNull();
      expect(new Set(seen).size, `a walk repeated a row: ${what}`).toBe(seen.length);
      const all = expectedWalk(r, body, rows);
      if (all) expect(seen, `a walk skipped or reordered rows: ${what}`).toEqual(all);
      return { exact };
    };

    it('answers every generated request without a 5xx, writes nothing on a 4xx, and leaks nothing', async () => {
      await fc.assert(
        // Half the requests are clean or near-clean reads: three quarters of all download / ids / fetch requests.
        fc.asyncProperty(fc.oneof({ weight: 1, arbitrary: hostileRequest() }, { weight: 1, arbitrary: cleanRequest(known) }), async (x) => {
          const clean = 'clean' in x ? x : null;
          const cleanBody = clean ? requestBody(clean, answers) : null;
          const r: HostileRequest = clean
            ? { family: clean.family, caller: clean.caller, method: 'POST', path: `/api/${clean.family}`, body: JSON.stringify(cleanBody), classes: [...clean.classes, `as ${clean.caller}`] }
            : (x as HostileRequest);
          const before = await digest(t.storage);
          const others = r.caller === 'bob' ? (['alice'] as const) : r.caller === 'alice' ? (['bob'] as const) : r.caller === 'carol' ? ([] as const) : (['alice', 'bob'] as const);
          const untouched = await Promise.all(others.map(privateRows));
          const res = await send(r);
          const what = `${r.caller} ${r.method} ${r.path.slice(0, 120)} ${typeof r.body === 'string' ? r.body.slice(0, 300) : ''} -> ${res.status} ${res.text.slice(0, 300)}`;

          expect(res.status, what).toBeGreaterThanOrEqual(200);
          expect(res.status, what).toBeLessThan(500);
          // A URL that is not valid percent-encoding is refused before anyone is asked for a token.
          const badUrl = (() => { try { decodeURIComponent(r.path); return false; } catch { return true; } })();
          // So is a request head larger than the server reads (431).
          // The router refuses a path part over 100 characters the same way.
          const refusedUrl = badUrl || r.path.split(/[/?&]/).some((part) => part.length > 100);
          if (r.caller === 'none' || r.caller === 'bad') expect(refusedUrl ? [400, 401, 414, 431] : [401, 431], what).toContain(res.status);
          if (res.status >= 400) {
            expect(await digest(t.storage), `a ${res.status} wrote something: ${what}`).toBe(before);
            // Node answers an oversized request head itself (431), before the app: no body then.
            if (res.status !== 431) expect(JSON.parse(res.text).error.code, what).toBeTypeOf('string');
          }
          expect(res.text, what).not.toMatch(/\.ts:\d|node_modules|at \w+ \(/);
          for (const who of others) {
            for (const text of secrets[who].texts) expect(res.text, `leaks ${who}'s data: ${what}`).not.toContain(text);
            for (const id of [...secrets[who].ids, ...secrets[who].failureIds]) {
              // An id the caller sent may come back (as missing, in a message); an object with it may not.
              const sent = r.path.toLowerCase().includes(id) || (typeof r.body === 'string' && r.body.toLowerCase().includes(id));
              if (!sent) expect(res.text, `leaks ${who}'s id: ${what}`).not.toContain(id);
            }
            if (res.type.includes('json')) {
              const ids = new Set(secrets[who].ids);
              for (const o of objectsIn(JSON.parse(res.text))) expect(ids.has(String(o.id)), `leaks ${who}'s object: ${what}`).toBe(false);
            }
          }
          if (r.family === 'failures' && res.status === 200 && (r.caller === 'alice' || r.caller === 'bob')) {
            for (const f of JSON.parse(res.text).failures) expect(f.user, what).toBe(r.caller);
          }
          expect(await Promise.all(others.map(privateRows)), `changed another user's objects: ${what}`).toEqual(untouched);

          // Reads that answered 200: every row readable by the caller, as plain SQL and the rules say.
          let found = 0;
          let exact = false;
          if (clean) expect(res.status, what).toBe(clean.refused ? 400 : 200);
          if (res.status === 200 && ['download', 'ids', 'fetch'].includes(r.family) && r.caller !== 'none' && r.caller !== 'bad') {
            const caller = r.caller as Reader;
            const body = JSON.parse(String(r.body));
            const entity = body.entity as Entity;
            const answer = JSON.parse(res.text);
            const rows = await storedRows(t.storage, entity);
            if (r.family === 'ids') {
              const readable = new Set(rows.filter((row) => mayRead(caller, entity, row)).map((row) => row.id));
              for (const id of answer.ids) expect(readable.has(id), `${caller} got the id of a ${entity} ${caller} may not read: ${what}`).toBe(true);
              found = answer.ids.length;
            } else {
              expectReadable(caller, entity, rows, answer.objects, what);
              found = answer.objects.length;
            }
            if (r.family === 'download') {
              if (answer.cursor) answers.cursors.push(answer.cursor);
              if (answer.maxChangedDate) answers.dates.push(answer.maxChangedDate);
              answers.cursors.splice(0, answers.cursors.length - 200);
              answers.dates.splice(0, answers.dates.length - 200);
            }
            if (clean) exact = (await checkClean(clean, cleanBody!, rows, answer, what)).exact;
          }

          const s = stats.get(r.family) ?? { tried: 0, right: 0, ok: 0, rows: 0, exact: 0, classes: new Set<string>() };
          stats.set(r.family, s);
          s.tried++;
          s.right++;
          if (res.status === 200) s.ok++;
          if (found > 0) s.rows++;
          if (exact) s.exact++;
          for (const c of [...r.classes, `${res.status}`]) s.classes.add(c);
        }),
        fuzzParameters(options),
      );
    });

    it('answers a good share of the generated download, ids and fetch requests with 200 and rows', () => {
      // The "only readable rows" checks above ran on real answers, not only on refusals.
      for (const family of ['download', 'ids', 'fetch'] as const) {
        const s = stats.get(family)!;
        expect(s.rows / s.tried, `${family}: ${s.rows} of ${s.tried} answered 200 with rows`).toBeGreaterThanOrEqual(0.4);
      }
    });
  });
}
