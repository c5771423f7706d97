import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { NetworkError } from '../../src/errors.ts';
import { createRuntime, type Runtime } from '../../src/runtime/Runtime.ts';
import { createDemoSyncServer, demoUsers } from '../../src/server/demo.ts';
import type { SyncServer } from '../../src/server/index.ts';
import { SyncClient } from '../../src/transport/SyncClient.ts';
import type { ChangeRequest } from '../../src/transport/wire.ts';
import { replayHandlers } from '../server/replayOthers.ts';
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
 * A real server with the demo's schema, users and access rules, and handlers that delete and
 * update what a task's title says (`remove:<Entity>:<id>`, `bump:<Entity>:<id>`, see
 * replayHandlers); alice's device, on a network that can lose answers, after a full sync of her
 * project, a task of it with an attachment, and another task.
 */
async function aliceWithData() {
  const storage = await (await sharedStorage()).withSchema(`replay_${run}_${++worlds}`);
  const server = await createDemoSyncServer(storage, { handlers: replayHandlers });
  const url = await server.listen({ port: 0 });
  const entry: { runtime?: Runtime; server: SyncServer } = { server };
  open.push(entry);
  const client = new SyncClient({ baseUrl: url, token: demoUsers[0].token, deviceId: 'alice-elsewhere' });
  const elsewhere = {
    upload: (changes: Array<Omit<ChangeRequest, 'changeId'>>) => client.upload(changes.map((c) => ({ ...c, changeId: uuid() }))),
    get: async (entity: string, id: string) => (await client.fetchObjects(entity, [id])).objects[0] ?? null,
  };
  const ids = { project: uuid(), child: uuid(), attachment: uuid(), other: uuid() };
  await elsewhere.upload([
    { entity: 'Project', id: ids.project, kind: 'create', data: { name: 'Apollo' } },
    { entity: 'Task', id: ids.child, kind: 'create', data: { title: 'child', project: ids.project } },
    { entity: 'Attachment', id: ids.attachment, kind: 'create', data: { name: 'notes.txt', task: ids.child } },
    { entity: 'Task', id: ids.other, kind: 'create', data: { title: 'other' } },
  ]);
  const network = new TestNetwork();
  const runtime = await createRuntime({
    schema: demoSchema,
    serverUrl: url,
    token: demoUsers[0].token,
    dbName: `replay_${run}_${worlds}_alice`,
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

describe('an upload replayed after its answer was lost', () => {
  it('removes the objects its handler deleted and refreshes the one it wrote, with no download', async () => {
    const d = await aliceWithData();
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
