/**
 * A field worker's device runs out of storage: every write that hits the quota fails with a typed
 * StorageFullError (`storage_full`, catchable by a flow), keeps nothing of itself, and loses
 * nothing: once space is freed, the next synchronize ends with the device and the server alike.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageFullError, toSyncflowError } from '../../src/errors.ts';
import { fullDisk } from '../support/fullDisk.ts';
import { useWorld } from '../support/world.ts';

const world = useWorld({ scope: 'test' });
let disk: ReturnType<typeof fullDisk>;
beforeEach(() => void (disk = fullDisk()));
afterEach(() => disk.restore());

const uuid = () => crypto.randomUUID();

/** The error a promise rejects with. */
async function failureOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** Every task id the server holds for alice, and the device's, sorted. */
async function taskIds(runtime: Awaited<ReturnType<typeof world.device>>['runtime']) {
  return {
    server: (await world.elsewhere('alice').ids('Task')).sort(),
    device: (await runtime.store.query('Task')).map((t) => t.id).sort(),
  };
}

describe('a device whose storage is full', () => {
  it('refuses a local commit with StorageFullError and stores nothing of it, then commits once there is room', async () => {
    const { runtime } = await world.device('alice');
    const session = runtime.session();
    const project = session.create('Project', { name: 'Kept' });
    await session.commit(project);

    disk.after(1); // room for one row: the commit writes a task, a project and their change records
    const task = session.create('Task', { title: 'Needs room', project: project.id });
    const renamed = session.change(project, { name: 'Renamed' });
    const error = await failureOf(session.commit([task, renamed]));
    expect(error).toBeInstanceOf(StorageFullError);
    expect((error as StorageFullError).code).toBe('storage_full');
    expect(await runtime.store.get('Task', task.id)).toBeUndefined();
    expect((await runtime.store.get('Project', project.id))?.name).toBe('Kept');
    expect(await runtime.store.pendingCount()).toBe(1);

    // The session still holds both: committing again once there is room stores them.
    disk.free();
    await session.commit([task, renamed]);
    expect((await runtime.store.get('Task', task.id))?.title).toBe('Needs room');
    expect((await runtime.store.get('Project', project.id))?.name).toBe('Renamed');
    expect(await runtime.store.pendingCount()).toBe(2);
  });

  it('stops a download with storage_full, keeps the local changes, and completes it once there is room', async () => {
    // 300 tasks on the server, one change waiting on the device.
    await world.elsewhere('alice').upload(Array.from({ length: 300 }, (_, i) => ({ entity: 'Task', id: uuid(), kind: 'create' as const, data: { title: `task ${i}` } })));
    const { runtime } = await world.device('alice');
    const session = runtime.session();
    const mine = session.create('Task', { title: 'Written offline' });
    await session.commit(mine);

    disk.after(120);
    const error = await failureOf(runtime.synchronize({ mode: 'all' }));
    expect(toSyncflowError(error).code).toBe('storage_full');
    expect(runtime.status.getState()).toMatchObject({ running: false, lastError: { code: 'storage_full' } });
    // The local change is still there, whatever was uploaded before the disk filled.
    expect((await runtime.store.get('Task', mine.id))?.title).toBe('Written offline');

    disk.free();
    const result = await runtime.synchronize({ mode: 'all' });
    expect(result.failures).toEqual([]);
    expect(await runtime.store.pendingCount()).toBe(0);
    const ids = await taskIds(runtime);
    expect(ids.server).toHaveLength(301);
    expect(ids.device).toEqual(ids.server);
  });

  it('fails an upload whose answer cannot be stored with storage_full; the next sync applies nothing twice', async () => {
    const { runtime, network } = await world.device('alice');
    const session = runtime.session();
    const tasks = Array.from({ length: 50 }, (_, i) => session.create('Task', { title: `offline ${i}` }));
    await session.commit(tasks);

    // The disk fills while the upload is on the wire: the server applied it, the device cannot note it.
    network.onResponse = (path) => {
      if (path.startsWith('/api/upload')) disk.after(0);
    };
    const error = await failureOf(runtime.synchronize({ mode: 'unsynchronized' }));
    expect(toSyncflowError(error).code).toBe('storage_full');
    network.onResponse = null;
    expect(await runtime.store.pendingCount()).toBe(50);
    expect((await world.elsewhere('alice').ids('Task')).length).toBe(50);

    disk.free();
    const result = await runtime.synchronize({ mode: 'unsynchronized' });
    expect(result.failures).toEqual([]);
    expect(await runtime.store.pendingCount()).toBe(0);
    const ids = await taskIds(runtime);
    expect(ids.server).toHaveLength(50); // replays of the same change ids, not new objects
    expect(ids.device).toEqual(ids.server);
  });
});
