import { afterEach, describe, expect, it } from 'vitest';
import { SyncflowError, ValidationError } from '../../src/errors.ts';
import { isUuid } from '../../src/model/values.ts';
import type { LocalStore } from '../../src/store/LocalStore.ts';
import { fromServer, openTestStore } from './openTestStore.ts';

let store: LocalStore;
afterEach(() => store?.close());

async function problemsOf(p: Promise<unknown> | (() => unknown)): Promise<string[]> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).problems.map((x) => x.path);
  }
  throw new Error('expected a ValidationError');
}

describe('Session.create', () => {
  it('makes an uncommitted object with a device-made id, empty system attributes and every member', async () => {
    store = await openTestStore();
    const session = store.session();
    const task = session.create('Task', { title: 'Write the spec', due: '2026-03-01T10:00:00+01:00' });
    expect(isUuid(task.id)).toBe(true);
    expect(task).toMatchObject({ $entity: 'Task', createdDate: null, changedDate: null, owner: null, done: null, project: null });
    expect(task.due).toBe('2026-03-01T09:00:00.000Z');
    expect(Object.isFrozen(task)).toBe(true);
    expect(session.isUncommitted(task)).toBe(true);
    expect(await store.get('Task', task.id)).toBeUndefined();
  });

  it('accepts missing required members until the commit but rejects bad values, naming the field', async () => {
    store = await openTestStore();
    const session = store.session();
    expect(() => session.create('Task')).not.toThrow();
    const paths = await problemsOf(() => session.create('Task', { priority: 'urgent' }));
    expect(paths).toHaveLength(1);
    expect(paths[0]).toMatch(/^Task\([0-9a-f-]{36}\)\.priority$/);
  });
});

describe('Session.change', () => {
  it('returns a new version and leaves the old one as it was', async () => {
    store = await openTestStore();
    const session = store.session();
    const v1 = session.create('Task', { title: 'a' });
    const v2 = session.change(v1, { title: 'b' });
    expect(v1.title).toBe('a');
    expect(v2.title).toBe('b');
    expect(session.current(v1)).toBe(v2);
  });

  it('applies on top of the latest version even when given an old one', async () => {
    store = await openTestStore();
    const session = store.session();
    const v1 = session.create('Task', { title: 'a' });
    session.change(v1, { done: true });
    const v3 = session.change(v1, { priority: 'high' });
    expect(v3).toMatchObject({ title: 'a', done: true, priority: 'high' });
  });

  it('holds a stored object uncommitted until the commit', async () => {
    store = await openTestStore();
    const session = store.session();
    const [saved] = await session.commit(session.create('Task', { title: 'a' }));
    expect(session.isUncommitted(saved)).toBe(false);
    const edited = session.change(saved, { title: 'b' });
    expect(session.isUncommitted(saved)).toBe(true);
    expect(session.uncommitted()).toEqual([edited]);
    expect((await store.get('Task', saved.id))!.title).toBe('a');
  });

  it('rejects a bad value, naming the field', async () => {
    store = await openTestStore();
    const session = store.session();
    const task = session.create('Task', { title: 'a' });
    expect(await problemsOf(() => session.change(task, { estimate: 'lots' }))).toEqual([`Task(${task.id}).estimate`]);
  });
});

describe('Session.commit', () => {
  it('writes the object and marks it created with every member', async () => {
    store = await openTestStore();
    const session = store.session();
    const task = session.change(session.create('Task', { title: 'a' }), { done: false });
    const [saved] = await session.commit(task);
    expect(saved).toMatchObject({ id: task.id, title: 'a', done: false, $entity: 'Task' });
    expect(await store.get('Task', task.id)).toEqual(saved);
    const change = await store.pendingChange('Task', task.id);
    expect(change).toMatchObject({ kind: 'create', entity: 'Task', id: task.id });
    expect(change!.changed.sort()).toEqual(['assignee', 'done', 'due', 'estimate', 'priority', 'project', 'title', 'words']);
    expect(session.isUncommitted(task)).toBe(false);
    expect(session.current(task)).toEqual(saved);
  });

  it('names the bad field as Task(<id>).title and writes nothing', async () => {
    store = await openTestStore();
    const session = store.session();
    const good = session.create('Task', { title: 'fine' });
    const bad = session.create('Task', { done: true });
    const before = [await store.count('Task'), await store.pendingCount()];
    expect(await problemsOf(session.commit([good, bad]))).toEqual([`Task(${bad.id}).title`]);
    expect([await store.count('Task'), await store.pendingCount()]).toEqual(before);
    expect(session.isUncommitted(good) && session.isUncommitted(bad)).toBe(true);
  });

  it('reports every invalid object of the commit at once', async () => {
    store = await openTestStore();
    const session = store.session();
    const a = session.create('Project');
    const b = session.create('Attachment', { name: 'x.png' });
    expect((await problemsOf(session.commit([a, b]))).sort()).toEqual([`Attachment(${b.id}).task`, `Project(${a.id}).name`].sort());
    expect(await store.count('Project')).toBe(0);
  });

  it('merges only the changed members, keeping what the server wrote meanwhile', async () => {
    store = await openTestStore();
    const server = fromServer({ title: 'original', words: 1, estimate: 2 });
    await store.applyServerObjects('Task', [server]);
    const session = store.session();
    const edited = session.change((await store.get('Task', server.id))!, { title: 'my title' });
    // A sync refreshes the object while the form is open.
    await store.applyServerObjects('Task', [{ ...server, estimate: 5, changedDate: '2026-01-02T00:00:00.000Z' }]);
    const [saved] = await session.commit(edited);
    expect(saved).toMatchObject({ title: 'my title', estimate: 5, changedDate: '2026-01-02T00:00:00.000Z' });
    expect(await store.pendingChange('Task', server.id)).toMatchObject({ kind: 'update', changed: ['title'] });
  });

  it('leaves objects it does not hold uncommitted alone', async () => {
    store = await openTestStore();
    const server = fromServer({ title: 'a' });
    await store.applyServerObjects('Task', [server]);
    const stored = (await store.get('Task', server.id))!;
    expect(await store.session().commit(stored)).toEqual([stored]);
    expect(await store.pendingCount()).toBe(0);
  });

  it('commits the objects of several entities in one transaction', async () => {
    store = await openTestStore();
    const session = store.session();
    const project = session.create('Project', { name: 'Garden' });
    const task = session.create('Task', { title: 'Dig', project: project.id });
    await session.commit([task, project]);
    expect((await store.pendingChanges()).map((c) => c.entity)).toEqual(['Project', 'Task']);
  });

  it('refuses an object that left the database meanwhile, and writes nothing', async () => {
    store = await openTestStore();
    const server = fromServer({ title: 'a' });
    await store.applyServerObjects('Task', [server]);
    const session = store.session();
    const edited = session.change((await store.get('Task', server.id))!, { title: 'b' });
    await store.removeObjects('Task', [server.id]);
    const error = await session.commit(edited).catch((e) => e);
    expect(error).toBeInstanceOf(SyncflowError);
    expect(error.code).toBe('not_found');
    expect(await store.get('Task', server.id)).toBeUndefined();
    expect(await store.pendingCount()).toBe(0);
  });
});

describe('Session.rollback', () => {
  it('forgets the changes of the given objects only', async () => {
    store = await openTestStore();
    const session = store.session();
    const a = session.create('Task', { title: 'a' });
    const b = session.create('Task', { title: 'b' });
    session.rollback(a);
    expect(session.isUncommitted(a)).toBe(false);
    expect(session.uncommitted()).toEqual([b]);
  });

  it('forgets everything without an argument, and a rolled-back object is not committed', async () => {
    store = await openTestStore();
    const session = store.session();
    const a = session.create('Task', { title: 'a' });
    session.rollback();
    expect(session.uncommitted()).toEqual([]);
    await session.commit(a);
    expect(await store.get('Task', a.id)).toBeUndefined();
  });

  it('brings a changed object back to its committed version', async () => {
    store = await openTestStore();
    const session = store.session();
    const [saved] = await session.commit(session.create('Task', { title: 'a' }));
    const edited = session.change(saved, { title: 'b' });
    session.rollback(edited);
    expect(session.current(edited)).toBe(edited);
    expect((await store.get('Task', saved.id))!.title).toBe('a');
    expect(session.change(saved, { done: true }).title).toBe('a');
  });
});

describe('Session.delete', () => {
  it('drops a never-synchronized create: nothing is left to tell the server', async () => {
    store = await openTestStore();
    const session = store.session();
    const [saved] = await session.commit(session.create('Task', { title: 'a' }));
    await session.change(saved, { title: 'b' });
    await session.delete(saved);
    expect(await store.get('Task', saved.id)).toBeUndefined();
    expect(await store.pendingCount()).toBe(0);
    expect(session.isUncommitted(saved)).toBe(false);
  });

  it('turns a synchronized object into a pending delete carrying its last values', async () => {
    store = await openTestStore();
    const server = fromServer({ title: 'a', done: true });
    await store.applyServerObjects('Task', [server]);
    const session = store.session();
    await session.commit(session.change((await store.get('Task', server.id))!, { title: 'edited' }));
    await session.delete((await store.get('Task', server.id))!);
    expect(await store.get('Task', server.id)).toBeUndefined();
    expect(await store.query('Task')).toEqual([]);
    const change = await store.pendingChange('Task', server.id);
    expect(change).toMatchObject({ kind: 'delete', changed: [], data: { title: 'edited', done: true } });
  });

  it('does nothing for an object that was never committed', async () => {
    store = await openTestStore();
    const session = store.session();
    const task = session.create('Task', { title: 'a' });
    await session.delete(task);
    expect(session.isUncommitted(task)).toBe(false);
    expect(await store.pendingCount()).toBe(0);
  });

  it('clears references to a deleted object as the server would: a new task of a new project deleted unsynchronized stays valid', async () => {
    store = await openTestStore();
    const session = store.session();
    const project = session.create('Project', { name: 'P' });
    const task = session.create('Task', { title: 'a', project: project.id });
    await session.commit([project, task]);
    await session.delete((await store.get('Project', project.id))!);
    expect(await store.get('Task', task.id)).toMatchObject({ title: 'a', project: null });
    // One pending change: the task's create (it sends the row, now without the reference); the project's create is dropped.
    expect(await store.pendingCount()).toBe(1);
    expect(await store.pendingChange('Task', task.id)).toMatchObject({ kind: 'create' });
  });

  it('queues the cleared reference of a synchronized referrer as an update', async () => {
    store = await openTestStore();
    const project = fromServer({ name: 'P' });
    const task = fromServer({ title: 'a', project: project.id });
    const other = fromServer({ title: 'b', project: null });
    await store.applyServerObjects('Project', [project]);
    await store.applyServerObjects('Task', [task, other]);
    await store.session().delete((await store.get('Project', project.id))!);
    expect(await store.get('Task', task.id)).toMatchObject({ title: 'a', project: null });
    expect(await store.pendingChange('Task', task.id)).toMatchObject({ kind: 'update', changed: ['project'] });
    expect(await store.pendingChange('Task', other.id)).toBeUndefined();
    expect(await store.pendingChange('Project', project.id)).toMatchObject({ kind: 'delete' });
  });

  it('deletes referrers whose association is required, and leaves no change on a referrer deleted too', async () => {
    store = await openTestStore();
    const task = fromServer({ title: 'a' });
    const attachment = fromServer({ name: 'a.png', task: task.id });
    await store.applyServerObjects('Task', [task]);
    await store.applyServerObjects('Attachment', [attachment]);
    const session = store.session();
    const held = session.change((await store.get('Attachment', attachment.id))!, { name: 'b.png' });
    await session.delete((await store.get('Task', task.id))!);
    expect(await store.get('Attachment', attachment.id)).toBeUndefined();
    expect(await store.pendingChange('Attachment', attachment.id)).toMatchObject({ kind: 'delete', data: { task: task.id } });
    expect(await store.pendingChange('Task', task.id)).toMatchObject({ kind: 'delete' });
    expect(session.isUncommitted(held)).toBe(false);
  });
});
