import { describe, expect, it } from 'vitest';
import { CURRENT_USER, matchConstraint, type Constraint } from '../../src/model/constraint.ts';
import { demoSchema } from '../../src/demo/schema.ts';
import { instantMembers } from '../../src/model/schema.ts';
import { createSyncServer } from '../../src/server/createSyncServer.ts';
import { demoAccess, FORBIDDEN_TITLE_MESSAGE, seedDemoData } from '../../src/server/demo.ts';
import { SchemaError } from '../../src/errors.ts';
import { change, startTestServer, useTestServer, uuid, WIRE_DATE, type ApiClient, type StorageTarget } from './support.ts';

/**
 * The sync server's behaviour over real HTTP, written once and run on every storage target
 * (PGlite and PostgreSQL): test/server/server.*.test.ts.
 */
export function serverTests(target: StorageTarget): void {
  describe(`sync server on ${target.name}`, () => {
    const t = useTestServer(target);

    /** Creates a project as `who`; answers its id. */
    const project = async (who: ApiClient, data: Record<string, unknown> = {}) => {
      const id = uuid();
      const r = await who.upload([change('create', 'Project', id, { name: 'P', archived: false, ...data })]);
      expect(r.body.results[0].status).toBe('applied');
      return id;
    };
    /** Creates a task as `who`; answers its id. */
    const task = async (who: ApiClient, data: Record<string, unknown> = {}) => {
      const id = uuid();
      const r = await who.upload([change('create', 'Task', id, { title: 'A task', ...data })]);
      expect(r.body.results[0].status, JSON.stringify(r.body)).toBe('applied');
      return id;
    };

    describe('authentication', () => {
      it('answers 401 with an error body on every endpoint without a valid bearer token', async () => {
        const id = uuid();
        const endpoints: Array<[string, string, unknown?]> = [
          ['GET', '/api/me'],
          ['GET', '/api/schema'],
          ['POST', '/api/upload', { changes: [] }],
          ['POST', '/api/download', { entity: 'Task' }],
          ['POST', '/api/fetch', { entity: 'Task', ids: [] }],
          ['POST', '/api/ids', { entity: 'Task' }],
          ['GET', '/api/failures?status=open'],
          ['POST', `/api/failures/${id}/retry`, {}],
          ['POST', `/api/failures/${id}/dismiss`, {}],
          ['GET', `/api/files/Attachment/${id}`],
          ['PUT', `/api/files/Attachment/${id}`, 'bytes'],
        ];
        for (const token of [null, 'wrong-token']) {
          const anonymous = (await import('./support.ts')).apiClient(t.url, token);
          for (const [method, path, body] of endpoints) {
            const r = await anonymous.call(method, path, body);
            expect(r.status, `${method} ${path}`).toBe(401);
            expect(r.body.error.code).toBe('unauthorized');
            expect(r.headers.get('www-authenticate')).toBe('Bearer');
          }
        }
      });

      it('answers health without a token, and who the user is with one', async () => {
        const health = await fetch(`${t.url}/api/health`);
        expect(health.status).toBe(200);
        expect((await t.carol.call('GET', '/api/me')).body).toEqual({ user: 'carol', roles: ['manager'] });
      });

      it('serves the schema as JSON', async () => {
        const r = await t.bob.call('GET', '/api/schema');
        expect(r.status).toBe(200);
        expect(r.body).toEqual(JSON.parse(JSON.stringify(demoSchema)));
      });

      it('stores only a hash of each token', async () => {
        const { rows } = await t.storage.query<{ token_hash: string }>('SELECT token_hash FROM sf_users');
        expect(rows).toHaveLength(3);
        for (const r of rows) expect(r.token_hash).toMatch(/^[0-9a-f]{64}$/);
      });
    });

    describe('upload', () => {
      it('creates, updates and deletes objects, stamping owner, createdDate and changedDate', async () => {
        const id = uuid();
        const created = await t.alice.upload([change('create', 'Project', id, { name: 'Garden' })]);
        expect(created.status).toBe(200);
        const object = created.body.results[0].object;
        expect(object).toMatchObject({ id, name: 'Garden', archived: null, owner: 'alice' });
        expect(object.createdDate).toMatch(WIRE_DATE);
        expect(object.changedDate).toBe(object.createdDate);

        const updated = await t.alice.upload([change('update', 'Project', id, { archived: true })]);
        const after = updated.body.results[0].object;
        expect(after).toMatchObject({ name: 'Garden', archived: true, createdDate: object.createdDate });
        expect(after.changedDate > object.changedDate).toBe(true);

        const deleted = await t.alice.upload([change('delete', 'Project', id, after)]);
        expect(deleted.body.results[0]).toMatchObject({ status: 'applied', object: null });
        expect((await t.alice.fetch('Project', [id])).body).toEqual({ objects: [], missing: [id] });
      });

      it('applies a repeated changeId once and answers the first result', async () => {
        const id = uuid();
        const first = await t.alice.upload([change('create', 'Task', id, { title: 'Once' }, 'change-1')]);
        const again = await t.alice.upload([change('create', 'Task', id, { title: 'Twice' }, 'change-1')]);
        expect(again.body).toEqual(first.body);
        const [stored] = await t.alice.all('Task');
        expect(stored.title).toBe('Once');
        expect(stored.changedDate).toBe(first.body.results[0].object.changedDate);
        expect((await t.counts()).applied).toBe(1);
      });

      it('answers a changeId repeated within one request with the first result', async () => {
        const id = uuid();
        const r = await t.alice.upload([
          change('create', 'Task', id, { title: 'One' }, 'same'),
          change('update', 'Task', id, { title: 'Two words' }, 'same'),
        ]);
        expect(r.body.results[1]).toEqual(r.body.results[0]);
        expect((await t.alice.all('Task'))[0].title).toBe('One');
      });

      it('keeps changeIds per user', async () => {
        const a = await t.alice.upload([change('create', 'Task', uuid(), { title: 'Alice' }, 'shared-id')]);
        const b = await t.bob.upload([change('create', 'Task', uuid(), { title: 'Bob' }, 'shared-id')]);
        expect(a.body.results[0].object.owner).toBe('alice');
        expect(b.body.results[0].object.owner).toBe('bob');
      });

      it('applies a create of an existing object it may write as an update (a retried create)', async () => {
        const id = await task(t.alice, { title: 'First try' });
        const r = await t.alice.upload([change('create', 'Task', id, { title: 'Second try' })]);
        expect(r.body.results[0]).toMatchObject({ status: 'applied', object: { id, title: 'Second try', words: 2 } });
        expect((await t.counts()).objects).toBe(1);
      });

      it('answers a delete of an object that is already gone as applied', async () => {
        const id = await task(t.alice);
        await t.alice.upload([change('delete', 'Task', id)]);
        const again = await t.alice.upload([change('delete', 'Task', id)]);
        expect(again.body.results[0]).toMatchObject({ status: 'applied', object: null });
        const never = await t.alice.upload([change('delete', 'Task', uuid())]);
        expect(never.body.results[0].status).toBe('applied');
        expect((await t.counts()).failures).toBe(0);
      });

      it('applies each change atomically on its own: a bad change among good ones fails alone', async () => {
        const archived = await project(t.carol, { archived: true });
        const good1 = uuid();
        const good2 = uuid();
        const r = await t.carol.upload([
          change('create', 'Task', good1, { title: 'Good one' }),
          // Rejected by beforeCommit; its afterCommit (un-archiving) must not happen either.
          change('create', 'Task', uuid(), { title: 'A forbidden task', project: archived }),
          change('create', 'Task', uuid(), { done: true }),
          change('create', 'Task', good2, { title: 'Good two' }),
        ]);
        expect(r.body.results.map((x: any) => x.status)).toEqual(['applied', 'failed', 'failed', 'applied']);
        expect((await t.carol.all('Task')).map((o) => o.id).sort()).toEqual([good1, good2].sort());
        expect((await t.carol.fetch('Project', [archived])).body.objects[0].archived).toBe(true);
        expect((await t.counts()).failures).toBe(2);
      });

      it('gives every object of one upload the same changedDate, and later uploads a greater one', async () => {
        const r = await t.alice.upload([1, 2, 3].map((i) => change('create', 'Project', uuid(), { name: `P${i}` })));
        const dates = new Set<string>(r.body.results.map((x: any) => x.object.changedDate));
        expect(dates.size).toBe(1);
        const later = await t.alice.upload([change('create', 'Project', uuid(), { name: 'Later' })]);
        expect(later.body.results[0].object.changedDate > [...dates][0]).toBe(true);
      });

      it('accepts references to objects created later in the same upload', async () => {
        const p = uuid();
        const tk = uuid();
        const r = await t.alice.upload([
          change('create', 'Task', tk, { title: 'Early', project: p }),
          change('create', 'Project', p, { name: 'Late' }),
        ]);
        expect(r.body.results.map((x: any) => x.status)).toEqual(['applied', 'applied']);
      });

      it('requires the X-Device-Id header', async () => {
        const { apiClient } = await import('./support.ts');
        const noDevice = apiClient(t.url, 'alice-token', null);
        const r = await noDevice.upload([change('create', 'Project', uuid(), { name: 'X' })]);
        expect(r.status).toBe(400);
        expect(r.body.error.problems[0].path).toBe('x-device-id');
        expect((await noDevice.call('GET', '/api/me')).status).toBe(200);
      });

      it('clears references to a deleted object and deletes objects that require it', async () => {
        const p = await project(t.alice);
        const tk = await task(t.alice, { project: p });
        const att = uuid();
        await t.alice.upload([change('create', 'Attachment', att, { name: 'a.txt', task: tk })]);
        await t.alice.putFile('Attachment', att, 'hello', 'text/plain');
        const before = (await t.alice.fetch('Task', [tk])).body.objects[0];

        await t.alice.upload([change('delete', 'Project', p)]);
        const orphan = (await t.alice.fetch('Task', [tk])).body.objects[0];
        expect(orphan.project).toBeNull();
        expect(orphan.changedDate > before.changedDate).toBe(true);

        await t.alice.upload([change('delete', 'Task', tk)]);
        expect((await t.alice.fetch('Attachment', [att])).body.missing).toEqual([att]);
        expect((await t.counts()).files).toBe(0);
      });
    });

    describe('failures', () => {
      it('stores and answers every failure reason, with the discarded data', async () => {
        const gone = await task(t.alice, { title: 'Soon gone' });
        await t.alice.upload([change('delete', 'Task', gone)]);
        const hidden = await task(t.alice, { title: 'Private' });

        const alice = await t.alice.upload([
          change('update', 'Task', gone, { title: 'Too late' }),
          change('create', 'Task', uuid(), { title: 'Nothing forbidden here' }),
          change('create', 'Task', uuid(), { title: 'Bad', nonsense: 1 }),
          change('create', 'Task', uuid(), { title: 'Bad', estimate: 'lots' }),
          change('create', 'Task', uuid(), { title: 'Bad', project: uuid() }),
        ]);
        const bob = await t.bob.upload([change('update', 'Task', hidden, { title: 'Mine now' })]);

        const failed = [...alice.body.results, ...bob.body.results].map((r: any) => r.failure);
        expect(failed.map((f: any) => f.reason)).toEqual(['deleted', 'rejected', 'invalid', 'invalid', 'invalid', 'inaccessible']);
        expect(failed[0].message).toBe(`Task ${gone} was deleted on the server`);
        expect(failed[1].message).toBe(FORBIDDEN_TITLE_MESSAGE);
        expect(failed[2].message).toMatch(/^data\.nonsense: unknown attribute/);
        expect(failed[3].message).toMatch(/^data\.estimate: /);
        expect(failed[4].message).toMatch(/^data\.project: no Project with id .* \(not found or not accessible\)$/);
        expect(failed[5].message).toBe(`Task ${hidden} was not found or is not accessible`);

        const listed = await t.alice.failures('open');
        expect(listed.status).toBe(200);
        expect(listed.body.failures).toEqual(failed.slice(0, 5));
        const f = listed.body.failures[0];
        expect(f).toMatchObject({
          user: 'alice',
          device: 'alice-phone',
          entity: 'Task',
          objectId: gone,
          kind: 'update',
          data: { title: 'Too late' },
          status: 'open',
          changeId: alice.body.results[0].changeId,
        });
        expect(f.createdDate).toMatch(WIRE_DATE);
        expect((await t.bob.failures('open')).body.failures).toEqual([failed[5]]);
      });

      it('does not tell an object the user may not read from one that does not exist', async () => {
        const hidden = await task(t.alice);
        const nowhere = uuid();
        const r = await t.bob.upload([
          change('update', 'Task', hidden, { title: 'x' }),
          change('update', 'Task', nowhere, { title: 'x' }),
          change('create', 'Task', hidden, { title: 'x' }),
        ]);
        const messages = r.body.results.map((x: any) => x.failure.message.replace(/[0-9a-f-]{36}/, 'ID'));
        expect(r.body.results.map((x: any) => x.failure.reason)).toEqual(['inaccessible', 'inaccessible', 'inaccessible']);
        expect(new Set(messages)).toEqual(new Set(['Task ID was not found or is not accessible']));
      });

      it('retries a failure once its cause is gone, and resolves it', async () => {
        const id = await task(t.alice, { title: 'Shared later' });
        const first = await t.bob.upload([change('update', 'Task', id, { done: true })]);
        const failure = first.body.results[0].failure;
        expect((await t.bob.retry(failure.id)).body.result.status).toBe('failed');

        await t.alice.upload([change('update', 'Task', id, { assignee: 'bob' })]);
        const retried = await t.bob.retry(failure.id);
        expect(retried.status).toBe(200);
        expect(retried.body.result).toMatchObject({ changeId: failure.changeId, status: 'applied', object: { id, done: true } });
        expect((await t.bob.failures('open')).body.failures).toEqual([]);
        expect((await t.bob.failures('resolved')).body.failures.map((f: any) => f.id)).toEqual([failure.id]);
        expect((await t.bob.retry(failure.id)).status).toBe(409);
      });

      it('keeps a failure open with the new reason and message when the retry fails again', async () => {
        const id = await task(t.alice, { title: 'Moving target' });
        const failure = (await t.bob.upload([change('update', 'Task', id, { done: true })])).body.results[0].failure;
        expect(failure.reason).toBe('inaccessible');
        await t.alice.upload([change('update', 'Task', id, { assignee: 'bob' })]);
        await t.alice.upload([change('delete', 'Task', id)]);

        const retried = await t.bob.retry(failure.id);
        expect(retried.body.result.status).toBe('failed');
        expect(retried.body.result.failure).toMatchObject({ id: failure.id, status: 'open', reason: 'deleted', message: `Task ${id} was deleted on the server` });
        expect((await t.bob.failures('open')).body.failures).toEqual([retried.body.result.failure]);
        expect((await t.counts()).failures).toBe(1);
      });

      it('dismisses a failure; a dismissed failure is not retried, and others cannot touch it', async () => {
        const failure = (await t.alice.upload([change('create', 'Task', uuid(), { title: 'forbidden' })])).body.results[0].failure;
        expect((await t.bob.dismiss(failure.id)).status).toBe(404);
        expect((await t.bob.retry(failure.id)).status).toBe(404);
        const dismissed = await t.alice.dismiss(failure.id);
        expect(dismissed.status).toBe(200);
        expect(dismissed.body.failure.status).toBe('dismissed');
        expect((await t.alice.failures('open')).body.failures).toEqual([]);
        expect((await t.alice.failures('dismissed')).body.failures.map((f: any) => f.id)).toEqual([failure.id]);
        expect((await t.alice.retry(failure.id)).status).toBe(409);
        expect((await t.alice.retry('not-a-uuid')).body.error.problems[0].path).toBe('id');
      });
    });

    describe('event handlers', () => {
      it('calculates an attribute before commit, on create and on update', async () => {
        const id = uuid();
        const created = await t.alice.upload([change('create', 'Task', id, { title: 'Buy some milk', words: 99 })]);
        expect(created.body.results[0].object.words).toBe(3);
        const updated = await t.alice.upload([change('update', 'Task', id, { title: 'Buy milk' })]);
        expect(updated.body.results[0].object.words).toBe(2);
        const untouched = await t.alice.upload([change('update', 'Task', id, { done: true })]);
        expect(untouched.body.results[0].object).toMatchObject({ words: 2, done: true });
      });

      it('rejects a change with the handler message and writes nothing', async () => {
        const before = await t.counts();
        const r = await t.alice.upload([change('create', 'Task', uuid(), { title: 'This is forbidden' })]);
        expect(r.body.results[0]).toMatchObject({ status: 'failed', failure: { reason: 'rejected', message: FORBIDDEN_TITLE_MESSAGE } });
        const after = await t.counts();
        expect(after.objects).toBe(before.objects);
        expect(after.failures).toBe(before.failures + 1);
      });

      it('changes other objects after commit, in the same transaction and with the same changedDate', async () => {
        const p = await project(t.carol, { archived: true });
        const id = uuid();
        const r = await t.alice.upload([change('create', 'Task', id, { title: 'Revive', project: p })]);
        const revived = (await t.alice.fetch('Project', [p])).body.objects[0];
        expect(revived.archived).toBe(false);
        expect(revived.changedDate).toBe(r.body.results[0].object.changedDate);
      });
    });

    describe('access rules', () => {
      it('hides objects a user may not read on every endpoint', async () => {
        const secret = await task(t.alice, { title: 'Secret plan' });
        const att = uuid();
        await t.alice.upload([change('create', 'Attachment', att, { name: 's.txt', task: secret })]);
        expect((await t.alice.putFile('Attachment', att, 'secret bytes', 'text/plain')).status).toBe(200);
        await task(t.bob, { title: 'Bob task' });

        expect((await t.bob.all('Task')).map((o) => o.title)).toEqual(['Bob task']);
        expect((await t.bob.all('Attachment'))).toEqual([]);
        expect((await t.bob.download({ entity: 'Task', count: true })).body.total).toBe(1);
        expect((await t.bob.fetch('Task', [secret])).body).toEqual({ objects: [], missing: [secret] });
        expect((await t.bob.ids({ entity: 'Task' })).body.ids).not.toContain(secret);
        expect((await t.bob.getFile('Attachment', att)).status).toBe(404);
        expect((await t.bob.putFile('Attachment', att, 'overwrite', 'text/plain')).status).toBe(404);
        const upload = await t.bob.upload([change('update', 'Task', secret, { title: 'x' }), change('delete', 'Attachment', att)]);
        expect(upload.body.results.map((r: any) => r.failure.reason)).toEqual(['inaccessible', 'inaccessible']);
        const linked = await t.bob.upload([change('create', 'Attachment', uuid(), { name: 'b.txt', task: secret })]);
        expect(linked.body.results[0].failure).toMatchObject({ reason: 'invalid', message: expect.stringMatching(/^data\.task: /) });
        expect((await t.alice.fetch('Task', [secret])).body.objects[0].title).toBe('Secret plan');
        expect(await (await t.alice.getFile('Attachment', att)).text()).toBe('secret bytes');
      });

      it('lets the assignee read and write a task, until the assignee changes', async () => {
        const id = await task(t.alice, { title: 'For bob', assignee: 'bob' });
        expect((await t.bob.all('Task')).map((o) => o.id)).toEqual([id]);
        const edit = await t.bob.upload([change('update', 'Task', id, { done: true })]);
        expect(edit.body.results[0].status).toBe('applied');

        await t.alice.upload([change('update', 'Task', id, { assignee: 'carol' })]);
        expect(await t.bob.all('Task')).toEqual([]);
        expect((await t.bob.fetch('Task', [id])).body.missing).toEqual([id]);
        expect((await t.bob.ids({ entity: 'Task' })).body.ids).toEqual([]);
        const late = await t.bob.upload([change('update', 'Task', id, { done: false })]);
        expect(late.body.results[0].failure.reason).toBe('inaccessible');
      });

      it('answers an applied change without the object when the user can no longer read it', async () => {
        const id = await task(t.alice, { title: 'Hand over', assignee: 'bob' });
        const r = await t.bob.upload([change('update', 'Task', id, { assignee: 'carol' })]);
        expect(r.body.results[0]).toMatchObject({ status: 'applied', object: null });
      });

      it('applies role changes from setRoles on the next request', async () => {
        await task(t.alice);
        await task(t.bob);
        expect(await t.carol.all('Task')).toHaveLength(2);
        await t.server.setRoles('carol', ['user']);
        expect(await t.carol.all('Task')).toHaveLength(0);
        expect((await t.carol.call('GET', '/api/me')).body.roles).toEqual(['user']);
        await t.server.setRoles('bob', ['manager']);
        expect(await t.bob.all('Task')).toHaveLength(2);
        await expect(t.server.setRoles('nobody', [])).rejects.toMatchObject({ code: 'not_found' });
      });

      it('refuses a change to an object the user may read but not write', async () => {
        const p = await project(t.carol, { name: 'Managed' });
        expect((await t.bob.fetch('Project', [p])).body.objects).toHaveLength(1);
        const r = await t.bob.upload([change('update', 'Project', p, { name: 'Mine' }), change('delete', 'Project', p)]);
        expect(r.body.results.map((x: any) => [x.failure.reason, x.failure.message])).toEqual([
          ['inaccessible', `You may not change Project ${p}`],
          ['inaccessible', `You may not delete Project ${p}`],
        ]);
      });

      it('validates access rules, handlers and users when the server is created', async () => {
        const base = { schema: demoSchema, storage: t.storage };
        await expect(createSyncServer({ ...base, access: { Nope: { read: [], write: [] } } })).rejects.toThrow(SchemaError);
        await expect(
          createSyncServer({ ...base, access: { Task: { read: [{ scope: { field: 'done' } }], write: [] } } }),
        ).rejects.toMatchObject({ problems: [{ path: 'access.Task.read[0].scope.field' }] });
        await expect(createSyncServer({ ...base, access: { Task: { read: [{ scope: 'mine' as any }], write: [] } } })).rejects.toThrow(SchemaError);
        await expect(createSyncServer({ ...base, access: demoAccess, handlers: { Task: { beforeSave() {} } as any } })).rejects.toMatchObject({
          problems: [{ path: 'handlers.Task.beforeSave' }],
        });
        await expect(
          createSyncServer({ ...base, access: demoAccess, users: [{ id: 'x', token: 'same-token', roles: [] }, { id: 'y', token: 'same-token', roles: [] }] }),
        ).rejects.toMatchObject({ problems: [{ path: 'users.1.token' }] });
      });
    });

    describe('download', () => {
      it('never misses or repeats objects sharing one changedDate, batch after batch', async () => {
        const ids = Array.from({ length: 1000 }, () => uuid());
        const r = await t.alice.upload(ids.map((id, i) => change('create', 'Project', id, { name: `Bulk ${i}` })));
        expect(new Set(r.body.results.map((x: any) => x.object.changedDate)).size).toBe(1);

        const seen: string[] = [];
        let cursor: string | null = null;
        let batches = 0;
        let late: string[] = [];
        do {
          const b: any = await t.bob.download({ entity: 'Project', limit: 7, cursor });
          expect(b.status).toBe(200);
          expect(b.body.objects.length).toBeLessThanOrEqual(7);
          seen.push(...b.body.objects.map((o: any) => o.id));
          if (b.body.objects.length) expect(b.body.maxChangedDate).toBe(b.body.objects.at(-1).changedDate);
          cursor = b.body.cursor;
          if (++batches === 50) {
            // Written while the download is under way: must come after the cursor, once.
            late = Array.from({ length: 5 }, () => uuid());
            await t.carol.upload(late.map((id) => change('create', 'Project', id, { name: 'Late' })));
          }
        } while (cursor);
        expect(seen).toHaveLength(1005);
        expect(new Set(seen).size).toBe(1005);
        expect(seen.slice(-5).sort()).toEqual(late.sort());
        expect(seen.slice(0, 1000)).toEqual([...ids].sort());
      });

      it('downloads only objects changed since a stamp, and counts them', async () => {
        const a = await project(t.alice, { name: 'Old' });
        const first = await t.alice.download({ entity: 'Project' });
        const since = first.body.maxChangedDate;
        expect(first.body.cursor).toBeNull();
        const b = await project(t.alice, { name: 'New' });
        await t.alice.upload([change('update', 'Project', a, { name: 'Old, changed' })]);

        const next = await t.alice.download({ entity: 'Project', since, count: true });
        expect(next.body.objects.map((o: any) => o.id).sort()).toEqual([a, b].sort());
        expect(next.body.total).toBe(2);
        const none = await t.alice.download({ entity: 'Project', since: next.body.maxChangedDate });
        expect(none.body).toEqual({ objects: [], cursor: null, maxChangedDate: null });
      });

      it('filters by constraint, with the current user token', async () => {
        await task(t.carol, { title: 'Mine', assignee: 'carol' });
        await task(t.carol, { title: 'Theirs', assignee: 'alice' });
        const r = await t.carol.download({ entity: 'Task', constraint: { attribute: 'assignee', op: 'eq', value: CURRENT_USER }, count: true });
        expect(r.body.objects.map((o: any) => o.title)).toEqual(['Mine']);
        expect(r.body.total).toBe(1);
      });
    });

    describe('constraints in SQL', () => {
      it('select exactly the objects matchConstraint selects, for every operator and type', async () => {
        const p1 = await project(t.carol, { name: 'P1' });
        const p2 = await project(t.carol, { name: 'P2' });
        const rows: Array<Record<string, unknown>> = [
          { title: 'alpha', done: true, priority: 'low', estimate: 0.5, due: '2030-01-05T00:00:00.000Z', assignee: 'carol', project: p1 },
          { title: 'Alpha beta', done: false, priority: 'high', estimate: 2, due: '2030-01-05T10:30:00.000Z', assignee: 'alice', project: p2 },
          { title: 'Zeta', done: null, priority: null, estimate: null, due: null, assignee: null, project: null },
          { title: 'beta gamma delta', done: true, priority: 'normal', estimate: 10, due: '2029-12-31T23:59:59.999Z', assignee: 'bob', project: p1 },
          { title: 'M', done: false, priority: 'normal', estimate: -1.25, due: '2031-06-01T00:00:00.000Z', assignee: 'carol', project: null },
          { title: 'mañana', done: null, priority: 'low', estimate: 0.1, due: null, assignee: 'Carol', project: p2 },
          { title: '10', done: true, priority: 'high', estimate: 9, due: '2030-01-05T00:00:00.000Z', assignee: '', project: p1 },
          // Instants written with a zone offset and below the millisecond: compared as moments, not text.
          { title: 'offset', done: false, priority: 'low', estimate: 1, due: '2030-01-05T02:00:00+02:00', assignee: 'carol', project: null },
          { title: 'fraction', done: true, priority: 'low', estimate: 1, due: '2030-01-05T10:29:59.9995Z', assignee: 'carol', project: null },
        ];
        await t.carol.upload(rows.map((data) => change('create', 'Task', uuid(), data)));
        const later = await t.carol.upload([change('create', 'Task', uuid(), { title: 'later', estimate: 3 })]);
        const objects = await t.carol.all('Task');
        expect(objects).toHaveLength(rows.length + 1);
        const someId = objects[3].id;
        const stamp = later.body.results[0].object.changedDate;
        const instants = instantMembers(demoSchema, 'Task');

        const byOp = (attribute: string, values: unknown[]): Constraint[] =>
          (['eq', 'ne', 'lt', 'lte', 'gt', 'gte'] as const).flatMap((op) => values.map((value) => ({ attribute, op, value })));
        const constraints: Constraint[] = [
          ...byOp('title', ['alpha', 'M', 'Zeta', '10', null]),
          ...byOp('title', [10]),
          ...byOp('done', [true, false, null]),
          ...byOp('priority', ['normal', null]),
          ...byOp('estimate', [2, 0.1, -1.25, 9.5, null]),
          ...byOp('words', [1, 3]),
          ...byOp('due', ['2030-01-05T00:00:00.000Z', '2030-01-05T10:30:00.000Z', '2030-01-05T01:00:00+01:00', '2030-01-05T05:29:59.9995-05:00', '2030-01-05T10:29:59.999Z', null]),
          ...byOp('assignee', ['carol', CURRENT_USER, '', null]),
          ...byOp('project', [p1, null]),
          ...byOp('id', [someId]),
          ...byOp('owner', ['carol', 'alice']),
          ...byOp('createdDate', [stamp, null]),
          ...byOp('changedDate', [stamp, stamp.replace('Z', '+00:00'), stamp.slice(0, 23) + 'Z']),
          { attribute: 'title', op: 'in', value: ['alpha', 'Zeta', null] },
          { attribute: 'title', op: 'in', value: [null] },
          { attribute: 'estimate', op: 'in', value: [2, 10, 0.1] },
          { attribute: 'done', op: 'in', value: [false] },
          { attribute: 'assignee', op: 'in', value: [CURRENT_USER, 'bob'] },
          { attribute: 'due', op: 'in', value: ['2030-01-05T00:00:00.000Z'] },
          { attribute: 'due', op: 'in', value: ['2030-01-05T03:00:00+03:00', '2031-06-01T00:00:00Z'] },
          { attribute: 'title', op: 'contains', value: 'ALP' },
          { attribute: 'title', op: 'contains', value: '' },
          { attribute: 'title', op: 'startsWith', value: 'be' },
          { attribute: 'priority', op: 'startsWith', value: 'NO' },
          { attribute: 'estimate', op: 'contains', value: '2' },
          { attribute: 'done', op: 'contains', value: 'true' },
          { attribute: 'due', op: 'startsWith', value: '2030-01' },
          { attribute: 'owner', op: 'contains', value: 'aro' },
          { attribute: 'changedDate', op: 'startsWith', value: stamp.slice(0, 4) },
          { attribute: 'id', op: 'startsWith', value: someId.slice(0, 3).toUpperCase() },
          { not: { attribute: 'done', op: 'eq', value: true } },
          { not: { attribute: 'estimate', op: 'gt', value: 1 } },
          { not: { attribute: 'title', op: 'in', value: ['alpha', null] } },
          { not: { attribute: 'due', op: 'lt', value: '2030-06-01T00:00:00.000Z' } },
          { and: [{ attribute: 'done', op: 'ne', value: false }, { attribute: 'priority', op: 'ne', value: 'low' }] },
          { or: [{ attribute: 'project', op: 'eq', value: null }, { not: { attribute: 'assignee', op: 'ne', value: CURRENT_USER } }] },
          { not: { or: [{ attribute: 'estimate', op: 'lt', value: 1 }, { attribute: 'title', op: 'contains', value: 'a' }] } },
        ];
        for (const constraint of constraints) {
          const expected = objects.filter((o) => matchConstraint(constraint, o, 'carol', instants)).map((o) => o.id).sort();
          const r = await t.carol.download({ entity: 'Task', constraint, limit: 5000 });
          expect(r.status, JSON.stringify(r.body)).toBe(200);
          expect(r.body.objects.map((o: any) => o.id).sort(), JSON.stringify(constraint)).toEqual(expected);
          const ids = await t.carol.ids({ entity: 'Task', constraint });
          expect(ids.body.ids, JSON.stringify(constraint)).toEqual(expected);
        }
      });

      it('refuses a constraint naming an unknown attribute or a value of the wrong type', async () => {
        const unknown = await t.alice.download({ entity: 'Task', constraint: { attribute: 'colour', op: 'eq', value: 'red' } });
        expect(unknown.status).toBe(400);
        expect(unknown.body.error.problems[0].path).toBe('constraint.attribute');
        const wrong = await t.alice.ids({ entity: 'Task', constraint: { and: [{ attribute: 'estimate', op: 'gt', value: 'big' }] } });
        expect(wrong.status).toBe(400);
        expect(wrong.body.error.problems[0].path).toBe('constraint.and[0].value');
        const date = await t.alice.download({ entity: 'Task', constraint: { attribute: 'due', op: 'lt', value: '2024-02-30T00:00:00Z' } });
        expect(date.body.error.problems[0].path).toBe('constraint.value');
      });
    });

    describe('fetch and ids', () => {
      it('fetches objects by id and lists the missing ones', async () => {
        const mine = await task(t.bob, { title: 'Mine' });
        const theirs = await task(t.alice);
        const nowhere = uuid();
        const r = await t.bob.fetch('Task', [mine.toUpperCase(), theirs, nowhere, mine]);
        expect(r.body.objects.map((o: any) => o.id)).toEqual([mine]);
        expect(r.body.missing).toEqual([theirs, nowhere]);
        const bad = await t.bob.fetch('Task', [mine, 'nope']);
        expect(bad.status).toBe(400);
        expect(bad.body.error.problems).toEqual([{ path: 'ids[1]', message: 'must be a UUID' }]);
      });

      it('pages the readable ids in id order with after', async () => {
        const ids = Array.from({ length: 12 }, () => uuid());
        await t.alice.upload(ids.map((id) => change('create', 'Project', id, { name: 'x' })));
        const pages: string[][] = [];
        let after: string | null = null;
        do {
          const r: any = await t.bob.ids({ entity: 'Project', after, limit: 5 });
          pages.push(r.body.ids);
          after = r.body.next;
        } while (after);
        expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
        expect(pages.flat()).toEqual([...ids].sort());
        expect((await t.bob.ids({ entity: 'Project', after: 'zzz' })).body.error.problems[0].path).toBe('after');
      });
    });

    describe('files', () => {
      it('stores and serves file contents, moving the object changedDate', async () => {
        const tk = await task(t.alice);
        const att = uuid();
        const created = await t.alice.upload([change('create', 'Attachment', att, { name: 'pic.png', task: tk })]);
        expect((await t.alice.getFile('Attachment', att)).status).toBe(404);
        const bytes = new Uint8Array([0, 1, 2, 250, 255]);
        const put = await t.alice.putFile('Attachment', att, bytes, 'image/png');
        expect(put.status).toBe(200);
        expect(put.body.object.changedDate > created.body.results[0].object.changedDate).toBe(true);
        const got = await t.alice.getFile('Attachment', att);
        expect(got.status).toBe(200);
        expect(got.headers.get('content-type')).toBe('image/png');
        expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
        const carol = await t.carol.getFile('Attachment', att);
        expect(carol.status).toBe(200);
        await carol.arrayBuffer();
      });

      it('says in download rows of a file entity whether an object has contents ($file: size or null), and only there', async () => {
        const tk = await task(t.alice);
        const [withFile, without] = [uuid(), uuid()];
        await t.alice.upload([
          change('create', 'Attachment', withFile, { name: 'a.bin', task: tk }),
          change('create', 'Attachment', without, { name: 'b.bin', task: tk }),
        ]);
        await t.alice.putFile('Attachment', withFile, new Uint8Array([1, 2, 3, 4, 5]), 'application/octet-stream');
        const attachments = (await t.alice.download({ entity: 'Attachment' })).body.objects as Array<Record<string, unknown>>;
        expect(Object.fromEntries(attachments.map((o) => [o.id, o.$file]))).toEqual({ [withFile]: 5, [without]: null });
        const tasks = (await t.alice.download({ entity: 'Task' })).body.objects as Array<Record<string, unknown>>;
        expect(tasks.every((o) => !('$file' in o))).toBe(true);
      });

      it('refuses files of missing objects, of entities without files, and malformed ids', async () => {
        expect((await t.alice.putFile('Attachment', uuid(), 'x', 'text/plain')).status).toBe(404);
        const tk = await task(t.alice);
        const notFiles = await t.alice.putFile('Task', tk, 'x', 'text/plain');
        expect(notFiles.status).toBe(400);
        expect(notFiles.body.error.problems[0].path).toBe('entity');
        const badId = await t.alice.getFile('Attachment', 'nope');
        expect(badId.status).toBe(400);
        expect(((await badId.json()) as any).error.problems[0].path).toBe('id');
        expect((await t.counts()).files).toBe(0);
      });
    });

    describe('bad input', () => {
      /** Sends a bad request: 4xx naming `path`, nothing written. */
      const refused = async (send: () => Promise<any>, status: number, path: string) => {
        const before = await t.counts();
        const r = await send();
        expect(r.status, r.text).toBe(status);
        expect(r.body.error.code).toBeTypeOf('string');
        expect(r.body.error.problems?.map((p: any) => p.path), r.text).toContain(path);
        expect(r.text).not.toMatch(/\.ts:\d|at \w+ \(|node_modules/);
        expect(await t.counts()).toEqual(before);
      };
      const good = () => change('create', 'Project', uuid(), { name: 'Fine' });

      it('refuses a malformed or mistyped upload as a whole, naming the field', async () => {
        await refused(() => t.alice.call('POST', '/api/upload', '{"changes": ['), 400, 'body');
        await refused(() => t.alice.call('POST', '/api/upload', ''), 400, 'body');
        await refused(() => t.alice.upload([good(), good(), { ...good(), entity: 'Nope' }]), 400, 'changes[2].entity');
        await refused(() => t.alice.upload([good(), { ...good(), id: '42' }]), 400, 'changes[1].id');
        await refused(() => t.alice.upload([{ ...good(), kind: 'erase' }]), 400, 'changes[0].kind');
        await refused(() => t.alice.upload([{ ...good(), changeId: 7 }]), 400, 'changes[0].changeId');
        await refused(() => t.alice.upload([{ ...good(), data: [1, 2] }]), 400, 'changes[0].data');
        await refused(() => t.alice.upload([{ ...good(), extra: true }]), 400, 'changes[0].extra');
        await refused(() => t.alice.call('POST', '/api/upload', { changes: 'all' }), 400, 'changes');
        await refused(() => t.alice.call('POST', '/api/upload', { chnages: [] }), 400, 'chnages');
        await refused(() => t.alice.call('POST', '/api/upload', [good()]), 400, 'body');
        await refused(() => t.alice.upload(Array.from({ length: 1001 }, good)), 400, 'changes');
        await refused(() => t.alice.call('POST', '/api/upload', 'changes=1', { 'content-type': 'text/plain' }), 400, 'content-type');
      });

      it('refuses bad download, fetch, ids and failures requests, naming the field', async () => {
        await refused(() => t.alice.download({ entity: 'Nope' }), 400, 'entity');
        await refused(() => t.alice.download({ entity: 'Task', cursor: 'garbage!' }), 400, 'cursor');
        await refused(() => t.alice.download({ entity: 'Task', cursor: Buffer.from('c1|2024-01-01|x').toString('base64url') }), 400, 'cursor');
        await refused(() => t.alice.download({ entity: 'Task', since: 'yesterday' }), 400, 'since');
        await refused(() => t.alice.download({ entity: 'Task', limit: 0 }), 400, 'limit');
        await refused(() => t.alice.download({ entity: 'Task', limit: 5001 }), 400, 'limit');
        await refused(() => t.alice.download({ entity: 'Task', limit: '10' }), 400, 'limit');
        await refused(() => t.alice.download({ entity: 'Task', constraint: { attribute: 'title', op: 'like', value: 'x' } }), 400, 'constraint.op');
        await refused(() => t.alice.fetch('Task', Array.from({ length: 5001 }, uuid)), 400, 'ids');
        await refused(() => t.alice.ids({ entity: 'Task', limit: -1 }), 400, 'limit');
        await refused(() => t.alice.failures('broken'), 400, 'query.status');
      });

      it('answers 413 for a body over the limit, and 404 with an error body for unknown endpoints', async () => {
        const small = await startTestServer(await target.open(), { bodyLimit: 2048, fileLimit: 16 });
        try {
          const before = await small.counts();
          const r = await small.alice.upload(Array.from({ length: 40 }, good));
          expect(r.status).toBe(413);
          expect(r.body.error.code).toBe('payload_too_large');
          const file = await small.alice.putFile('Attachment', uuid(), 'x'.repeat(100), 'text/plain');
          expect(file.status).toBe(413);
          expect(await small.counts()).toEqual(before);
          const missing = await small.alice.call('GET', '/api/nothing');
          expect(missing.status).toBe(404);
          expect(missing.body.error.code).toBe('not_found');
        } finally {
          await small.close();
        }
      });

      it('answers an unexpected handler error with a generic 500 and writes nothing', async () => {
        const broken = await startTestServer(await target.open(), {
          handlers: { Project: { beforeCommit: () => { throw new TypeError('secret detail at /srv/app.ts:12'); } } },
        });
        try {
          const before = await broken.counts();
          const r = await broken.alice.upload([change('create', 'Task', uuid(), { title: 'Fine' }), good()]);
          expect(r.status).toBe(500);
          expect(r.body).toEqual({ error: { code: 'internal', message: 'Internal server error' } });
          expect(await broken.counts()).toEqual(before);
        } finally {
          await broken.close();
        }
      });

      it('answers browser preflight requests when CORS is on', async () => {
        const open = await startTestServer(await target.open(), { cors: true });
        try {
          const pre = await fetch(`${open.url}/api/upload`, { method: 'OPTIONS', headers: { origin: 'http://editor', 'access-control-request-method': 'POST' } });
          expect(pre.status).toBe(204);
          expect(pre.headers.get('access-control-allow-origin')).toBe('*');
          expect(pre.headers.get('access-control-allow-headers')).toContain('x-device-id');
          const me = await open.bob.call('GET', '/api/me', undefined, { origin: 'http://editor' });
          expect(me.headers.get('access-control-allow-origin')).toBe('*');
        } finally {
          await open.close();
        }
      });

      it('keeps a value the database cannot store as an invalid failure, not a server error', async () => {
        const r = await t.alice.upload([change('create', 'Project', uuid(), { name: 'nul \u0000 inside' }), good()]);
        expect(r.status).toBe(200);
        expect(r.body.results.map((x: any) => x.status)).toEqual(['failed', 'applied']);
        expect(r.body.results[0].failure.reason).toBe('invalid');
      });
    });

    describe('storage', () => {
      it('migrates idempotently when several processes start at once', async () => {
        const name = `${t.storage.schemaName}_m`;
        const storages = await Promise.all([target.open(name), target.open(name), target.open(name)]);
        for (const s of storages) expect((await s.query<{ n: number }>('SELECT count(*)::int AS n FROM sf_clock')).rows[0].n).toBe(1);
        await Promise.all(storages.map((s) => s.close()));
      });

      it('seeds the demo data idempotently', async () => {
        await seedDemoData(t.server);
        const once = await t.counts();
        const carolView = await t.carol.all('Task');
        await seedDemoData(t.server);
        expect(await t.counts()).toEqual(once);
        expect(await t.carol.all('Task')).toEqual(carolView);
        expect(once).toMatchObject({ objects: 24, files: 1, failures: 0 });
        expect(carolView.every((o) => o.words > 0)).toBe(true);
      });
    });
  });
}
