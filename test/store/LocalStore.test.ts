import { afterEach, describe, expect, it } from 'vitest';
import { SchemaError, SyncflowError, ValidationError } from '../../src/errors.ts';
import { newId } from '../../src/model/values.ts';
import type { LocalStore } from '../../src/store/LocalStore.ts';
import { failureFixture } from '../support/failures.ts';
import { fromServer, openTestStore } from './openTestStore.ts';

let store: LocalStore;
afterEach(() => store?.close());

describe('reads', () => {
  it('get and getMany return committed objects without internal fields, in the order asked', async () => {
    store = await openTestStore();
    const [a, b] = [fromServer({ title: 'a' }), fromServer({ title: 'b' })];
    await store.applyServerObjects('Task', [a, b], { tag: 'run-1' });
    const got = await store.get('Task', a.id);
    expect(got).toEqual({ ...a, done: null, priority: null, estimate: null, words: null, due: null, assignee: null, project: null, $entity: 'Task' });
    expect((await store.getMany('Task', [b.id, newId(), a.id])).map((o) => o?.title)).toEqual(['b', undefined, 'a']);
  });

  it('rejects an unknown entity with a typed error', async () => {
    store = await openTestStore();
    await expect(store.get('Nope', newId())).rejects.toMatchObject({ code: 'schema_invalid' });
  });
});

describe('applyServerObjects', () => {
  it('writes the objects without recording local changes', async () => {
    store = await openTestStore();
    const result = await store.applyServerObjects('Task', [fromServer({ title: 'a' }), fromServer({ title: 'b' })]);
    expect(result).toEqual({ written: 2, skipped: 0 });
    expect(await store.count('Task')).toBe(2);
    expect(await store.pendingCount()).toBe(0);
  });

  it('leaves objects with a pending change alone by default (a change committed during a sync survives)', async () => {
    store = await openTestStore();
    const server = fromServer({ title: 'server v1' });
    await store.applyServerObjects('Task', [server]);
    const session = store.session();
    await session.commit(session.change((await store.get('Task', server.id))!, { title: 'mine' }));
    const other = fromServer({ title: 'other' });
    const result = await store.applyServerObjects('Task', [{ ...server, title: 'server v2' }, other]);
    expect(result).toEqual({ written: 1, skipped: 1 });
    expect((await store.get('Task', server.id))!.title).toBe('mine');
    expect(await store.pendingChange('Task', server.id)).toMatchObject({ kind: 'update', changed: ['title'] });
  });

  it('finds the changed objects also when the entity has more pending changes than the call has objects', async () => {
    store = await openTestStore();
    const servers = [0, 1, 2, 3].map((i) => fromServer({ title: `s${i}` }));
    await store.applyServerObjects('Task', servers);
    const session = store.session();
    await session.commit((await store.query('Task')).slice(0, 3).map((o) => session.change(o, { done: true })));
    const changedIds = new Set((await store.pendingChanges()).map((c) => c.id));
    const pair = [servers.find((s) => changedIds.has(s.id))!, servers.find((s) => !changedIds.has(s.id))!];
    expect(await store.applyServerObjects('Task', pair.map((s) => ({ ...s, title: 'v2' })))).toEqual({ written: 1, skipped: 1 });
    expect(await store.applyServerObjects('Task', pair.map((s) => ({ ...s, title: 'v3' })), { overwrite: true })).toEqual({ written: 2, skipped: 0 });
    expect(await store.pendingCount()).toBe(2);
  });

  it('does not bring back an object deleted locally', async () => {
    store = await openTestStore();
    const server = fromServer({ title: 'a' });
    await store.applyServerObjects('Task', [server]);
    await store.session().delete((await store.get('Task', server.id))!);
    expect(await store.applyServerObjects('Task', [server])).toEqual({ written: 0, skipped: 1 });
    expect(await store.get('Task', server.id)).toBeUndefined();
  });

  it('with overwrite, lets the server values win and clears the change marks', async () => {
    store = await openTestStore();
    const server = fromServer({ title: 'server v1' });
    await store.applyServerObjects('Task', [server]);
    const session = store.session();
    await session.commit(session.change((await store.get('Task', server.id))!, { title: 'mine' }));
    const result = await store.applyServerObjects('Task', [{ ...server, title: 'server v2' }], { overwrite: true });
    expect(result).toEqual({ written: 1, skipped: 0 });
    expect((await store.get('Task', server.id))!.title).toBe('server v2');
    expect(await store.pendingCount()).toBe(0);
  });
});

describe('confirm', () => {
  it('removes a change confirmed with its seq and stores the server\'s version', async () => {
    store = await openTestStore();
    const session = store.session();
    const [task] = await session.commit(session.create('Task', { title: 'three little words' }));
    const change = (await store.pendingChange('Task', task.id))!;
    const { $entity: _, ...values } = task;
    const serverVersion = { ...values, createdDate: '2026-02-01T00:00:00.000Z', changedDate: '2026-02-01T00:00:00.000Z', owner: 'alice', words: 3 };
    // It answers that the server's version is now the local object.
    expect(await store.confirm([{ entity: 'Task', id: task.id, seq: change.seq, object: serverVersion }])).toEqual([true]);
    expect(await store.pendingChange('Task', task.id)).toBeUndefined();
    expect(await store.get('Task', task.id)).toMatchObject({ words: 3, owner: 'alice', changedDate: '2026-02-01T00:00:00.000Z' });
  });

  it('keeps a change committed after the upload started pending, and takes only the system attributes', async () => {
    store = await openTestStore();
    const session = store.session();
    const [task] = await session.commit(session.create('Task', { title: 'uploaded' }));
    const uploaded = (await store.pendingChange('Task', task.id))!;
    // While the upload is on its way, the user edits the object again.
    await session.commit(session.change(task, { title: 'edited during sync' }));
    const server = { id: task.id, createdDate: '2026-02-01T00:00:00.000Z', changedDate: '2026-02-01T00:00:00.000Z', owner: 'alice', title: 'uploaded', words: 1 };
    expect(await store.confirm([{ entity: 'Task', id: task.id, seq: uploaded.seq, object: server }])).toEqual([false]);
    const change = (await store.pendingChange('Task', task.id))!;
    expect(change.kind).toBe('update'); // the server has the object now
    expect(change.changed).toContain('title');
    expect(change.seq).toBeGreaterThan(uploaded.seq);
    expect(await store.get('Task', task.id)).toMatchObject({ title: 'edited during sync', words: null, owner: 'alice', changedDate: '2026-02-01T00:00:00.000Z' });
  });

  it('removes a confirmed delete', async () => {
    store = await openTestStore();
    const server = fromServer({ title: 'a' });
    await store.applyServerObjects('Task', [server]);
    await store.session().delete((await store.get('Task', server.id))!);
    const change = (await store.pendingChange('Task', server.id))!;
    expect(await store.confirm([{ entity: 'Task', id: server.id, seq: change.seq, object: null }])).toEqual([false]);
    expect(await store.pendingCount()).toBe(0);
    expect(await store.get('Task', server.id)).toBeUndefined();
  });

  it('records a delete for an object deleted locally while its create was uploading', async () => {
    store = await openTestStore();
    const session = store.session();
    const [task] = await session.commit(session.create('Task', { title: 'short-lived' }));
    const uploaded = (await store.pendingChange('Task', task.id))!;
    await session.delete(task); // drops the pending create
    const server = { id: task.id, createdDate: '2026-02-01T00:00:00.000Z', changedDate: '2026-02-01T00:00:00.000Z', owner: 'alice', title: 'short-lived' };
    await store.confirm([{ entity: 'Task', id: task.id, seq: uploaded.seq, object: server }]);
    expect(await store.get('Task', task.id)).toBeUndefined();
    expect(await store.pendingChange('Task', task.id)).toMatchObject({ kind: 'delete', data: { title: 'short-lived' } });
  });

  it('turns a re-commit after a confirmed delete into a create', async () => {
    store = await openTestStore();
    const server = fromServer({ title: 'a' });
    await store.applyServerObjects('Task', [server]);
    const stale = store.session();
    const edited = stale.change((await store.get('Task', server.id))!, { title: 'b' });
    await store.session().delete((await store.get('Task', server.id))!);
    const deletion = (await store.pendingChange('Task', server.id))!;
    await stale.commit(edited); // brings it back: an update of every member
    await store.confirm([{ entity: 'Task', id: server.id, seq: deletion.seq, object: null }]);
    expect(await store.pendingChange('Task', server.id)).toMatchObject({ kind: 'create' });
    expect((await store.get('Task', server.id))!.title).toBe('b');
  });
});

describe('markSent', () => {
  const serverOf = (task: { id: string; title?: unknown }) => ({ id: task.id, createdDate: '2026-02-01T00:00:00.000Z', changedDate: '2026-02-01T00:00:00.000Z', owner: 'alice', title: task.title });

  it('turns a local delete of a sent create into a delete (the server may have it), and drops an unsent one', async () => {
    store = await openTestStore();
    const session = store.session();
    const [sent, unsent] = await session.commit([session.create('Task', { title: 'sent' }), session.create('Task', { title: 'unsent' })]);
    await store.markSent([(await store.pendingChange('Task', sent.id))!]);
    expect(await store.pendingChange('Task', sent.id)).toMatchObject({ kind: 'create', sent: true });
    expect((await store.pendingChange('Task', unsent.id))!.sent).toBeUndefined();
    expect((await store.pendingChanges()).map((c) => [c.id, c.sent])).toEqual(expect.arrayContaining([[sent.id, true], [unsent.id, undefined]]));
    await session.delete([sent, unsent]);
    expect(await store.pendingChange('Task', sent.id)).toMatchObject({ kind: 'delete', data: { title: 'sent' } });
    expect(await store.pendingChange('Task', unsent.id)).toBeUndefined();
  });

  it('keeps a create marked across a re-commit, and forgets the mark once the answer is applied', async () => {
    store = await openTestStore();
    const session = store.session();
    const [a, b] = await session.commit([session.create('Task', { title: 'a' }), session.create('Task', { title: 'b' })]);
    const [ca, cb] = [(await store.pendingChange('Task', a.id))!, (await store.pendingChange('Task', b.id))!];
    await store.markSent([ca, cb]);
    const [a2] = await session.commit(session.change(a, { title: 'a again' }));
    expect(await store.pendingChange('Task', a.id)).toMatchObject({ kind: 'create', sent: true });
    // a: applied but not readable after the write, re-committed meanwhile: still a create, still sent.
    // b: confirmed: no change left, and a later object with another id is not marked.
    await store.confirm([
      { entity: 'Task', id: a.id, seq: ca.seq, object: null },
      { entity: 'Task', id: b.id, seq: cb.seq, object: serverOf(b) },
    ]);
    expect(await store.pendingChange('Task', a.id)).toMatchObject({ kind: 'create', sent: true });
    expect(await store.pendingChange('Task', b.id)).toBeUndefined();
    await session.delete(a2);
    expect(await store.pendingChange('Task', a.id)).toMatchObject({ kind: 'delete' });
    const [c] = await session.commit(session.create('Task', { title: 'c' }));
    await session.delete(c);
    expect(await store.pendingCount()).toBe(1); // a's delete only
  });

  it('keeps a refused create committed again meanwhile marked as sent', async () => {
    store = await openTestStore();
    const session = store.session();
    const [task] = await session.commit(session.create('Task', { title: 'refused' }));
    const uploaded = (await store.pendingChange('Task', task.id))!;
    await store.markSent([uploaded]);
    const [again] = await session.commit(session.change(task, { title: 'edited' }));
    await store.refuse([{ entity: 'Task', id: task.id, seq: uploaded.seq, failure: failureFixture({ objectId: task.id, kind: 'create', data: { title: 'refused' } }), restore: null }]);
    expect(await store.pendingChange('Task', task.id)).toMatchObject({ kind: 'create', sent: true });
    await session.delete(again);
    expect(await store.pendingChange('Task', task.id)).toMatchObject({ kind: 'delete' });
  });
});

describe('confirm in bulk', () => {
  it('confirms more than one transaction holds (1,000), each change with its own version', async () => {
    store = await openTestStore();
    const session = store.session();
    const tasks = await session.commit(Array.from({ length: 2100 }, (_, i) => session.create('Task', { title: `t${i}` })));
    const changes = await store.pendingChanges();
    const version = (i: number) => ({ id: tasks[i].id, createdDate: '2026-02-01T00:00:00.000Z', changedDate: '2026-02-01T00:00:00.000Z', owner: 'alice', title: `t${i}`, words: i });
    // The last one was committed again meanwhile: it stays pending as an update.
    await session.commit(session.change(tasks[2099], { title: 'edited' }));
    const seqOf = new Map(changes.map((c) => [c.id, c.seq]));
    const took = await store.confirm(tasks.map((t, i) => ({ entity: 'Task', id: t.id, seq: seqOf.get(t.id)!, object: version(i) })));
    expect(took).toEqual([...Array.from({ length: 2099 }, () => true), false]);
    expect(await store.pendingCount()).toBe(1);
    expect(await store.pendingChange('Task', tasks[2099].id)).toMatchObject({ kind: 'update' });
    const stored = await store.getMany('Task', tasks.map((t) => t.id));
    expect(stored.map((o) => o!.words)).toEqual([...Array.from({ length: 2099 }, (_, i) => i), null]);
    expect(stored[2099]).toMatchObject({ title: 'edited', owner: 'alice' });
  });
});

describe('refuse', () => {
  const failureOf = (id: string, title: string) => failureFixture({ objectId: id, data: { title }, reason: 'rejected', message: 'no' });

  it("records the failure and replaces the refused change by the server's version", async () => {
    store = await openTestStore();
    const server = fromServer({ title: 'server' });
    await store.applyServerObjects('Task', [server]);
    const session = store.session();
    await session.commit(session.change((await store.get('Task', server.id))!, { title: 'refused' }));
    const change = (await store.pendingChange('Task', server.id))!;
    const failure = failureOf(server.id, 'refused');
    expect(await store.refuse([{ entity: 'Task', id: server.id, seq: change.seq, failure, restore: server }])).toEqual({ removedIds: [], fileFailures: [] });
    expect(await store.pendingCount()).toBe(0);
    expect((await store.get('Task', server.id))!.title).toBe('server');
    expect(await store.listFailures()).toEqual([failure]);
  });

  it('removes the object when the server has none for us', async () => {
    store = await openTestStore();
    const session = store.session();
    const [task] = await session.commit(session.create('Task', { title: 'refused' }));
    const change = (await store.pendingChange('Task', task.id))!;
    const refusal = { entity: 'Task', id: task.id, seq: change.seq, failure: failureOf(task.id, 'refused'), restore: null };
    expect(await store.refuse([refusal])).toEqual({ removedIds: [task.id], fileFailures: [] });
    expect(await store.pendingCount()).toBe(0);
    expect(await store.get('Task', task.id)).toBeUndefined();
  });

  it('keeps a change committed again while the refused one was uploading', async () => {
    store = await openTestStore();
    const server = fromServer({ title: 'server' });
    await store.applyServerObjects('Task', [server]);
    const session = store.session();
    await session.commit(session.change((await store.get('Task', server.id))!, { title: 'refused' }));
    const uploaded = (await store.pendingChange('Task', server.id))!;
    await session.commit(session.change((await store.get('Task', server.id))!, { done: true }));
    await store.refuse([{ entity: 'Task', id: server.id, seq: uploaded.seq, failure: failureOf(server.id, 'refused'), restore: server }]);
    expect((await store.pendingChange('Task', server.id))!.seq).toBeGreaterThan(uploaded.seq);
    expect(await store.get('Task', server.id)).toMatchObject({ title: 'refused', done: true });
    expect(await store.listFailures()).toHaveLength(1);
  });

  it('writes nothing when one entity is unknown', async () => {
    store = await openTestStore();
    const session = store.session();
    const [task] = await session.commit(session.create('Task', { title: 'kept' }));
    const change = (await store.pendingChange('Task', task.id))!;
    const failure = failureOf(task.id, 'kept');
    await expect(
      store.refuse([
        { entity: 'Task', id: task.id, seq: change.seq, failure, restore: null },
        { entity: 'Nope', id: newId(), seq: 1, failure, restore: null },
      ]),
    ).rejects.toBeInstanceOf(SchemaError);
    expect(await store.pendingCount()).toBe(1);
    expect(await store.listFailures()).toEqual([]);
  });
});

describe('removeObjects', () => {
  it('keeps objects with pending changes unless forced', async () => {
    store = await openTestStore();
    const [kept, gone] = [fromServer({ title: 'changed' }), fromServer({ title: 'unchanged' })];
    await store.applyServerObjects('Task', [kept, gone]);
    const session = store.session();
    await session.commit(session.change((await store.get('Task', kept.id))!, { done: true }));
    expect(await store.removeObjects('Task', [kept.id, gone.id, newId()])).toBe(1);
    expect((await store.query('Task')).map((o) => o.id)).toEqual([kept.id]);
    expect(await store.removeObjects('Task', [kept.id], { force: true })).toBe(1);
    expect([await store.count('Task'), await store.pendingCount()]).toEqual([0, 0]);
  });
});

describe('removeUntagged', () => {
  it('removes synchronized objects the run did not write, never those with pending changes', async () => {
    store = await openTestStore();
    const [old, changed, current] = [fromServer({ title: 'old' }), fromServer({ title: 'changed' }), fromServer({ title: 'current' })];
    await store.applyServerObjects('Task', [old, changed], { tag: 'run-1' });
    const session = store.session();
    await session.commit(session.change((await store.get('Task', changed.id))!, { done: true }));
    const [created] = await session.commit(session.create('Task', { title: 'created offline' }));
    await store.applyServerObjects('Task', [current], { tag: 'run-2' });
    expect(await store.removeUntagged('Task', 'run-2')).toBe(1);
    expect((await store.query('Task', { sort: [['title', 'asc']] })).map((o) => o.title)).toEqual(['changed', 'created offline', 'current']);
    expect(await store.pendingChange('Task', created.id)).toBeDefined();
    expect(await store.removeUntagged('Project', 'run-2')).toBe(0);
  });

  it('removes objects refreshed without a tag too', async () => {
    store = await openTestStore();
    const refreshed = fromServer({ title: 'refreshed' });
    await store.applyServerObjects('Task', [refreshed]);
    expect(await store.removeUntagged('Task', 'run-1')).toBe(1);
  });
});

describe('failures', () => {
  const failure = (id: string, createdDate: string) => failureFixture({ id, data: { title: 'lost?' }, createdDate });

  it('stores, lists oldest first, replaces by id and deletes SynchronizationFailures', async () => {
    store = await openTestStore();
    await store.putFailures([failure('f2', '2026-01-02T00:00:00.000Z'), failure('f1', '2026-01-01T00:00:00.000Z')]);
    await store.putFailures([{ ...failure('f2', '2026-01-02T00:00:00.000Z'), message: 'again' }]);
    expect((await store.listFailures()).map((f) => [f.id, f.message.slice(0, 5)])).toEqual([['f1', 'The o'], ['f2', 'again']]);
    await store.deleteFailure('f1');
    expect((await store.listFailures()).map((f) => f.id)).toEqual(['f2']);
  });
});

describe('files and metadata', () => {
  it('stores file contents per object', async () => {
    store = await openTestStore();
    const id = newId();
    await store.putFile('Attachment', id, new TextEncoder().encode('file body'), 'text/plain');
    const file = (await store.getFile('Attachment', id))!;
    expect(new TextDecoder().decode(file.data)).toBe('file body');
    expect(file.contentType).toBe('text/plain');
    expect(await store.getFile('Attachment', newId())).toBeUndefined();
  });

  it('removes the file with an object the server no longer has', async () => {
    store = await openTestStore();
    const attachment = fromServer({ name: 'a.txt', task: newId() });
    await store.applyServerObjects('Attachment', [attachment]);
    await store.applyServerFile('Attachment', attachment.id, new Uint8Array([1]), 'text/plain', attachment.changedDate!);
    await store.removeObjects('Attachment', [attachment.id]);
    expect(await store.getFile('Attachment', attachment.id)).toBeUndefined();
  });

  it('keeps an object whose contents were attached on the device and never reached the server', async () => {
    store = await openTestStore();
    const attachment = fromServer({ name: 'a.txt', task: newId() });
    await store.applyServerObjects('Attachment', [attachment]);
    await store.putFile('Attachment', attachment.id, new Uint8Array([1]), 'text/plain');
    expect(await store.removeObjects('Attachment', [attachment.id])).toBe(0);
    expect(await store.applyServerFile('Attachment', attachment.id, new Uint8Array([2]), 'text/plain', 'v2')).toBe(false);
    expect((await store.getFile('Attachment', attachment.id))!.data).toEqual(new Uint8Array([1]));
    expect(await store.pendingFiles()).toEqual([{ entity: 'Attachment', id: attachment.id }]);
  });

  it('keeps small metadata values and reserves keys starting with $', async () => {
    store = await openTestStore();
    expect(await store.getMeta('deviceId')).toBeUndefined();
    await store.setMeta('deviceId', 'device-1');
    await store.setMeta('lastSync', { at: '2026-01-01T00:00:00.000Z', mode: 'all' });
    expect(await store.getMeta<string>('deviceId')).toBe('device-1');
    expect(await store.getMeta('lastSync')).toEqual({ at: '2026-01-01T00:00:00.000Z', mode: 'all' });
    await expect(store.setMeta('$seq', 0)).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('server-side writes', () => {
  it('refuse to run inside an app transaction (they would untrack its writes)', async () => {
    store = await openTestStore();
    const error = await store.db
      .transaction('rw', ['Task', '$changes'], () => store.applyServerObjects('Task', [fromServer({ title: 'a' })]))
      .catch((e) => e);
    expect(error).toBeInstanceOf(SyncflowError);
  });
});
