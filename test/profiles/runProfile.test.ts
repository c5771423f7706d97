import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { defineSchema } from '../../src/model/schema.ts';
import { AUTO_EXCLUSION, GLOBAL_EXCLUSION } from '../../src/profiles/exclusions.ts';
import type { ProfileInput } from '../../src/profiles/Profile.ts';
import { STEP_MAPPINGS } from '../../src/profiles/stepPlan.ts';
import { createRuntime } from '../../src/runtime/Runtime.ts';
import { useWorld } from '../support/world.ts';
import { closeProfileDevices, profileDevice, stableProjectSchema } from './support.ts';

const world = useWorld({ seed: true, beforeClose: closeProfileDevices });

const profile = (p: Partial<ProfileInput> & { name: string }): ProfileInput => ({ entities: { exclude: [] }, globalExclusions: false, ...p });

/** A device that has completed its full sync, with the given profiles. */
async function readyDevice(profiles: ProfileInput[], options: Parameters<typeof profileDevice>[1] = {}) {
  const device = await profileDevice(world, { ...options, profiles: { ...options.profiles, definitions: profiles } });
  await device.runtime.synchronize({ mode: 'all' });
  device.network.requests.length = 0;
  return device;
}

async function newTask(title: string, extra: Record<string, unknown> = {}) {
  const id = crypto.randomUUID();
  const { results } = await world.elsewhere('alice').upload([{ entity: 'Task', id, kind: 'create', data: { title, ...extra } }]);
  expect(results[0].status).toBe('applied');
  return id;
}

describe('start conditions: each refusal has a typed reason, journaled', () => {
  it('refuses before the first full sync (first run)', async () => {
    const { runtime } = await profileDevice(world, { profiles: { definitions: [profile({ name: 'p' })] } });
    const result = await runtime.profiles.run('p');
    expect(result).toMatchObject({ outcome: 'refused', refusal: { code: 'full_sync_required', why: 'first_run' } });
    expect(await runtime.journal.last()).toMatchObject({ kind: 'profile', name: 'p', outcome: 'refused', error: { code: 'full_sync_required' } });
  });

  it('refuses after a schema change until a full sync', async () => {
    const first = await readyDevice([profile({ name: 'p' })]);
    first.runtime.close();
    // The app's next version drops Attachment: the local tables change, so a full sync is due.
    const { Attachment: _dropped, ...entities } = Object.fromEntries(
      demoSchema.order.map((n) => [n, { attributes: { ...demoSchema.entities[n].attributes }, associations: { ...demoSchema.entities[n].associations } }]),
    );
    const schema = defineSchema({ entities });
    const again = await profileDevice(world, { dbName: first.dbName, schema, profiles: { definitions: [profile({ name: 'p' })] } });
    expect(await again.runtime.profiles.run('p')).toMatchObject({ outcome: 'refused', refusal: { code: 'full_sync_required', why: 'schema_changed' } });
    await again.runtime.synchronize({ mode: 'all' });
    await expect.poll(async () => (await again.runtime.profiles.run('p')).outcome).toBe('done');
  });

  it('refuses when profiles are disabled', async () => {
    const { runtime } = await readyDevice([profile({ name: 'p' })], { profiles: { enabled: false } });
    expect(await runtime.profiles.run('p')).toMatchObject({ outcome: 'refused', refusal: { code: 'profiles_disabled' } });
  });

  it('refuses while synchronization failures are unresolved', async () => {
    const { runtime } = await readyDevice([profile({ name: 'p' })]);
    const session = runtime.session();
    await session.commit(session.create('Task', { title: 'dangling', project: crypto.randomUUID() }));
    expect((await runtime.synchronize({ mode: 'unsynchronized' })).failed).toBe(1);
    expect(await runtime.profiles.run('p')).toMatchObject({ outcome: 'refused', refusal: { code: 'unresolved_failures', count: 1 } });
    const [failure] = await runtime.listFailures();
    await runtime.dismissFailure(failure.id);
    expect((await runtime.profiles.run('p')).outcome).toBe('done');
  });

  it('refuses when the server needs authentication', async () => {
    const runtime = await createRuntime({
      schema: demoSchema,
      serverUrl: world.url,
      token: 'expired-token',
      dbName: `profiles_auth_${Date.now()}`,
      indexedDB,
      IDBKeyRange,
      profiles: { definitions: [profile({ name: 'p' })] },
    });
    try {
      await expect(runtime.synchronize({ mode: 'all' })).rejects.toMatchObject({ code: 'unauthorized' });
      expect(await runtime.profiles.run('p')).toMatchObject({ outcome: 'refused', refusal: { code: 'authentication_required' } });
    } finally {
      runtime.close();
    }
  });

  it('refuses after too many recent connection failures', async () => {
    const { runtime, network } = await readyDevice([profile({ name: 'p' })], { profiles: { maxConnectionFailures: 2, connectionFailureWindowSeconds: 60 } });
    network.always(/./, 'unreachable');
    await expect(runtime.synchronize({ mode: 'all' })).rejects.toMatchObject({ code: 'network' });
    expect(await runtime.profiles.run('p')).toMatchObject({ outcome: 'failed', error: { code: 'network' } });
    expect(await runtime.profiles.run('p')).toMatchObject({ outcome: 'refused', refusal: { code: 'connection_failures', count: 2, windowSeconds: 60 } });
    network.clear();
  });
});

describe('a profile run', () => {
  it('downloads only its entities, incrementally', async () => {
    const { runtime, network } = await readyDevice([profile({ name: 'tasks', direction: 'download', entities: { include: ['task'] } })]);
    const first = await runtime.profiles.run('tasks');
    expect(first).toMatchObject({ outcome: 'done', entities: { upload: [], download: ['Task'] } });
    expect(network.requests.filter((r) => r.includes('/api/download')).length).toBeGreaterThan(0);
    const projectId = crypto.randomUUID();
    await world.elsewhere('alice').upload([{ entity: 'Project', id: projectId, kind: 'create', data: { name: 'new project' } }]);
    const taskId = await newTask('new task');
    network.downloadedIds.length = 0;
    const second = await runtime.profiles.run('tasks');
    expect(second.downloaded).toBe(1);
    expect(network.downloadedIds).toEqual([taskId]);
    expect(await runtime.store.get('Task', taskId)).toBeDefined();
    expect(await runtime.store.get('Project', projectId)).toBeUndefined();
    const entry = await runtime.journal.last({ kind: 'profile' });
    expect(entry).toMatchObject({ name: 'tasks', trigger: 'app', outcome: 'done' });
    expect(entry!.counts).toEqual([{ entity: 'Task', direction: 'download', count: 1 }]);
    expect(Object.keys(entry!.checkpoints.after)).toEqual(['Task']);
    expect(entry!.checkpoints.after.Task! >= entry!.checkpoints.before.Task!).toBe(true);
  });

  it('uploads only its entities in the upload direction', async () => {
    const { runtime } = await readyDevice([profile({ name: 'push', direction: 'upload', entities: { include: ['Task'] } })]);
    const session = runtime.session();
    const project = session.create('Project', { name: 'local project' });
    const task = session.create('Task', { title: 'local task' });
    await session.commit([project, task]);
    const result = await runtime.profiles.run('push');
    expect(result).toMatchObject({ outcome: 'done', uploaded: 1, downloaded: 0, entities: { upload: ['Task'], download: [] } });
    expect(await world.elsewhere('alice').get('Task', task.id)).not.toBeNull();
    expect(await world.elsewhere('alice').get('Project', project.id)).toBeNull();
    expect((await runtime.store.pendingChanges()).map((c) => c.entity)).toEqual(['Project']);
  });

  it('is skipped (and journaled), not queued, while a Synchronize runs', async () => {
    const { runtime, network } = await readyDevice([profile({ name: 'p' })]);
    const held = network.hold('/api/download');
    const sync = runtime.synchronize({ mode: 'all' });
    await held.arrived;
    const result = await runtime.profiles.run('p');
    expect(result).toMatchObject({ outcome: 'skipped', skipped: [{ what: 'run', reason: 'another synchronization was running' }] });
    expect(await runtime.journal.last({ kind: 'profile' })).toMatchObject({ outcome: 'skipped', error: null });
    held.release();
    await sync;
    expect((await runtime.profiles.run('p')).outcome).toBe('done');
  });
});

describe('excluded steps', () => {
  it('remote conflicts: a failure dismissed elsewhere no longer holds the profile back, unless NoRemoteConflicts', async () => {
    const { runtime } = await readyDevice([profile({ name: 'strict', excludedSteps: ['NoRemoteConflicts'] }), profile({ name: 'p' })]);
    const session = runtime.session();
    await session.commit(session.create('Task', { title: 'dangling', project: crypto.randomUUID() }));
    expect((await runtime.synchronize({ mode: 'unsynchronized' })).failed).toBe(1);
    const [failure] = await runtime.listFailures();
    await world.elsewhere('alice').client.dismissFailure(failure.id);
    expect(await runtime.profiles.run('strict')).toMatchObject({ outcome: 'refused', refusal: { code: 'unresolved_failures', count: 1 } });
    expect(await runtime.profiles.run('p')).toMatchObject({ outcome: 'done' });
    expect(await runtime.listFailures()).toEqual([]);
  });

  it('maps every SmartSync module onto a step or reports it not applicable', async () => {
    const modules = Object.keys(STEP_MAPPINGS) as Array<keyof typeof STEP_MAPPINGS>;
    const { runtime } = await readyDevice([profile({ name: 'p', excludedSteps: modules })]);
    const result = await runtime.profiles.run('p');
    expect(result.outcome).toBe('done');
    for (const m of modules) expect(result.skipped.map((s) => s.what)).toContain(`module ${m}`);
    const notApplicable = result.skipped.filter((s) => s.reason.startsWith('not applicable')).map((s) => s.what);
    expect(notApplicable.sort()).toEqual(['module NoDocuments', 'module NoEntityImages', 'module NoExchange']);
    expect((await runtime.journal.last({ kind: 'profile' }))!.skipped).toEqual(result.skipped);
  });

  it('NoPreparation skips the preparation request; OnlyCoreModules keeps upload and entity download only', async () => {
    const { runtime, network } = await readyDevice([profile({ name: 'full' }), profile({ name: 'np', excludedSteps: ['NoPreparation'] }), profile({ name: 'core', excludedSteps: ['OnlyCoreModules'] })]);
    await runtime.profiles.run('full');
    expect(network.count(/\/api\/me/)).toBe(1);
    expect(network.count(/\/api\/ids/)).toBeGreaterThan(0);
    expect(network.count(/\/api\/failures/)).toBe(1);
    network.requests.length = 0;
    await runtime.profiles.run('np');
    expect(network.count(/\/api\/me/)).toBe(0);
    network.requests.length = 0;
    await runtime.profiles.run('core');
    expect(network.requests.every((r) => /\/api\/(download|upload)/.test(r))).toBe(true);
  });

  it('sync deletes: deletions go both ways, and NoSyncDeletes keeps them', async () => {
    const { runtime } = await readyDevice([profile({ name: 'with' }), profile({ name: 'without', excludedSteps: ['NoSyncDeletes'] })]);
    const gone = await newTask('deleted on the server');
    await runtime.synchronize({ mode: 'all' });
    await world.elsewhere('alice').upload([{ entity: 'Task', id: gone, kind: 'delete', data: {} }]);
    const local = await newTask('deleted on the device');
    await runtime.synchronize({ mode: 'all' });
    // The server-deleted task is still on the device, as after an incremental download (a ghost).
    await runtime.store.applyServerObjects('Task', [{ id: gone, title: 'ghost', createdDate: '2020-01-01T00:00:00.000Z', changedDate: '2020-01-01T00:00:00.000Z', owner: 'alice' } as never]);
    const session = runtime.session();
    await session.delete((await runtime.store.get('Task', local))!);
    await session.commit([]);
    const kept = await runtime.profiles.run('without');
    expect(kept.outcome).toBe('done');
    expect(kept.skipped).toContainEqual({ what: '1 local deletion(s)', reason: 'NoSyncDeletes: kept marked for a later sync' });
    expect(await runtime.store.get('Task', gone)).toBeDefined();
    expect(await world.elsewhere('alice').get('Task', local)).not.toBeNull();

    const done = await runtime.profiles.run('with');
    expect(done.removed).toBeGreaterThanOrEqual(1);
    expect(await runtime.store.get('Task', gone)).toBeUndefined();
    expect(await world.elsewhere('alice').get('Task', local)).toBeNull();
  });

  it("NoSyncShared downloads only the user's own objects", async () => {
    const shared = await newTask('assigned to bob', { assignee: 'bob' });
    const bob = await readyDevice([profile({ name: 'own', excludedSteps: ['NoSyncShared'] }), profile({ name: 'all' })], { user: 'bob' });
    const sharedLater = await newTask('assigned to bob later', { assignee: 'bob' });
    expect(await bob.runtime.store.get('Task', shared)).toBeDefined();
    await bob.runtime.profiles.run('own');
    expect(await bob.runtime.store.get('Task', sharedLater)).toBeUndefined();
    await bob.runtime.profiles.run('all');
    expect(await bob.runtime.store.get('Task', sharedLater)).toBeDefined();
  });

  it('cleanup removes objects that no longer match the sync configuration; NoCleanup keeps them', async () => {
    const syncConfig = { Task: { download: 'constraint' as const, constraint: { attribute: 'done', op: 'ne' as const, value: true } } };
    const { runtime } = await readyDevice([profile({ name: 'keep', excludedSteps: ['NoCleanup'] }), profile({ name: 'clean' })], { syncConfig });
    const id = await newTask('soon done', { done: false });
    await runtime.profiles.run('keep');
    expect(await runtime.store.get('Task', id)).toBeDefined();
    await world.elsewhere('alice').upload([{ entity: 'Task', id, kind: 'update', data: { done: true } }]);
    await runtime.profiles.run('keep');
    expect(await runtime.store.get('Task', id)).toBeDefined();
    const cleaned = await runtime.profiles.run('clean');
    expect(cleaned.removed).toBe(1);
    expect(await runtime.store.get('Task', id)).toBeUndefined();
  });

  it('NoAttachments leaves file contents alone; without it they download', async () => {
    const task = await newTask('with a file');
    const attachment = crypto.randomUUID();
    const alice = world.elsewhere('alice');
    await alice.upload([{ entity: 'Attachment', id: attachment, kind: 'create', data: { name: 'a.txt', task } }]);
    const { runtime } = await readyDevice([profile({ name: 'nofiles', excludedSteps: ['NoAttachments'] }), profile({ name: 'files' })]);
    await alice.client.putFile('Attachment', attachment, new TextEncoder().encode('hello'), 'text/plain');
    await runtime.profiles.run('nofiles');
    expect(await runtime.store.getFile('Attachment', attachment)).toBeUndefined();
    const result = await runtime.profiles.run('files');
    expect(result.files).toBe(1);
    expect(new TextDecoder().decode((await runtime.store.getFile('Attachment', attachment))!.data)).toBe('hello');
  });
});

describe('exclusion lists', () => {
  it('global: entities the schema marks stable are left out of downloads, unless switched off', async () => {
    const { runtime } = await readyDevice([profile({ name: 'g', globalExclusions: true }), profile({ name: 'nog', globalExclusions: false })], { schema: stableProjectSchema });
    const g = await runtime.profiles.run('g');
    expect(g.entities.download).toEqual(['Task', 'Attachment']);
    expect(g.skipped).toContainEqual({ what: 'entity Project', reason: GLOBAL_EXCLUSION });
    expect((await runtime.profiles.info('g')).exclusions.global).toEqual(['Project']);
    expect((await runtime.profiles.run('nog')).entities.download).toEqual(['Project', 'Task', 'Attachment']);
  });

  it('auto: an entity with no server change over the last N runs is left out, then checked again', async () => {
    const { runtime } = await readyDevice([profile({ name: 'a', autoExclusions: true, entities: { include: ['Project', 'Task'] } })], { profiles: { autoExclusionRuns: 2 } });
    const downloads: string[][] = [];
    for (let i = 0; i < 6; i++) {
      await newTask(`change ${i}`); // Task changes every run; Project never does
      const r = await runtime.profiles.run('a');
      expect(r.outcome).toBe('done');
      downloads.push(r.entities.download);
    }
    // Run 1 is full; runs 2 and 3 find no Project change; so run 4 leaves it out, and so does 5;
    // after two runs left out, run 6 checks it again.
    expect(downloads.map((d) => d.includes('Project'))).toEqual([true, true, true, false, false, true]);
    const excludedRun = (await runtime.journal.list({ kind: 'profile' })).find((e) => e.skipped.some((s) => s.reason === AUTO_EXCLUSION));
    expect(excludedRun).toBeDefined();
    expect(downloads.every((d) => d.includes('Task'))).toBe(true);
  });
});
