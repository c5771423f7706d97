import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { NetworkError } from '../../src/errors.ts';
import { createRuntime, type Runtime } from '../../src/runtime/Runtime.ts';
import { createDemoSyncServer, demoUsers } from '../../src/server/demo.ts';
import type { SyncContext } from '../../src/sync/SyncContext.ts';
import { removeDeleted } from '../../src/sync/steps/removeDeleted.ts';
import type { Handlers, SyncServer } from '../../src/server/index.ts';
import { SyncClient } from '../../src/transport/SyncClient.ts';
import type { ChangeRequest } from '../../src/transport/wire.ts';
import { replayHandlers } from '../server/replayOthers.ts';
import { deletingHandlers } from '../server/uploadDeleted.ts';
import { TestNetwork } from '../support/TestNetwork.ts';
import { sharedStorage, useSharedStorage } from '../support/world.ts';

useSharedStorage();

const uuid = () => crypto.randomUUID();
const run = `${process.pid}_${Date.now().toString(36)}`;
let worlds = 0;
const open: Array<{ runtime?: Runtime; server: SyncServer }> = [];
afterEach(async () => {
  for (const { runtime, server } of open.splice(0)) {
    runtime?.close();
    await server.close();
  }
});

/**
 * A real server with the demo's schema, users and access rules, and handlers that delete what a
 * task's title says (`remove:<Entity>:<id>`, see deletingHandlers); alice's device after a full
 * sync of her project, a task of it with an attachment, and two more tasks.
 */
async function aliceWithData(handlers: Handlers = deletingHandlers) {
  const storage = await (await sharedStorage()).withSchema(`deleted_${run}_${++worlds}`);
  const server = await createDemoSyncServer(storage, { handlers });
  const url = await server.listen({ port: 0 });
  const entry: { runtime?: Runtime; server: SyncServer } = { server };
  open.push(entry);
  const client = new SyncClient({ baseUrl: url, token: demoUsers[0].token, deviceId: 'alice-elsewhere' });
  const elsewhere = {
    upload: (changes: Array<Omit<ChangeRequest, 'changeId'>>) => client.upload(changes.map((c) => ({ ...c, changeId: uuid() }))),
    get: async (entity: string, id: string) => (await client.fetchObjects(entity, [id])).objects[0] ?? null,
  };
  const ids = { project: uuid(), child: uuid(), attachment: uuid(), other: uuid(), third: uuid() };
  await elsewhere.upload([
    { entity: 'Project', id: ids.project, kind: 'create', data: { name: 'Apollo' } },
    { entity: 'Task', id: ids.child, kind: 'create', data: { title: 'child', project: ids.project } },
    { entity: 'Attachment', id: ids.attachment, kind: 'create', data: { name: 'notes.txt', task: ids.child } },
    { entity: 'Task', id: ids.other, kind: 'create', data: { title: 'other' } },
    { entity: 'Task', id: ids.third, kind: 'create', data: { title: 'third' } },
  ]);
  const network = new TestNetwork();
  const runtime = await createRuntime({
    schema: demoSchema,
    serverUrl: url,
    token: demoUsers[0].token,
    dbName: `deleted_${run}_${worlds}_alice`,
    indexedDB,
    IDBKeyRange,
    fetch: network.fetch,
  });
  entry.runtime = runtime;
  await runtime.synchronize({ mode: 'all' });
  expect(await runtime.store.get('Attachment', ids.attachment)).toBeDefined();
  const store = runtime.store;
  /** Commits a change of a held object. */
  const edit = async (entity: string, id: string, values: Record<string, unknown>) => {
    const session = runtime.session();
    return (await session.commit(session.change((await store.get(entity, id))!, values)))[0];
  };
  return { runtime, network, store, ids, elsewhere, edit };
}

describe('objects an upload deleted on the server besides the device’s own deletes', () => {
  it('are removed from the device by an unsynchronized sync, with no download or fetch (an afterCommit deletes a child and its attachment)', async () => {
    const d = await aliceWithData();
    await d.edit('Task', d.ids.other, { title: `remove:Task:${d.ids.child}` });
    const requests = d.network.requests.length;

    const result = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(d.network.requests.slice(requests)).toEqual(['POST /api/upload']);
    expect(result).toMatchObject({ uploaded: 1, removed: 2, failed: 0 });
    expect(result.removedIds.sort()).toEqual([d.ids.child, d.ids.attachment].sort());
    expect(await d.store.get('Task', d.ids.child)).toBeUndefined();
    expect(await d.store.get('Attachment', d.ids.attachment)).toBeUndefined();
    expect(await d.elsewhere.get('Task', d.ids.child)).toBeNull();
    const { $entity: _, ...other } = (await d.store.get('Task', d.ids.other))!;
    expect(other).toEqual(await d.elsewhere.get('Task', d.ids.other));
    expect(await d.store.pendingCount()).toBe(0);
  });

  it('removes an object the device created in the same upload that a later change’s handler deleted, without fetching it', async () => {
    const d = await aliceWithData();
    const session = d.runtime.session();
    const made = session.create('Task', { title: 'made offline' });
    await session.commit(made);
    await d.edit('Task', d.ids.other, { title: `remove:Task:${made.id}` });
    const requests = d.network.requests.length;

    const result = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(d.network.requests.slice(requests)).toEqual(['POST /api/upload']);
    expect(result).toMatchObject({ uploaded: 2, removed: 1, removedIds: [made.id] });
    expect(await d.store.get('Task', made.id)).toBeUndefined();
    expect(await d.store.pendingCount()).toBe(0);
  });

  it('leaves a deleted object with a pending local change alone; the next sync keeps that change as a deleted failure', async () => {
    const d = await aliceWithData();
    const [trigger] = [await d.edit('Task', d.ids.other, { title: `remove:Task:${d.ids.child}` })];
    await d.edit('Task', d.ids.child, { title: 'my precious edit' });

    // Only the trigger is selected: the child's change is not uploaded, so the child stays with it.
    const result = await d.runtime.synchronize({ mode: 'selected', objects: [trigger] });
    expect(result).toMatchObject({ uploaded: 1, removed: 1, removedIds: [d.ids.attachment] });
    expect(await d.store.get('Task', d.ids.child)).toMatchObject({ title: 'my precious edit' });
    expect(await d.store.pendingChange('Task', d.ids.child)).toMatchObject({ kind: 'update' });

    const next = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(next).toMatchObject({ uploaded: 0, failed: 1, removedIds: [d.ids.child] });
    expect(next.failures[0]).toMatchObject({ objectId: d.ids.child, reason: 'deleted', data: { title: 'my precious edit' } });
    expect(await d.store.get('Task', d.ids.child)).toBeUndefined();
    expect(await d.runtime.listFailures()).toHaveLength(1);
  });

  it('selected mode: names a selected unchanged object a handler deleted once in removedIds (the flow empties its variable)', async () => {
    const d = await aliceWithData();
    const trigger = await d.edit('Task', d.ids.other, { title: `remove:Task:${d.ids.third}` });
    const third = (await d.store.get('Task', d.ids.third))!;

    const result = await d.runtime.synchronize({ mode: 'selected', objects: [trigger, third] });
    expect(result).toMatchObject({ uploaded: 1, removed: 1, removedIds: [d.ids.third] });
    expect(await d.store.get('Task', d.ids.third)).toBeUndefined();
  });

  it('all objects mode: counts them in removed, though the download finds nothing left to clean', async () => {
    const d = await aliceWithData();
    await d.edit('Task', d.ids.other, { title: `remove:Task:${d.ids.child}` });

    const result = await d.runtime.synchronize({ mode: 'all' });
    expect(result).toMatchObject({ uploaded: 1, removed: 2 });
    expect(result.removedIds.sort()).toEqual([d.ids.child, d.ids.attachment].sort());
    expect(await d.store.get('Task', d.ids.child)).toBeUndefined();
    expect(await d.store.get('Attachment', d.ids.attachment)).toBeUndefined();
  });

  it('after a lost answer, the replay names them again: the device removes them then, and a full download has nothing left to clean', async () => {
    const d = await aliceWithData();
    await d.edit('Task', d.ids.other, { title: `remove:Task:${d.ids.child}` });
    d.network.inject(/^\/api\/upload$/, 'responseLost');
    await expect(d.runtime.synchronize({ mode: 'unsynchronized' })).rejects.toBeInstanceOf(NetworkError);
    expect(await d.elsewhere.get('Task', d.ids.child)).toBeNull();

    const replay = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(replay).toMatchObject({ uploaded: 1, removed: 2 });
    expect(await d.store.get('Task', d.ids.child)).toBeUndefined();

    const full = await d.runtime.synchronize({ mode: 'all' });
    expect(full).toMatchObject({ removed: 0 });
  });

  it('takes the answer as untrusted input: malformed entries, unknown entities and objects it does not hold are ignored', async () => {
    const d = await aliceWithData();
    const ctx = { schema: demoSchema, store: d.store } as SyncContext;
    const answer = [
      ...[null, 'Task', 7, { entity: 'Nope', id: d.ids.child }, { entity: 'toString', id: d.ids.child }, { entity: 'Task', id: 5 }, { entity: 'Task' }],
      { entity: 'Task', id: uuid() }, // not held
      { entity: 'Task', id: d.ids.third },
      { entity: 'Task', id: d.ids.third }, // twice: removed (and counted) once
    ];
    expect(await removeDeleted(ctx, answer)).toEqual({ removed: [{ entity: 'Task', id: d.ids.third }], kept: [] });
    expect(await d.store.get('Task', d.ids.child)).toBeDefined();
    expect(await d.store.get('Task', d.ids.third)).toBeUndefined();
  });
});

describe('an upload replayed after its answer was lost', () => {
  it('removes the objects its handler deleted and refreshes the one it wrote, with no download', async () => {
    // Handlers that also update what a title says (`bump:<Entity>:<id>`).
    const d = await aliceWithData(replayHandlers);
    await d.edit('Task', d.ids.other, { title: `remove:Task:${d.ids.child} bump:Project:${d.ids.project}` });
    d.network.inject(/^\/api\/upload$/, 'responseLost');
    await expect(d.runtime.synchronize({ mode: 'unsynchronized' })).rejects.toBeInstanceOf(NetworkError);
    // The server applied it; the device heard nothing.
    expect(await d.elsewhere.get('Task', d.ids.child)).toBeNull();
    expect(await d.elsewhere.get('Project', d.ids.project)).toMatchObject({ name: 'bumped' });
    expect(await d.store.get('Task', d.ids.child)).toBeDefined();
    expect(await d.store.get('Project', d.ids.project)).toMatchObject({ name: 'Apollo' });
    expect(await d.store.pendingCount()).toBe(1);

    const requests = d.network.requests.length;
    const replay = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(d.network.requests.slice(requests)).not.toContain('POST /api/download');
    expect(replay).toMatchObject({ uploaded: 1, removed: 2, failed: 0 });
    expect(replay.removedIds.sort()).toEqual([d.ids.child, d.ids.attachment].sort());
    expect(await d.store.get('Task', d.ids.child)).toBeUndefined();
    expect(await d.store.get('Attachment', d.ids.attachment)).toBeUndefined();
    const { $entity: _, ...project } = (await d.store.get('Project', d.ids.project))!;
    expect(project).toEqual(await d.elsewhere.get('Project', d.ids.project));
    expect(await d.store.pendingCount()).toBe(0);

    // Nothing was applied twice: one bump, the other task as the first upload left it.
    const { $entity: __, ...other } = (await d.store.get('Task', d.ids.other))!;
    expect(other).toEqual(await d.elsewhere.get('Task', d.ids.other));
  });
});
