import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
import { closeSharedStorage, sharedStorage, startWorld, type Device, type World } from '../../support/world.ts';

// PGlite starts once, before the first test's clock runs (seconds; more on a busy machine).
beforeAll(() => sharedStorage().then(() => undefined), 120_000);
afterAll(closeSharedStorage);

let world: World;
afterEach(async () => {
  await world?.close();
});

const uuid = () => crypto.randomUUID();
const open = { attribute: 'done', op: 'eq', value: false } as const;

/** Makes the device's store fail to store its second batch of server objects with `message`; answers the undo. */
function failSecondBatch({ runtime: { store } }: Device, message: string): () => void {
  const apply = store.applyServerObjects.bind(store);
  let batches = 0;
  store.applyServerObjects = async (...args) => {
    if (++batches === 2) throw new Error(message);
    return apply(...args);
  };
  return () => {
    store.applyServerObjects = apply;
  };
}

/** A second sync manager over a device's database: the runtime's after the app restarted. */
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

/**
 * Four open tasks held by the sync down "open" (done = false). Then, on the server, one is
 * deleted and two are closed; one of the closed ones was changed locally (`localTitle`).
 */
async function ghostScene(localTitle: string) {
  const [deleted, closed, modified, kept] = await seedTasks(4, (i) => ({ title: `task ${i}`, done: false }));
  const device = await world.device();
  const { store, syncs } = device.runtime;
  await syncs.syncDown({ entity: 'Task', constraint: open }, { name: 'open' });
  await world.elsewhere('alice').upload([
    { entity: 'Task', id: deleted, kind: 'delete', data: {} },
    { entity: 'Task', id: closed, kind: 'update', data: { done: true } },
    { entity: 'Task', id: modified, kind: 'update', data: { done: true } },
  ]);
  const session = device.runtime.session();
  await session.commit(session.change((await store.get('Task', modified))!, { title: localTitle }));
  return { deleted, closed, modified, kept, device, store, syncs };
}

describe('defining named syncs', () => {
  it('validates targets and options with typed errors, and keeps names unique across downs and ups', async () => {
    world = await startWorld();
    const { syncs } = (await world.device()).runtime;
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
    const { syncs } = (await world.device()).runtime;
    await expect(syncs.reSync('nothing')).rejects.toBeInstanceOf(UnknownSyncError);
    await expect(syncs.cleanResyncGhosts('nothing')).rejects.toBeInstanceOf(UnknownSyncError);
  });
});

describe('reSync', () => {
  it('is full the first time, then fetches only what changed on the server since', async () => {
    world = await startWorld();
    const ids = await seedTasks(30);
    const device = await world.device();
    const { syncs } = device.runtime;
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
    const { syncs } = device.runtime;
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

describe('merge modes', () => {
  it('leave-if-changed (the default) never overwrites a locally modified record', async () => {
    world = await startWorld();
    const [id] = await seedTasks(1);
    const device = await world.device();
    const { syncs } = device.runtime;
    await syncs.syncDown({ entity: 'Task' }, { name: 'tasks' });
    const session = device.runtime.session();
    await session.commit(session.change((await device.runtime.store.get('Task', id))!, { title: 'mine' }));
    await world.elsewhere('alice').upload([{ entity: 'Task', id, kind: 'update', data: { title: 'theirs', estimate: 3 } }]);

    expect(await syncs.reSync('tasks')).toMatchObject({ status: 'done' });
    expect(await device.runtime.store.get('Task', id)).toMatchObject({ title: 'mine', estimate: null });
    expect(await device.runtime.store.pendingChange('Task', id)).toBeDefined();
  });

  it('overwrite lets server values win and clears the local change marks', async () => {
    world = await startWorld();
    const [id] = await seedTasks(1);
    const device = await world.device();
    const { syncs } = device.runtime;
    await syncs.syncDown({ entity: 'Task' }, { name: 'tasks', mergeMode: 'overwrite' });
    const session = device.runtime.session();
    await session.commit(session.change((await device.runtime.store.get('Task', id))!, { title: 'mine' }));
    await world.elsewhere('alice').upload([{ entity: 'Task', id, kind: 'update', data: { title: 'theirs' } }]);

    await syncs.reSync('tasks');
    expect((await device.runtime.store.get('Task', id))!.title).toBe('theirs');
    expect(await device.runtime.store.pendingChange('Task', id)).toBeUndefined();
  });
});

describe('cleanResyncGhosts', () => {
  it('removes records deleted on the server or no longer matching, keeps locally modified ones, leaves status and checkpoint alone', async () => {
    world = await startWorld();
    const { deleted, closed, modified, kept, device, store, syncs } = await ghostScene('still working on it');

    const before = await syncs.reSync('open');
    // The delta brings nothing for deleted or no longer matching records: they are ghosts now.
    expect(await store.count('Task')).toBe(4);

    expect(await syncs.cleanResyncGhosts('open')).toBe(2);
    expect((await store.query('Task')).map((t) => t.id).sort()).toEqual([modified, kept].sort());
    expect(await syncs.getSyncStatus('open')).toEqual(before);
    // Once its change is uploaded, the modified record is looked at again by the next cleaning.
    await device.runtime.synchronize({ mode: 'unsynchronized' });
    expect(await store.get('Task', modified)).toMatchObject({ title: 'still working on it', done: true });
    expect(await syncs.cleanResyncGhosts('open')).toBe(1);
    expect((await store.query('Task')).map((t) => t.id)).toEqual([kept]);
  });

  it('only considers the records its own sync wrote: two syncs over one entity do not clean each other', async () => {
    world = await startWorld();
    const [small, big] = await seedTasks(2, (i) => ({ title: `task ${i}`, estimate: i === 0 ? 1 : 10 }));
    const device = await world.device();
    const { syncs } = device.runtime;
    await syncs.syncDown({ entity: 'Task', constraint: { attribute: 'estimate', op: 'lt', value: 5 } }, { name: 'small' });
    await syncs.syncDown({ entity: 'Task', constraint: { attribute: 'estimate', op: 'gte', value: 5 } }, { name: 'big' });
    expect(await device.runtime.store.count('Task')).toBe(2);

    expect(await syncs.cleanResyncGhosts('small')).toBe(0);
    expect(await syncs.cleanResyncGhosts('big')).toBe(0);
    expect(await device.runtime.store.count('Task')).toBe(2);

    // `small` grows out of its constraint into `big`'s: small lets go of it, big keeps it.
    await world.elsewhere('alice').upload([{ entity: 'Task', id: small, kind: 'update', data: { estimate: 7 } }]);
    await syncs.reSync('big');
    expect(await syncs.cleanResyncGhosts('small')).toBe(0);
    expect((await device.runtime.store.query('Task')).map((t) => t.id).sort()).toEqual([small, big].sort());
  });

  it('refuses a sync up, a running sync and a stopped manager with typed errors', async () => {
    world = await startWorld();
    await seedTasks(3);
    const device = await world.device();
    const { syncs } = device.runtime;
    await syncs.defineSyncUp({ entity: 'Task' }, { name: 'up' });
    await expect(syncs.cleanResyncGhosts('up')).rejects.toThrow(ValidationError);
    await syncs.defineSyncDown({ entity: 'Task' }, { name: 'down' });

    const { release } = device.network.hold('/api/download');
    const running = syncs.reSync('down');
    await expect(syncs.cleanResyncGhosts('down')).rejects.toBeInstanceOf(SyncRunningError);
    await expect(syncs.reSync('down')).rejects.toBeInstanceOf(SyncRunningError);
    release();
    await running;
    device.network.gate = null;

    syncs.stop();
    expect(syncs.isStopped()).toBe(true);
    await expect(syncs.cleanResyncGhosts('down')).rejects.toBeInstanceOf(SyncManagerStoppedError);
    await expect(syncs.reSync('down')).rejects.toBeInstanceOf(SyncManagerStoppedError);
    await syncs.restart(false);
    expect(await syncs.cleanResyncGhosts('down')).toBe(0);
  });

  it('fails when stopped while it runs', async () => {
    world = await startWorld();
    await seedTasks(3);
    const device = await world.device();
    const { syncs } = device.runtime;
    await syncs.syncDown({ entity: 'Task' }, { name: 'down' });
    device.network.gate = async (path) => {
      if (path === '/api/ids') syncs.stop();
    };
    const cleaning = syncs.cleanResyncGhosts('down');
    await expect(cleaning).rejects.toBeInstanceOf(SyncStoppedError);
    expect(syncs.isStopped()).toBe(true);
    expect(await syncs.getSyncStatus('down')).toMatchObject({ status: 'done' });
    expect(await device.runtime.store.count('Task')).toBe(3);
  });
});

describe('stop and restart', () => {
  it('stops the running sync and every queued one; restart(false) leaves them stopped, restart(true) completes them', async () => {
    world = await startWorld();
    await seedTasks(20);
    const device = await world.device();
    const { syncs } = device.runtime;
    await syncs.defineSyncDown({ entity: 'Task' }, { name: 'a', batchSize: 5 });
    await syncs.defineSyncDown({ entity: 'Project' }, { name: 'b' });
    await syncs.defineSyncUp({ entity: 'Task' }, { name: 'up' });
    await syncs.defineSyncDown({ entity: 'Task', constraint: open }, { name: 'c' });

    const { release } = device.network.hold((path) => path === '/api/download' && device.network.downloadedIds.length >= 5);
    const results = [syncs.reSync('a'), syncs.reSync('b'), syncs.reSync('up')];
    const ghosts = expect(syncs.cleanResyncGhosts('c')).rejects.toBeInstanceOf(SyncStoppedError);
    await expect.poll(() => device.network.downloadedIds.length).toBe(5);

    syncs.stop();
    expect(syncs.isStopping()).toBe(true);
    expect(syncs.isStopped()).toBe(false);
    await expect(syncs.reSync('c')).rejects.toBeInstanceOf(SyncManagerStoppedError);
    release();
    device.network.gate = null;
    const [a, b, up] = await Promise.all(results);
    expect([a.status, b.status, up.status]).toEqual(['stopped', 'stopped', 'stopped']);
    await ghosts;
    expect(syncs.isStopped()).toBe(true);
    expect(syncs.isStopping()).toBe(false);

    expect(await syncs.restart(false)).toEqual([]);
    expect((await syncs.getSyncStatus('a'))!.status).toBe('stopped');

    syncs.stop();
    const updates: SyncState[] = [];
    const restarted = await syncs.restart(true, (s) => updates.push(s));
    expect(restarted.map((s) => [s.name, s.status]).sort()).toEqual([['a', 'done'], ['b', 'done'], ['up', 'done']]);
    expect(new Set(updates.map((u) => u.name))).toEqual(new Set(['a', 'b', 'up']));
    expect(await device.runtime.store.count('Task')).toBe(20);
    // "a" resumed after its stored batches: no record came twice.
    const taskIds = device.network.downloadedIds.filter((id) => id);
    expect(new Set(taskIds).size).toBe(taskIds.length);
  });

  it('a sync persisted as running (the app was closed mid-run) is stopped on start and resumed by restart(true)', async () => {
    world = await startWorld();
    await seedTasks(12);
    const device = await world.device();
    const first = device.runtime.syncs;
    await first.defineSyncDown({ entity: 'Task' }, { name: 'a', batchSize: 5 });
    // Cut the run after its first stored batch, as a closed tab would.
    const { store } = device.runtime;
    const restore = failSecondBatch(device, 'tab closed');
    await first.reSync('a');
    restore();
    const cut = (await store.findSyncState('a'))!;
    await store.putSyncState({ ...cut, status: 'running', error: null }); // what a killed process leaves behind

    device.network.downloadedIds.length = 0;
    const second = managerOf(device);
    const [resumed] = await second.restart(true);
    expect(resumed).toMatchObject({ name: 'a', status: 'done' });
    expect(await store.count('Task')).toBe(12);
    // The batch that was downloaded but never stored is fetched again; the stored one is not.
    expect(device.network.downloadedIds).toHaveLength(7);
  });
});

describe('the checkpoint', () => {
  it('is stored with its batch: a failure between download and store refetches that batch, never skips it', async () => {
    world = await startWorld();
    const ids = await seedTasks(15);
    const device = await world.device();
    const { syncs } = device.runtime;
    await syncs.defineSyncDown({ entity: 'Task' }, { name: 'a', batchSize: 5 });
    const { store } = device.runtime;
    const restore = failSecondBatch(device, 'disk full');
    const failed = await syncs.reSync('a');
    restore();
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'internal', message: 'disk full' } });
    expect(await store.count('Task')).toBe(5);

    const done = await syncs.reSync('a');
    expect(done.status).toBe('done');
    expect((await store.query('Task')).map((t) => t.id).sort()).toEqual([...ids].sort());
    const counts = new Map<string, number>();
    for (const id of device.network.downloadedIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    // The stored batch is not fetched again; the unstored one (and the one prefetched meanwhile) are.
    expect(device.network.downloadedIds.slice(0, 5).map((id) => counts.get(id))).toEqual([1, 1, 1, 1, 1]);
    expect(device.network.downloadedIds.slice(5, 10).map((id) => counts.get(id))).toEqual([2, 2, 2, 2, 2]);
  });
});

describe('sync up', () => {
  it('uploads the entity\'s changes, only the target\'s fields; other members stay marked, reSync sends only what is still marked', async () => {
    world = await startWorld();
    const [a, b] = await seedTasks(2);
    const device = await world.device();
    const { store } = device.runtime;
    await device.runtime.synchronize({ mode: 'all' });
    const { syncs } = device.runtime;
    await syncs.defineSyncUp({ entity: 'Task', fields: ['title'] }, { name: 'titles' });

    const session = device.runtime.session();
    await session.commit([
      session.change((await store.get('Task', a))!, { title: 'A', estimate: 5 }),
      session.change((await store.get('Task', b))!, { estimate: 8 }),
    ]);
    const projectSession = device.runtime.session();
    await projectSession.commit(projectSession.create('Project', { name: 'not my entity' }));

    const done = await syncs.reSync('titles');
    expect(done).toMatchObject({ status: 'done', totalSize: 2 });
    const alice = world.elsewhere('alice');
    expect(await alice.get('Task', a)).toMatchObject({ title: 'A', estimate: null });
    expect(await alice.get('Task', b)).toMatchObject({ estimate: null });
    expect(await store.get('Task', a)).toMatchObject({ title: 'A', estimate: 5 });
    expect((await store.pendingChange('Task', a))!.changed).toEqual(['estimate']);
    expect((await store.pendingChange('Task', b))!.changed).toEqual(['estimate']);
    expect(await store.pendingCount()).toBe(3);

    // A whole-entity sync up sends the rest.
    const requests = device.network.requests.length;
    await syncs.syncUp({ entity: 'Task' }, { name: 'all-task-fields' });
    expect(await alice.get('Task', a)).toMatchObject({ title: 'A', estimate: 5 });
    expect(await alice.get('Task', b)).toMatchObject({ estimate: 8 });
    expect(await store.pendingCount()).toBe(1); // the project
    expect(device.network.requests.slice(requests).filter((r) => r === 'POST /api/upload')).toHaveLength(1);
    await syncs.reSync('titles');
    expect(device.network.requests.slice(requests).filter((r) => r === 'POST /api/upload')).toHaveLength(1); // nothing left to send
  });
});

describe('the single-sync guard', () => {
  it('holds between named syncs and the Synchronize modes, both ways, and changes nothing', async () => {
    world = await startWorld();
    await seedTasks(3);
    const device = await world.device();
    const { syncs } = device.runtime;
    await syncs.defineSyncDown({ entity: 'Task' }, { name: 'down' });

    const first = device.network.hold('/api/download');
    const synchronizing = device.runtime.synchronize({ mode: 'all' });
    await expect(syncs.reSync('down')).rejects.toBeInstanceOf(SimultaneousSyncError);
    expect(await syncs.getSyncStatus('down')).toMatchObject({ status: 'new', startTime: null });
    first.release();
    await synchronizing;

    const second = device.network.hold('/api/download');
    const resyncing = syncs.reSync('down');
    await expect.poll(() => device.network.requests.filter((r) => r === 'POST /api/download').length).toBe(4);
    await expect(device.runtime.synchronize({ mode: 'unsynchronized' })).rejects.toBeInstanceOf(SimultaneousSyncError);
    second.release();
    expect((await resyncing).status).toBe('done');
  });
});

describe('declared syncs', () => {
  it('ensureDefined defines the missing ones, keeps existing ones with their state, and refuses a type clash', async () => {
    world = await startWorld();
    await seedTasks(2);
    const device = await world.device();
    const { syncs } = device.runtime;
    const declared = [
      { type: 'syncDown' as const, name: 'tasks', target: { entity: 'Task' } },
      { type: 'syncUp' as const, name: 'up', target: { entity: 'Task' } },
    ];
    const [tasks] = await syncs.ensureDefined(declared);
    expect(tasks).toMatchObject({ name: 'tasks', status: 'new' });
    const done = await syncs.reSync('tasks');

    const again = await syncs.ensureDefined(declared);
    expect(again[0]).toEqual(done);
    expect((await syncs.listSyncs()).map((s) => s.name).sort()).toEqual(['tasks', 'up']);
    await expect(syncs.ensureDefined([{ type: 'syncUp', name: 'tasks', target: { entity: 'Task' } }])).rejects.toBeInstanceOf(
      SyncNameTakenError,
    );
  });
});

describe('a full sync down', () => {
  it('removes what it did not write (ghosts), never a locally modified record; an incremental reSync leaves ghosts', async () => {
    world = await startWorld();
    const { modified, kept, store, syncs } = await ghostScene('mine');

    await syncs.reSync('open');
    expect(await store.count('Task')).toBe(4);
    expect(await syncs.syncDown('open')).toMatchObject({ status: 'done' });
    expect((await store.query('Task')).map((t) => t.id).sort()).toEqual([modified, kept].sort());
  });
});
