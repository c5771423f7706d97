import { describe, expect, it } from 'vitest';
import { NetworkError, ServerError, SIMULTANEOUS_SYNC_MESSAGE, SimultaneousSyncError, SyncflowError } from '../../src/errors.ts';
import type { LocalObject } from '../../src/store/types.ts';
import { useWorld } from '../support/world.ts';

const world = useWorld({ scope: 'test' });

const uuid = () => crypto.randomUUID();

/** Alice's device after a first full sync of what carol (a manager) and alice made on the server. */
async function aliceWithData() {
  const projectId = uuid();
  const taskIds = { mine: uuid(), doomed: uuid(), assigned: uuid() };
  const alice = world.elsewhere('alice');
  const carol = world.elsewhere('carol');
  await alice.upload([
    { entity: 'Project', id: projectId, kind: 'create', data: { name: 'Apollo' } },
    { entity: 'Task', id: taskIds.mine, kind: 'create', data: { title: 'Mine to keep', project: projectId } },
    { entity: 'Task', id: taskIds.doomed, kind: 'create', data: { title: 'Deleted elsewhere soon', project: projectId } },
  ]);
  await carol.upload([
    { entity: 'Task', id: taskIds.assigned, kind: 'create', data: { title: 'Assigned to alice', assignee: 'alice' } },
  ]);
  const device = await world.device('alice');
  await device.runtime.synchronize({ mode: 'all' });
  return { ...device, projectId, taskIds, alice, carol };
}

async function ids(d: { runtime: { store: { query(e: string): Promise<LocalObject[]> } } }, entity: string) {
  return (await d.runtime.store.query(entity)).map((o) => o.id).sort();
}

describe('all objects mode', () => {
  it('downloads everything the user may read and nothing else', async () => {
    const d = await aliceWithData();
    const bobsTask = uuid();
    await world.elsewhere('bob').upload([{ entity: 'Task', id: bobsTask, kind: 'create', data: { title: 'Bob only' } }]);
    const result = await d.runtime.synchronize({ mode: 'all' });
    expect(await ids(d, 'Task')).toEqual([d.taskIds.mine, d.taskIds.doomed, d.taskIds.assigned].sort());
    expect(await d.runtime.store.get('Task', bobsTask)).toBeUndefined();
    expect(result.downloaded).toBe(4);
    expect(result.mode).toBe('all');
  });

  it('removes an object deleted on the server', async () => {
    const d = await aliceWithData();
    await d.alice.upload([{ entity: 'Task', id: d.taskIds.doomed, kind: 'delete', data: {} }]);
    const result = await d.runtime.synchronize({ mode: 'all' });
    expect(await d.runtime.store.get('Task', d.taskIds.doomed)).toBeUndefined();
    expect(result.removed).toBe(1);
    expect(await ids(d, 'Task')).toEqual([d.taskIds.mine, d.taskIds.assigned].sort());
  });

  it('removes an object the user may no longer read', async () => {
    const d = await aliceWithData();
    await d.carol.upload([{ entity: 'Task', id: d.taskIds.assigned, kind: 'update', data: { assignee: 'bob' } }]);
    await d.runtime.synchronize({ mode: 'all' });
    expect(await d.runtime.store.get('Task', d.taskIds.assigned)).toBeUndefined();
    expect(await d.runtime.store.get('Task', d.taskIds.mine)).toBeDefined();
  });

  it('uploads creates before the objects that refer to them, and deletes', async () => {
    const d = await aliceWithData();
    const session = d.runtime.session();
    // Created in the "wrong" order on purpose: the task refers to a project made after it.
    const project = session.create('Project', { name: 'Made offline' });
    const task = session.create('Task', { title: 'Offline task', project: project.id });
    await session.commit([task, project]);
    const doomed = (await d.runtime.store.get('Task', d.taskIds.doomed))!;
    await session.delete(doomed);

    const result = await d.runtime.synchronize({ mode: 'all' });
    expect(result.failed).toBe(0);
    expect(result.uploaded).toBe(3);
    expect(await d.alice.get('Task', task.id)).toMatchObject({ title: 'Offline task', project: project.id, owner: 'alice' });
    expect(await d.alice.get('Task', d.taskIds.doomed)).toBeNull();
    expect(await d.runtime.store.pendingCount()).toBe(0);
    expect((await d.runtime.store.get('Task', task.id))!.changedDate).not.toBeNull();
  });

  it('follows the sync configuration: by constraint, and nothing', async () => {
    const d = await aliceWithData();
    const other = await world.device('alice', {
      syncConfig: {
        Task: { download: 'constraint', constraint: { attribute: 'assignee', op: 'eq', value: 'alice' } },
        Project: { download: 'nothing' },
      },
    });
    await other.runtime.synchronize({ mode: 'all' });
    expect(await ids(other, 'Task')).toEqual([d.taskIds.assigned]);
    expect(await ids(other, 'Project')).toEqual([]);
  });

  it('downloads file contents, and only those that changed', async () => {
    const d = await aliceWithData();
    const attachment = uuid();
    await d.alice.upload([{ entity: 'Attachment', id: attachment, kind: 'create', data: { name: 'notes.txt', task: d.taskIds.mine } }]);
    await d.alice.client.putFile('Attachment', attachment, new TextEncoder().encode('hello offline'), 'text/plain');
    await d.runtime.synchronize({ mode: 'all' });
    const file = await d.runtime.store.getFile('Attachment', attachment);
    expect(new TextDecoder().decode(file!.data)).toBe('hello offline');
    expect(file!.contentType).toMatch(/^text\/plain/);

    // Only objects with contents are asked for: one without any costs no request.
    expect(d.network.count(/\/api\/files\//)).toBe(1);
    const empty = uuid();
    await d.alice.upload([{ entity: 'Attachment', id: empty, kind: 'create', data: { name: 'empty.txt', task: d.taskIds.mine } }]);
    await d.runtime.synchronize({ mode: 'all' });
    expect(d.network.count(/\/api\/files\//)).toBe(1);

    // New contents move the object's changedDate: exactly that file comes again.
    await d.alice.client.putFile('Attachment', attachment, new TextEncoder().encode('hello again'), 'text/plain');
    await d.runtime.synchronize({ mode: 'all' });
    expect(d.network.requests.filter((r) => r.includes('/api/files/'))).toEqual([
      `GET /api/files/Attachment/${attachment}`,
      `GET /api/files/Attachment/${attachment}`,
    ]);
    expect(new TextDecoder().decode((await d.runtime.store.getFile('Attachment', attachment))!.data)).toBe('hello again');
  });

  it('keeps a change committed while it runs, and uploads it next time', async () => {
    const d = await aliceWithData();
    let changed = false;
    d.network.gate = async (path) => {
      if (path === '/api/download' && !changed) {
        changed = true;
        const session = d.runtime.session();
        const mine = (await d.runtime.store.get('Task', d.taskIds.mine))!;
        await session.commit(session.change(mine, { title: 'Edited during the sync' }));
      }
    };
    await d.runtime.synchronize({ mode: 'all' });
    expect((await d.runtime.store.get('Task', d.taskIds.mine))!.title).toBe('Edited during the sync');
    expect(await d.runtime.store.pendingChange('Task', d.taskIds.mine)).toBeDefined();
    d.network.gate = null;
    await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(await d.alice.get('Task', d.taskIds.mine)).toMatchObject({ title: 'Edited during the sync', words: 4 });
  });
});

describe('unsynchronized objects mode', () => {
  it('brings back an attribute calculated by a before-commit handler', async () => {
    const d = await aliceWithData();
    const session = d.runtime.session();
    const task = session.create('Task', { title: 'three little words' });
    await session.commit(task);
    expect((await d.runtime.store.get('Task', task.id))!.words ?? null).toBeNull();
    const result = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(result.uploaded).toBe(1);
    expect((await d.runtime.store.get('Task', task.id))!.words).toBe(3);
  });

  it("uploads deletions, and takes the changed objects from the upload's answer without fetching anything", async () => {
    const d = await aliceWithData();
    const session = d.runtime.session();
    const mine = (await d.runtime.store.get('Task', d.taskIds.mine))!;
    await session.commit(session.change(mine, { done: true }));
    await session.delete((await d.runtime.store.get('Task', d.taskIds.doomed))!);
    // a change on the server to an object we did not touch must not arrive in this mode
    await d.carol.upload([{ entity: 'Task', id: d.taskIds.assigned, kind: 'update', data: { title: 'Renamed by carol' } }]);

    const sent = d.network.requests.length;
    await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(d.network.requests.slice(sent)).toEqual(['POST /api/upload']);
    expect(await d.alice.get('Task', d.taskIds.doomed)).toBeNull();
    const onServer = await d.alice.get('Task', d.taskIds.mine);
    expect(onServer).toMatchObject({ done: true });
    expect((await d.runtime.store.get('Task', d.taskIds.mine))!.changedDate).toBe(onServer!.changedDate);
    expect((await d.runtime.store.get('Task', d.taskIds.assigned))!.title).toBe('Assigned to alice');
  });

  it('turns a change the server rejects into a failure and reverts the object to the server version', async () => {
    const d = await aliceWithData();
    const session = d.runtime.session();
    const mine = (await d.runtime.store.get('Task', d.taskIds.mine))!;
    await session.commit(session.change(mine, { title: 'a forbidden title' }));
    const result = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(result.failed).toBe(1);
    expect(result.failures[0]).toMatchObject({
      entity: 'Task',
      objectId: d.taskIds.mine,
      reason: 'rejected',
      message: 'Title must not contain the word forbidden',
      data: { title: 'a forbidden title' },
    });
    expect((await d.runtime.store.get('Task', d.taskIds.mine))!.title).toBe('Mine to keep');
    expect(await d.runtime.store.pendingChange('Task', d.taskIds.mine)).toBeUndefined();
    expect((await d.runtime.listFailures()).map((f) => f.id)).toEqual([result.failures[0].id]);
    const onServer = await d.alice.client.failures('open');
    expect(onServer.failures.map((f) => f.id)).toEqual([result.failures[0].id]);
  });

  it('applies an upload once when its response was lost and the sync is retried', async () => {
    const d = await aliceWithData();
    const session = d.runtime.session();
    const task = session.create('Task', { title: 'Only once' });
    await session.commit(task);
    d.network.inject(/^\/api\/upload$/, 'responseLost');
    await expect(d.runtime.synchronize({ mode: 'unsynchronized' })).rejects.toBeInstanceOf(NetworkError);
    expect(await d.runtime.store.pendingChange('Task', task.id)).toBeDefined();
    const retried = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(retried.failed).toBe(0);
    const titles = await Promise.all((await d.alice.ids('Task')).map(async (id) => (await d.alice.get('Task', id))!.title));
    expect(titles.filter((t) => t === 'Only once')).toHaveLength(1);
    expect(await d.runtime.store.pendingCount()).toBe(0);
  });

  it('reports a server error typed, and keeps the changes marked', async () => {
    const d = await aliceWithData();
    const session = d.runtime.session();
    await session.commit(session.create('Task', { title: 'Kept' }));
    d.network.inject(/^\/api\/upload$/, 'unavailable');
    const error = await d.runtime.synchronize({ mode: 'unsynchronized' }).catch((e) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error.status).toBe(503);
    expect(await d.runtime.store.pendingCount()).toBe(1);
    expect(d.runtime.status.getState()).toMatchObject({ running: false, lastError: { code: 'server' } });
  });
});

describe('selected objects mode', () => {
  it('skips an uncommitted object and leaves it untouched', async () => {
    const d = await aliceWithData();
    const session = d.runtime.session();
    const fresh = session.create('Task', { title: 'Not committed' });
    const mine = (await d.runtime.store.get('Task', d.taskIds.mine))!;
    const edited = session.change(mine, { title: 'Edited, not committed' });
    const result = await d.runtime.synchronize({ mode: 'selected', objects: [fresh, edited], session });
    expect(result.skipped.sort()).toEqual([fresh.id, mine.id].sort());
    expect(result.uploaded).toBe(0);
    expect(await d.alice.get('Task', fresh.id)).toBeNull();
    expect(session.current(edited).title).toBe('Edited, not committed');
    expect(session.isUncommitted(fresh)).toBe(true);
  });

  it('removes a changed object deleted on the server and keeps its change as a failure', async () => {
    const d = await aliceWithData();
    const session = d.runtime.session();
    const doomed = (await d.runtime.store.get('Task', d.taskIds.doomed))!;
    const [changed] = await session.commit(session.change(doomed, { title: 'My precious edit' }));
    await d.alice.upload([{ entity: 'Task', id: d.taskIds.doomed, kind: 'delete', data: {} }]);

    const result = await d.runtime.synchronize({ mode: 'selected', objects: [changed] });
    expect(result.removedIds).toEqual([d.taskIds.doomed]);
    expect(await d.runtime.store.get('Task', d.taskIds.doomed)).toBeUndefined();
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]).toMatchObject({ objectId: d.taskIds.doomed, reason: 'deleted', data: { title: 'My precious edit' } });
    expect(await d.runtime.listFailures()).toHaveLength(1);
  });

  it('refreshes unchanged objects, removes those gone, and does not sync deletions or others', async () => {
    const d = await aliceWithData();
    await d.carol.upload([{ entity: 'Task', id: d.taskIds.assigned, kind: 'update', data: { title: 'Renamed by carol' } }]);
    await d.alice.upload([{ entity: 'Task', id: d.taskIds.doomed, kind: 'delete', data: {} }]);
    const session = d.runtime.session();
    const mine = (await d.runtime.store.get('Task', d.taskIds.mine))!;
    const assigned = (await d.runtime.store.get('Task', d.taskIds.assigned))!;
    const doomed = (await d.runtime.store.get('Task', d.taskIds.doomed))!;
    const [edited] = await session.commit(session.change(mine, { done: true }));
    const project = (await d.runtime.store.get('Project', d.projectId))!;
    await session.delete(project); // a deletion: not synchronized in this mode

    const result = await d.runtime.synchronize({ mode: 'selected', objects: [[assigned, doomed], edited, project] });
    expect((await d.runtime.store.get('Task', d.taskIds.assigned))!.title).toBe('Renamed by carol');
    expect(await d.runtime.store.get('Task', d.taskIds.doomed)).toBeUndefined();
    expect(result.removedIds).toEqual([d.taskIds.doomed]);
    expect(await d.alice.get('Task', d.taskIds.mine)).toMatchObject({ done: true });
    expect(await d.alice.get('Project', d.projectId)).not.toBeNull();
    expect(await d.runtime.store.pendingChange('Project', d.projectId)).toMatchObject({ kind: 'delete' });
    expect(result.skipped).toEqual([d.projectId]);
  });
});

describe('one synchronization at a time', () => {
  it('fails the second of two syncs started in the same tick, and changes nothing', async () => {
    const d = await aliceWithData();
    const session = d.runtime.session();
    await session.commit(session.create('Task', { title: 'Pending' }));
    const uploadsBefore = d.network.count(/upload/);
    const [first, second] = await Promise.allSettled([
      d.runtime.synchronize({ mode: 'unsynchronized' }),
      d.runtime.synchronize({ mode: 'all' }),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second.status).toBe('rejected');
    const error = (second as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(SimultaneousSyncError);
    expect(error.message).toBe(SIMULTANEOUS_SYNC_MESSAGE);
    // exactly one upload went out, from the first sync; the second made no request at all
    expect(d.network.count(/upload/) - uploadsBefore).toBe(1);
    expect((first as PromiseFulfilledResult<{ mode: string }>).value.mode).toBe('unsynchronized');
  });

  it('holds across runtimes over the same database, whatever the mode', async () => {
    const d = await aliceWithData();
    const twin = await world.device('alice', { dbName: d.runtime.store.db.name });
    const running = d.runtime.synchronize({ mode: 'all' });
    await expect(twin.runtime.synchronize({ mode: 'selected', objects: [] })).rejects.toBeInstanceOf(SimultaneousSyncError);
    await running;
    await expect(twin.runtime.synchronize({ mode: 'selected', objects: [] })).resolves.toMatchObject({ mode: 'selected' });
  });
});

describe('observing and cancelling', () => {
  it('reports mode, phase, entity and progress through the status store and the actor', async () => {
    const d = await aliceWithData();
    const states: string[] = [];
    const phases = new Set<string>();
    const unsubscribe = d.runtime.status.subscribe((s) => {
      if (s.machineState && states.at(-1) !== s.machineState) states.push(s.machineState);
      if (s.phase) phases.add(`${s.phase}:${s.entity}`);
    });
    let actorStates: string[] = [];
    await d.runtime.synchronize(
      { mode: 'all' },
      { onActor: (actor) => actor.subscribe((snap) => void actorStates.push(String(snap.value))) },
    );
    unsubscribe();
    expect(states).toEqual(['uploading', 'uploadingFiles', 'downloading', 'downloadingFiles']);
    expect(actorStates.at(-1)).toBe('done');
    expect(phases).toContain('download:Task');
    expect(phases).toContain('download:Project');
    expect(d.runtime.status.getState()).toMatchObject({ running: false, lastResult: { mode: 'all' } });
  });

  it('cancels through the actor and keeps the changes for the next sync', async () => {
    const d = await aliceWithData();
    const session = d.runtime.session();
    await session.commit(session.create('Task', { title: 'Survives a cancel' }));
    const error = await d.runtime
      .synchronize({ mode: 'all' }, { onActor: (actor) => actor.send({ type: 'CANCEL' }) })
      .catch((e) => e);
    expect(error).toBeInstanceOf(SyncflowError);
    expect(error.code).toBe('sync_cancelled');
    expect(await d.runtime.store.pendingCount()).toBe(1);
    await d.runtime.synchronize({ mode: 'all' });
    expect(await d.runtime.store.pendingCount()).toBe(0);
  });
});
