import { afterEach, describe, expect, it } from 'vitest';
import Dexie from 'dexie';
import { ValidationError } from '../../src/errors.ts';
import { newId } from '../../src/model/values.ts';
import type { LocalStore } from '../../src/store/LocalStore.ts';
import { fromServer, openTestStore } from './openTestStore.ts';

let store: LocalStore;
afterEach(() => store?.close());

async function synced(title = 'a') {
  const server = fromServer({ title });
  await store.applyServerObjects('Task', [server]);
  return (await store.get('Task', server.id))!;
}

describe('pending change merging', () => {
  it('keeps a create a create after later updates, renewing seq and changeId', async () => {
    store = await openTestStore();
    const session = store.session();
    const [saved] = await session.commit(session.create('Task', { title: 'a' }));
    const first = (await store.pendingChange('Task', saved.id))!;
    await session.commit(session.change(saved, { done: true }));
    const second = (await store.pendingChange('Task', saved.id))!;
    expect(second.kind).toBe('create');
    expect(second.changed).toContain('title');
    expect(second.seq).toBeGreaterThan(first.seq);
    expect(second.changeId).not.toBe(first.changeId);
  });

  it('unions the changed members of successive updates', async () => {
    store = await openTestStore();
    const task = await synced();
    const session = store.session();
    const [v2] = await session.commit(session.change(task, { title: 'b' }));
    await session.commit(session.change(v2, { done: true, estimate: 3 }));
    const change = (await store.pendingChange('Task', task.id))!;
    expect(change.kind).toBe('update');
    expect(change.changed.sort()).toEqual(['done', 'estimate', 'title']);
  });

  it('records nothing when a commit changes no value', async () => {
    store = await openTestStore();
    const task = await synced('same');
    const session = store.session();
    await session.commit(session.change(task, { title: 'same' }));
    expect(await store.pendingCount()).toBe(0);
  });

  it('makes a delete of an updated object a delete with the last values', async () => {
    store = await openTestStore();
    const task = await synced();
    const session = store.session();
    const [v2] = await session.commit(session.change(task, { title: 'b' }));
    await session.delete(v2);
    expect(await store.pendingChange('Task', task.id)).toMatchObject({ kind: 'delete', changed: [], data: { title: 'b' } });
  });

  it('makes a commit after a delete an update of every member (the server still has the object)', async () => {
    store = await openTestStore();
    const task = await synced();
    const session = store.session();
    const edited = session.change(task, { title: 'kept' });
    // Another session deletes it; this one commits its version afterwards.
    await store.session().delete(task);
    const [saved] = await session.commit(edited);
    expect(saved.title).toBe('kept');
    const change = (await store.pendingChange('Task', task.id))!;
    expect(change.kind).toBe('update');
    expect(change.changed).toContain('project');
    expect(change.data).toBeUndefined();
  });

  it('gives every recorded change its own store-wide increasing seq', async () => {
    store = await openTestStore();
    const session = store.session();
    const objects = [0, 1, 2].map((i) => session.create('Task', { title: `t${i}` }));
    await session.commit(objects);
    const project = session.create('Project', { name: 'p' });
    await session.commit(project);
    const seqs = (await store.pendingChanges()).map((c) => [c.entity, c.seq]);
    const taskSeqs = seqs.filter(([e]) => e === 'Task').map(([, s]) => s as number);
    expect(new Set(seqs.map(([, s]) => s)).size).toBe(4);
    expect(Math.max(...taskSeqs)).toBeLessThan((await store.pendingChange('Project', project.id))!.seq);
  });

  it('lists creates and updates targets first, then deletes referrers first, by seq within an entity', async () => {
    store = await openTestStore();
    const session = store.session();
    const oldProject = fromServer({ name: 'old' });
    const oldTask = fromServer({ title: 'old', project: oldProject.id });
    const oldAttachment = fromServer({ name: 'f', task: oldTask.id });
    await store.applyServerObjects('Project', [oldProject]);
    await store.applyServerObjects('Task', [oldTask]);
    await store.applyServerObjects('Attachment', [oldAttachment]);
    await session.delete((await store.get('Project', oldProject.id))!);
    // The task's attachment goes with it (a required association), as on the server.
    await session.delete((await store.get('Task', oldTask.id))!);
    expect(await store.get('Attachment', oldAttachment.id)).toBeUndefined();
    const t1 = session.create('Task', { title: 't1' });
    await session.commit(t1);
    const p = session.create('Project', { name: 'p' });
    const t2 = session.create('Task', { title: 't2', project: p.id });
    await session.commit([t2, p]);
    const a = session.create('Attachment', { name: 'a', task: t1.id });
    await session.commit(a);
    expect((await store.pendingChanges()).map((c) => `${c.kind} ${c.entity} ${c.id === t1.id ? 't1' : c.id === t2.id ? 't2' : ''}`.trim())).toEqual([
      'create Project',
      'create Task t1',
      'create Task t2',
      'create Attachment',
      'delete Attachment',
      'delete Task',
      'delete Project',
    ]);
  });
});

describe('change tracking middleware (one door for every local write)', () => {
  it('tracks a raw Dexie put of a new object as a create', async () => {
    store = await openTestStore();
    const id = newId();
    await store.db.table('Task').put({ id, title: 'raw', $entity: 'Task' });
    expect(await store.pendingChange('Task', id)).toMatchObject({ kind: 'create' });
    expect(await store.get('Task', id)).toMatchObject({ title: 'raw', done: null, createdDate: null });
  });

  it('tracks a raw put over a stored object as an update of the members that differ', async () => {
    store = await openTestStore();
    const task = await synced();
    const { $entity: _, ...row } = task;
    await store.db.table('Task').put({ ...row, estimate: 4 });
    expect(await store.pendingChange('Task', task.id)).toMatchObject({ kind: 'update', changed: ['estimate'] });
  });

  it('tracks raw bulkPut, modify, update and delete', async () => {
    store = await openTestStore();
    const [a, b, c] = [newId(), newId(), newId()];
    await store.db.table('Task').bulkPut([{ id: a, title: 'a' }, { id: b, title: 'b' }]);
    const server = await synced('server');
    await store.db.table('Task').where('id').equals(server.id).modify({ done: true });
    await store.db.table('Project').add({ id: c, name: 'p' });
    await store.db.table('Project').update(c, { archived: true });
    await store.db.table('Task').delete(a);
    const kinds = Object.fromEntries((await store.pendingChanges()).map((x) => [x.id, `${x.kind}:${x.kind === 'update' ? x.changed : ''}`]));
    expect(kinds).toEqual({ [b]: 'create:', [server.id]: 'update:done', [c]: 'create:' });
  });

  it('tracks a raw clear() as deletes of the synchronized objects', async () => {
    store = await openTestStore();
    const server = await synced();
    const local = newId();
    await store.db.table('Task').put({ id: local, title: 'local' });
    await store.db.table('Task').clear();
    expect(await store.count('Task')).toBe(0);
    expect((await store.pendingChanges()).map((c) => [c.id, c.kind])).toEqual([[server.id, 'delete']]);
  });

  it('tracks raw writes inside an app transaction that names only the entity table', async () => {
    store = await openTestStore();
    const [a, b] = [newId(), newId()];
    await store.db.transaction('rw', 'Task', async () => {
      await Promise.all([store.db.table('Task').put({ id: a, title: 'a' }), store.db.table('Task').put({ id: b, title: 'b' })]);
    });
    const changes = await store.pendingChanges();
    expect(changes.map((c) => c.kind)).toEqual(['create', 'create']);
    expect(new Set(changes.map((c) => c.seq)).size).toBe(2); // parallel writes in one transaction share no seq
  });

  it('merges parallel writes of one object in one transaction without losing a member', async () => {
    store = await openTestStore();
    const task = await synced();
    const { $entity: _, ...row } = task;
    await store.db.transaction('rw', 'Task', () =>
      Promise.all([store.db.table('Task').put({ ...row, title: 'x' }), store.db.table('Task').put({ ...row, title: 'x', done: true })]),
    );
    expect((await store.pendingChange('Task', task.id))!.changed.sort()).toEqual(['done', 'title']);
  });

  it('rolls the change records back with an aborted app transaction', async () => {
    store = await openTestStore();
    await store.db
      .transaction('rw', 'Task', async () => {
        await store.db.table('Task').put({ id: newId(), title: 'a' });
        throw new Error('app failure');
      })
      .catch(() => undefined);
    expect([await store.count('Task'), await store.pendingCount()]).toEqual([0, 0]);
  });

  it('validates raw writes like a commit: nothing is written and the field is named', async () => {
    store = await openTestStore();
    const id = newId();
    const error = await store.db.table('Task').put({ id, title: 'a', priority: 'urgent' }).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => p.path)).toEqual([`Task(${id}).priority`]);
    const missing = await store.db.table('Task').bulkPut([{ id: newId() }]).catch((e) => e);
    expect(missing).toBeInstanceOf(ValidationError);
    expect([await store.count('Task'), await store.pendingCount()]).toEqual([0, 0]);
  });

  it('records only the rows a bulkAdd really added', async () => {
    store = await openTestStore();
    const existing = await synced();
    const fresh = newId();
    const { $entity: _, ...row } = existing;
    const error = await store.db.table('Task').bulkAdd([{ ...row, title: 'dup' }, { id: fresh, title: 'new' }]).catch((e) => e);
    expect(error).toBeInstanceOf(Dexie.BulkError);
    expect((await store.pendingChanges()).map((c) => [c.id, c.kind])).toEqual([[fresh, 'create']]);
    expect((await store.get('Task', existing.id))!.title).toBe('a');
  });

  it('removes the file of a deleted object', async () => {
    store = await openTestStore();
    const task = fromServer({ title: 't' });
    const attachment = fromServer({ name: 'a.txt', task: task.id });
    await store.applyServerObjects('Attachment', [attachment]);
    await store.putFile('Attachment', attachment.id, new Uint8Array([1, 2]), 'text/plain');
    await store.db.table('Attachment').delete(attachment.id);
    expect(await store.getFile('Attachment', attachment.id)).toBeUndefined();
  });

  it('lets the store\'s server-side writes through untracked', async () => {
    store = await openTestStore();
    await store.applyServerObjects('Task', [fromServer({ title: 'a' })]);
    await store.removeObjects('Task', (await store.query('Task')).map((o) => o.id));
    expect(await store.pendingCount()).toBe(0);
  });
});
