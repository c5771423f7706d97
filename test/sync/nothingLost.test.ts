import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeSharedStorage, startWorld, type World } from '../support/world.ts';

let world: World;
// PGlite starts in the first hook: seconds, more on a busy machine.
beforeEach(async () => {
  world = await startWorld();
}, 120_000);
afterEach(async () => {
  await world.close();
});
afterAll(closeSharedStorage);

const uuid = () => crypto.randomUUID();

describe('selected mode: new objects the selection refers to', () => {
  it('uploads a new Task together with the new Project it refers to, targets first', async () => {
    const { runtime } = await world.device('alice');
    const session = runtime.session();
    const project = session.create('Project', { name: 'Made offline' });
    const task = session.create('Task', { title: 'Refers to a new project', project: project.id });
    await session.commit([task, project]);

    const result = await runtime.synchronize({ mode: 'selected', objects: [task] });
    expect(result.failures).toEqual([]);
    expect(result.uploaded).toBe(2);
    const alice = world.elsewhere('alice');
    expect(await alice.get('Project', project.id)).toMatchObject({ name: 'Made offline' });
    expect(await alice.get('Task', task.id)).toMatchObject({ project: project.id, words: 5 });
    expect(await runtime.store.pendingCount()).toBe(0);
  });

  it('follows references of new objects transitively, and leaves unrelated changes marked', async () => {
    const { runtime } = await world.device('alice');
    const session = runtime.session();
    const project = session.create('Project', { name: 'Root' });
    const parent = session.create('Task', { title: 'Middle', project: project.id });
    const other = session.create('Project', { name: 'Unrelated' });
    await session.commit([parent, project, other]);
    const attachment = session.create('Attachment', { name: 'a.txt', task: parent.id });
    await session.commit(attachment);

    const result = await runtime.synchronize({ mode: 'selected', objects: [attachment] });
    expect(result.failures).toEqual([]);
    const alice = world.elsewhere('alice');
    expect(await alice.get('Attachment', attachment.id)).not.toBeNull();
    expect(await alice.get('Task', parent.id)).not.toBeNull();
    expect(await alice.get('Project', project.id)).not.toBeNull();
    expect(await alice.get('Project', other.id)).toBeNull();
    expect(await runtime.store.pendingChange('Project', other.id)).toMatchObject({ kind: 'create' });
  });
});

describe('a device-created object the server refuses stays on the device with its failure', () => {
  for (const mode of ['selected', 'unsynchronized', 'all'] as const) {
    it(`in mode ${mode}, until the failure is retried or dismissed`, async () => {
      const { runtime } = await world.device('alice');
      const session = runtime.session();
      const task = session.create('Task', { title: 'a forbidden title' });
      await session.commit(task);

      const first = await runtime.synchronize(mode === 'selected' ? { mode, objects: [task] } : { mode });
      expect(first.failures).toHaveLength(1);
      expect(first.failures[0]).toMatchObject({ objectId: task.id, kind: 'create', reason: 'rejected' });
      expect(first.removedIds).toEqual([]);
      expect(await runtime.store.get('Task', task.id)).toMatchObject({ title: 'a forbidden title' });

      // Later syncs of every mode keep it: the server never had it, so its absence there means nothing.
      await runtime.synchronize({ mode: 'all' });
      await runtime.synchronize({ mode: 'unsynchronized' });
      await runtime.synchronize({ mode: 'selected', objects: [task] });
      expect(await runtime.store.get('Task', task.id)).toMatchObject({ title: 'a forbidden title' });
      expect(await runtime.listFailures()).toHaveLength(1);

      // Dismissed: the user gave it up, so it goes.
      await runtime.dismissFailure(first.failures[0].id);
      expect(await runtime.store.get('Task', task.id)).toBeUndefined();
    });
  }

  it('comes back from the server when its failure is retried', async () => {
    const { runtime } = await world.device('alice');
    const session = runtime.session();
    // Refers to a project the server does not have yet: refused as invalid, kept on the device.
    const projectId = uuid();
    const task = session.create('Task', { title: 'Points nowhere yet', project: projectId });
    await session.commit(task);
    const result = await runtime.synchronize({ mode: 'unsynchronized' });
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]).toMatchObject({ objectId: task.id, reason: 'invalid' });
    await runtime.synchronize({ mode: 'all' });
    expect(await runtime.store.get('Task', task.id)).toMatchObject({ title: 'Points nowhere yet' });

    await world.elsewhere('alice').upload([{ entity: 'Project', id: projectId, kind: 'create', data: { name: 'Arrived' } }]);
    const retried = await runtime.retryFailure(result.failures[0].id);
    expect(retried.status).toBe('applied');
    expect(await runtime.listFailures()).toEqual([]);
    await runtime.synchronize({ mode: 'all' });
    expect(await runtime.store.get('Task', task.id)).toMatchObject({ title: 'Points nowhere yet', words: 3 });
  });

  it('still removes a server object that is gone there (seed 004)', async () => {
    const alice = world.elsewhere('alice');
    const id = uuid();
    await alice.upload([{ entity: 'Task', id, kind: 'create', data: { title: 'From the server' } }]);
    const { runtime } = await world.device('alice');
    await runtime.synchronize({ mode: 'all' });
    const session = runtime.session();
    const [changed] = await session.commit(session.change((await runtime.store.get('Task', id))!, { title: 'Edited' }));
    await alice.upload([{ entity: 'Task', id, kind: 'delete', data: {} }]);
    const result = await runtime.synchronize({ mode: 'selected', objects: [changed] });
    expect(result.removedIds).toEqual([id]);
    expect(await runtime.store.get('Task', id)).toBeUndefined();
    expect(result.failures[0]).toMatchObject({ reason: 'deleted', data: { title: 'Edited' } });
  });
});

describe('stop keeps the batch it has received', () => {
  it('2,500 records sharing one changedDate, stopped right after the first batch arrives: stop + restart moves <= 1.05x a clean run', async () => {
    const alice = world.elsewhere('alice');
    for (let start = 0; start < 2500; start += 1000) {
      const n = Math.min(1000, 2500 - start);
      await alice.upload(Array.from({ length: n }, (_, i) => ({ entity: 'Task', id: uuid(), kind: 'create' as const, data: { title: `task ${start + i}` } })));
    }
    await world.storage.query(`UPDATE sf_objects SET changed_date = '2026-01-01T00:00:00Z' WHERE entity = 'Task'`);

    const clean = await world.device('alice');
    await clean.runtime.syncs.syncDown({ entity: 'Task' }, { name: 'tasks', batchSize: 1000 });
    expect(await clean.runtime.store.count('Task')).toBe(2500);

    const device = await world.device('alice');
    const { syncs } = device.runtime;
    await syncs.defineSyncDown({ entity: 'Task' }, { name: 'tasks', batchSize: 1000 });
    // The stop comes the moment the first batch has arrived, before the client has looked at it.
    device.network.onResponse = (path) => {
      if (path === '/api/download') syncs.stop();
    };
    const stopped = await syncs.reSync('tasks');
    device.network.onResponse = null;
    expect(stopped.status).toBe('stopped');
    expect(await device.runtime.store.count('Task')).toBe(1000);
    expect(device.network.count(/download/)).toBe(1); // no request after the stop

    const [resumed] = await syncs.restart(true);
    expect(resumed).toMatchObject({ status: 'done', resume: null });
    expect(await device.runtime.store.count('Task')).toBe(2500);
    expect(device.network.downloadedIds).toHaveLength(2500); // none twice
    const ratio = device.network.bytesReceived / clean.network.bytesReceived;
    expect(ratio).toBeLessThanOrEqual(1.05);
  }, 120_000);
});

describe('sync up merge modes', () => {
  /** A task on the server and on alice's device, edited locally, then changed on the server by carol. */
  async function conflictScene() {
    const id = uuid();
    const alice = world.elsewhere('alice');
    await alice.upload([{ entity: 'Task', id, kind: 'create', data: { title: 'Base', priority: 'low', assignee: 'carol' } }]);
    const device = await world.device('alice');
    await device.runtime.synchronize({ mode: 'all' });
    const session = device.runtime.session();
    await session.commit(session.change((await device.runtime.store.get('Task', id))!, { title: 'Mine', done: true }));
    await world.elsewhere('carol').upload([{ entity: 'Task', id, kind: 'update', data: { title: 'Theirs' } }]);
    return { id, device, alice };
  }

  it('leaveIfChanged does not overwrite a record changed on the server since; the conflict holds both versions', async () => {
    const { id, device, alice } = await conflictScene();
    const { runtime } = device;
    const state = await runtime.syncs.syncUp({ entity: 'Task' }, { name: 'up', mergeMode: 'leaveIfChanged' });
    expect(state.status).toBe('done');
    expect(await alice.get('Task', id)).toMatchObject({ title: 'Theirs', done: null });
    const [failure] = await runtime.listFailures();
    expect(failure).toMatchObject({ objectId: id, reason: 'conflict', kind: 'update', data: { title: 'Mine', done: true } });
    expect(failure.server).toMatchObject({ id, title: 'Theirs' });
    // The device shows the server's version; the local change lives on in the failure.
    expect(await runtime.store.get('Task', id)).toMatchObject({ title: 'Theirs' });
    expect(await runtime.store.pendingChange('Task', id)).toBeUndefined();

    // Retry = apply anyway.
    const retried = await runtime.retryFailure(failure.id);
    expect(retried.status).toBe('applied');
    expect(await alice.get('Task', id)).toMatchObject({ title: 'Mine', done: true });
    expect(await runtime.store.get('Task', id)).toMatchObject({ title: 'Mine', done: true });
  });

  it('leaveIfChanged applies a change whose base is still current; dismissing a conflict keeps the server version', async () => {
    const { id, device, alice } = await conflictScene();
    const { runtime } = device;
    await runtime.syncs.syncUp({ entity: 'Task' }, { name: 'up', mergeMode: 'leaveIfChanged' });
    const [failure] = await runtime.listFailures();
    await runtime.dismissFailure(failure.id);
    expect(await runtime.store.get('Task', id)).toMatchObject({ title: 'Theirs' });
    expect(await alice.get('Task', id)).toMatchObject({ title: 'Theirs' });

    // Now the device holds the current version: an edit on it goes through.
    const session = runtime.session();
    await session.commit(session.change((await runtime.store.get('Task', id))!, { priority: 'high' }));
    await runtime.syncs.reSync('up');
    expect(await runtime.listFailures()).toEqual([]);
    expect(await alice.get('Task', id)).toMatchObject({ title: 'Theirs', priority: 'high' });
  });

  it('overwrite (the default) wins; the Synchronize modes merge changed attributes, last writer wins per attribute', async () => {
    const first = await conflictScene();
    await first.device.runtime.syncs.syncUp({ entity: 'Task' }, { name: 'up' });
    expect(await first.alice.get('Task', first.id)).toMatchObject({ title: 'Mine', done: true });
    expect(await first.device.runtime.listFailures()).toEqual([]);

    const second = await conflictScene();
    await world.elsewhere('carol').upload([{ entity: 'Task', id: second.id, kind: 'update', data: { priority: 'normal' } }]);
    await second.device.runtime.synchronize({ mode: 'unsynchronized' });
    // Only the members alice changed were sent: carol's priority stays, alice's title wins.
    expect(await second.alice.get('Task', second.id)).toMatchObject({ title: 'Mine', done: true, priority: 'normal' });
  });

  it('refuses a malformed base with a typed 400 that names the field', async () => {
    const alice = world.elsewhere('alice');
    const id = uuid();
    await alice.upload([{ entity: 'Task', id, kind: 'create', data: { title: 'x' } }]);
    const res = await fetch(`${world.url}/api/upload`, {
      method: 'POST',
      headers: { authorization: 'Bearer alice-token', 'x-device-id': 'd', 'content-type': 'application/json' },
      body: JSON.stringify({ changes: [{ changeId: uuid(), entity: 'Task', id, kind: 'update', data: { title: 'y' }, base: 'yesterday' }] }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('changes[0].base');
    expect(await alice.get('Task', id)).toMatchObject({ title: 'x' });
  });
});

describe('found by the generated fault histories', () => {
  it('a create whose upload answer was lost, then deleted on the device, is deleted on the server too', async () => {
    const { runtime, network } = await world.device('alice');
    const session = runtime.session();
    const task = session.create('Task', { title: 'Sent, answer lost' });
    await session.commit(task);
    network.inject(/^\/api\/upload$/, 'responseLost');
    await expect(runtime.synchronize({ mode: 'unsynchronized' })).rejects.toMatchObject({ code: 'network' });
    const alice = world.elsewhere('alice');
    expect(await alice.get('Task', task.id)).not.toBeNull(); // the server applied it

    await runtime.session().delete((await runtime.store.get('Task', task.id))!);
    expect(await runtime.store.pendingChange('Task', task.id)).toMatchObject({ kind: 'delete' });
    await runtime.synchronize({ mode: 'all' });
    expect(await alice.get('Task', task.id)).toBeNull();
    expect(await runtime.store.get('Task', task.id)).toBeUndefined();
  });
});
