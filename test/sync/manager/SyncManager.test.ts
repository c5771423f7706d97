import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  SchemaError,
  SimultaneousSyncError,
  SyncManagerStoppedError,
  SyncNameTakenError,
  SyncRunningError,
  SyncStoppedError,
  UnknownSyncError,
  ValidationError,
} from '../../../src/errors.ts';
import type { SyncState } from '../../../src/model/syncState.ts';
import { SyncManager } from '../../../src/sync/manager/SyncManager.ts';
import type { ChangeRequest } from '../../../src/transport/wire.ts';
import { closeSharedStorage, startWorld, type Device, type World } from '../../support/world.ts';

afterAll(closeSharedStorage);

let world: World;
afterEach(async () => {
  await world?.close();
});

const uuid = () => crypto.randomUUID();
const open = { attribute: 'done', op: 'eq', value: false } as const;

function managerOf({ runtime }: Device): SyncManager {
  return new SyncManager(
    { schema: runtime.schema, store: runtime.store, client: runtime.client, config: {} },
    runtime.store.db.name,
  );
}

/** Creates `n` tasks on the server as alice, from another device; returns their ids. */
async function seedTasks(n: number, data: (i: number) => Record<string, unknown> = (i) => ({ title: `task ${i}` })) {
  const ids: string[] = [];
  const alice = world.elsewhere('alice');
  for (let start = 0; start < n; start += 1000) {
    const changes: Array<Omit<ChangeRequest, 'changeId'>> = [];
    for (let i = start; i < Math.min(n, start + 1000); i++) {
      const id = uuid();
      ids.push(id);
      changes.push({ entity: 'Task', id, kind: 'create', data: data(i) });
    }
    await alice.upload(changes);
  }
  return ids;
}

describe('defining named syncs', () => {
  it('validates targets and options with typed errors, and keeps names unique across downs and ups', async () => {
    world = await startWorld();
    const syncs = managerOf(await world.device());
    await expect(syncs.defineSyncDown({ entity: 'Nope' })).rejects.toBeInstanceOf(SchemaError);
    await expect(syncs.defineSyncDown({ entity: 'Task', constraint: { attribute: 'nope', op: 'eq', value: 1 } })).rejects.toBeInstanceOf(
      ValidationError,
    );
    const badField = syncs.defineSyncDown({ entity: 'Task', modificationField: 'due' as never });
    await expect(badField).rejects.toThrow(/target\.modificationField: only "changedDate"/);
    await expect(syncs.defineSyncDown({ entity: 'Task' }, { mergeMode: 'sometimes' as never })).rejects.toThrow(/options\.mergeMode/);
    await expect(syncs.defineSyncUp({ entity: 'Task', fields: ['title', 'colour'] })).rejects.toThrow(/target\.fields\.1: "colour"/);

    await syncs.defineSyncDown({ entity: 'Task' }, { name: 'tasks' });
    await expect(syncs.defineSyncUp({ entity: 'Task' }, { name: 'tasks' })).rejects.toBeInstanceOf(SyncNameTakenError);
    expect((await syncs.listSyncs()).map((s) => [s.name, s.type, s.status])).toEqual([['tasks', 'syncDown', 'new']]);
  });

  it('reSync of an unknown id or name fails with a typed error', async () => {
    world = await startWorld();
    const syncs = managerOf(await world.device());
    await expect(syncs.reSync('nothing')).rejects.toBeInstanceOf(UnknownSyncError);
    await expect(syncs.cleanResyncGhosts('nothing')).rejects.toBeInstanceOf(UnknownSyncError);
  });
});

describe('reSync', () => {
  it('is full the first time, then fetches only what changed on the server since', async () => {
    world = await startWorld();
    const ids = await seedTasks(30);
    const device = await world.device();
    const syncs = managerOf(device);
    const defined = await syncs.defineSyncDown({ entity: 'Task' }, { name: 'tasks' });

    const updates: SyncState[] = [];
    const first = await syncs.reSync('tasks', (s) => updates.push(s));
    expect(first).toMatchObject({ id: defined.id, status: 'done', progress: 100, totalSize: 30, resume: null });
    expect(first.maxTimeStamp).not.toBeNull();
    expect(updates.map((u) => u.status)).toEqual(['running', 'running', 'done']);
    expect(updates[1]).toMatchObject({ status: 'running', totalSize: 30 });
    expect(device.network.downloadedIds).toHaveLength(30);
    expect(await device.runtime.store.count('Task')).toBe(30);

    // Two changes and one new task on the server: exactly those three come down.
    const alice = world.elsewhere('alice');
    const added = uuid();
    await alice.upload([
      { entity: 'Task', id: ids[3], kind: 'update', data: { title: 'changed 3' } },
      { entity: 'Task', id: ids[17], kind: 'update', data: { done: true } },
      { entity: 'Task', id: added, kind: 'create', data: { title: 'added' } },
    ]);
    device.network.downloadedIds.length = 0;
    const second = await syncs.reSync(defined.id);
    expect(device.network.downloadedIds.sort()).toEqual([ids[3], ids[17], added].sort());
    expect(second.maxTimeStamp! > first.maxTimeStamp!).toBe(true);
    expect((await device.runtime.store.get('Task', ids[3]))!.title).toBe('changed 3');
    expect(await device.runtime.store.count('Task')).toBe(31);

    // Nothing changed: nothing is transferred.
    device.network.downloadedIds.length = 0;
    await syncs.reSync('tasks');
    expect(device.network.downloadedIds).toEqual([]);
    expect(await syncs.getSyncStatus('tasks')).toMatchObject({ status: 'done', maxTimeStamp: second.maxTimeStamp });
  });

  it('resumes a stopped run after its last stored batch: 1,000 records sharing one changedDate arrive exactly once each', async () => {
    world = await startWorld();
    const ids = await seedTasks(1000);
    // The server's clock gives every write its own changedDate; make all 1,000 share one.
    await world.storage.query(`UPDATE sf_objects SET changed_date = '2026-01-01T00:00:00Z' WHERE entity = 'Task'`);
    const device = await world.device();
    const syncs = managerOf(device);
    await syncs.defineSyncDown({ entity: 'Task' }, { name: 'tasks', batchSize: 250 });

    // Stop as soon as the first batch has arrived (the request for the second one is on its way).
    device.network.gate = async (path) => {
      if (path === '/api/download' && device.network.downloadedIds.length > 0) syncs.stop();
    };
    const stopped = await syncs.reSync('tasks');
    expect(stopped.status).toBe('stopped');
    expect(syncs.isStopped()).toBe(true);
    const stored = await device.runtime.store.count('Task');
    expect(stored).toBe(250);
    expect(stopped.resume?.cursor).toBeTruthy();

    device.network.gate = null;
    const updates: SyncState[] = [];
    const [resumed] = await syncs.restart(true, (s) => updates.push(s));
    expect(resumed).toMatchObject({ status: 'done', resume: null });
    expect(updates.at(-1)!.status).toBe('done');
    expect(new Set(device.network.downloadedIds).size).toBe(1000);
    expect(device.network.downloadedIds).toHaveLength(1000); // none twice
    expect(new Set(device.network.downloadedIds)).toEqual(new Set(ids));
    expect(await device.runtime.store.count('Task')).toBe(1000);
  });
});
