import { describe, expect, it, vi } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { NetworkError } from '../../src/errors.ts';
import { uploadChanges } from '../../src/sync/steps/uploadChanges.ts';
import { useWorld, type Device } from '../support/world.ts';

const world = useWorld({ scope: 'test' });

const uuid = () => crypto.randomUUID();
const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

/**
 * The objects the sync pipeline fetches with /api/fetch, as `Entity:id`: the runtime's pipeline
 * client forwards every call but `upload` to the runtime's client, whose method this wraps.
 */
function fetchedObjects(d: Device): string[] {
  const fetched: string[] = [];
  const client = d.runtime.client;
  const original = client.fetchObjects.bind(client);
  vi.spyOn(client, 'fetchObjects').mockImplementation((entity, ids, signal) => {
    fetched.push(...ids.map((id) => `${entity}:${id}`));
    return original(entity, ids, signal);
  });
  return fetched;
}

/** Alice's device after a full sync of a project and a task of hers and a task carol assigned to her. */
async function aliceWithData() {
  const ids = { project: uuid(), mine: uuid(), assigned: uuid() };
  const alice = world.elsewhere('alice');
  const carol = world.elsewhere('carol');
  await alice.upload([
    { entity: 'Project', id: ids.project, kind: 'create', data: { name: 'Apollo' } },
    { entity: 'Task', id: ids.mine, kind: 'create', data: { title: 'Mine', project: ids.project } },
  ]);
  await carol.upload([{ entity: 'Task', id: ids.assigned, kind: 'create', data: { title: 'For alice', assignee: 'alice' } }]);
  const device = await world.device('alice');
  await device.runtime.synchronize({ mode: 'all' });
  return { ...device, ids, alice, carol };
}

describe('the refresh after an upload', () => {
  it('fetches none of the objects the upload answered: their answer (handler changes included) is stored', async () => {
    const d = await aliceWithData();
    const fetched = fetchedObjects(d);
    const session = d.runtime.session();
    const project = session.create('Project', { name: 'Made offline' });
    const task = session.create('Task', { title: 'three little words', project: project.id });
    await session.commit([project, task, session.change((await d.runtime.store.get('Task', d.ids.mine))!, { title: 'Mine, renamed here' })]);

    const result = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(fetched).toEqual([]);
    expect(d.network.count(/^POST \/api\/fetch$/)).toBe(0);
    expect(result).toMatchObject({ uploaded: 3, downloaded: 3, removed: 0 });
    for (const [entity, id] of [['Project', project.id], ['Task', task.id], ['Task', d.ids.mine]]) {
      const { $entity: _, ...local } = (await d.runtime.store.get(entity, id))!;
      expect(local).toEqual(await d.alice.get(entity, id));
    }
    expect((await d.runtime.store.get('Task', task.id))!.words).toBe(3);
    expect(await d.runtime.store.pendingCount()).toBe(0);
  });

  it("refreshes the objects it holds that the server's handlers wrote besides the uploaded ones (a task revives its archived project)", async () => {
    const d = await aliceWithData();
    await d.alice.upload([{ entity: 'Project', id: d.ids.project, kind: 'update', data: { archived: true } }]);
    await d.runtime.synchronize({ mode: 'all' });
    expect((await d.runtime.store.get('Project', d.ids.project))!.archived).toBe(true);
    const fetched = fetchedObjects(d);
    const session = d.runtime.session();
    // A new task of the archived project: the demo's afterCommit handler revives the project on the server.
    await session.commit(session.create('Task', { title: 'brings it back', project: d.ids.project }));

    const result = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(result).toMatchObject({ uploaded: 1 });
    // The project was not uploaded, yet the device has the server's version at once (no download needed).
    expect(fetched).toEqual([`Project:${d.ids.project}`]);
    const { $entity: _, ...local } = (await d.runtime.store.get('Project', d.ids.project))!;
    expect(local).toEqual(await d.alice.get('Project', d.ids.project));
    expect(local.archived).toBe(false);

    // An object the handlers write that the device does not hold is not brought in.
    const other = uuid();
    await d.alice.upload([{ entity: 'Project', id: other, kind: 'create', data: { name: 'not on the device', archived: true } }]);
    await session.commit(session.create('Task', { title: 'refers to a project it never downloaded', project: other }));
    fetched.length = 0;
    await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(fetched).toEqual([]);
    expect(await d.runtime.store.get('Project', other)).toBeUndefined();
  });

  it('refreshes an object answered without its object (no longer readable), which then goes', async () => {
    const d = await aliceWithData();
    const fetched = fetchedObjects(d);
    const session = d.runtime.session();
    // alice may write carol's task as its assignee; handing it to bob leaves her unable to read it.
    await session.commit(session.change((await d.runtime.store.get('Task', d.ids.assigned))!, { assignee: 'bob' }));
    await session.commit(session.change((await d.runtime.store.get('Task', d.ids.mine))!, { done: true }));

    const result = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(fetched).toEqual([`Task:${d.ids.assigned}`]);
    expect(result).toMatchObject({ uploaded: 2, downloaded: 1, removed: 1, removedIds: [d.ids.assigned] });
    expect(await d.runtime.store.get('Task', d.ids.assigned)).toBeUndefined();
    expect(await d.carol.get('Task', d.ids.assigned)).toMatchObject({ assignee: 'bob' });
    expect((await d.runtime.store.get('Task', d.ids.mine))!.done).toBe(true);
  });

  it('leaves an object committed again during its upload alone: the newer change stays, the next sync uploads it', async () => {
    const d = await aliceWithData();
    const fetched = fetchedObjects(d);
    const session = d.runtime.session();
    await session.commit(session.change((await d.runtime.store.get('Task', d.ids.mine))!, { title: 'first edit' }));
    const held = d.network.hold('/api/upload');
    const sync = d.runtime.synchronize({ mode: 'unsynchronized' });
    await held.arrived;
    await session.commit(session.change((await d.runtime.store.get('Task', d.ids.mine))!, { estimate: 5 }));
    held.release();
    d.network.gate = null;
    const result = await sync;

    // The refresh could neither write nor remove it (a pending change wins): it is not fetched.
    expect(fetched).toEqual([]);
    expect(result).toMatchObject({ uploaded: 1, downloaded: 0 });
    const local = (await d.runtime.store.get('Task', d.ids.mine))!;
    const onServer = (await d.alice.get('Task', d.ids.mine))!;
    expect(local).toMatchObject({ title: 'first edit', estimate: 5, changedDate: onServer.changedDate });
    expect(onServer).toMatchObject({ title: 'first edit', estimate: null });
    // The newer change merged into the uploaded one: it goes whole again.
    expect(await d.runtime.store.pendingChange('Task', d.ids.mine)).toMatchObject({ kind: 'update', changed: ['title', 'estimate'] });

    const next = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(next).toMatchObject({ uploaded: 1, downloaded: 1 });
    expect(fetched).toEqual([]);
    expect(await d.alice.get('Task', d.ids.mine)).toMatchObject({ title: 'first edit', estimate: 5 });
    expect(await d.runtime.store.pendingCount()).toBe(0);
  });

  it('refreshes objects of file entities: the contents uploaded after the confirmation moved their version, and new server contents come down', async () => {
    const d = await aliceWithData();
    const shared = uuid();
    await d.alice.upload([{ entity: 'Attachment', id: shared, kind: 'create', data: { name: 'shared.txt', task: d.ids.mine } }]);
    await d.alice.client.putFile('Attachment', shared, text('first'), 'text/plain');
    await d.runtime.synchronize({ mode: 'all' });
    const fetched = fetchedObjects(d);
    const session = d.runtime.session();
    const attached = session.create('Attachment', { name: 'offline.txt', task: d.ids.mine });
    await session.commit([attached, session.change((await d.runtime.store.get('Attachment', shared))!, { name: 'renamed.txt' })]);
    await d.runtime.store.putFile('Attachment', attached.id, text('written offline'), 'text/plain');
    await d.alice.client.putFile('Attachment', shared, text('second'), 'text/plain');
    d.network.requests.length = 0;

    const result = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(fetched.sort()).toEqual([`Attachment:${attached.id}`, `Attachment:${shared}`].sort());
    expect(result).toMatchObject({ uploaded: 2, downloaded: 2, files: { uploaded: 1, downloaded: 1 } });
    const versions = await d.runtime.store.fileVersions('Attachment');
    for (const id of [attached.id, shared]) {
      const onServer = (await d.alice.get('Attachment', id))!;
      // The file upload moved the created attachment's changedDate after its answer was stored.
      expect((await d.runtime.store.get('Attachment', id))!.changedDate).toBe(onServer.changedDate);
      expect(versions.get(id)).toBe(onServer.changedDate);
    }
    expect(decode((await d.runtime.store.getFile('Attachment', shared))?.data)).toBe('second');
    // The contents just uploaded are not downloaded back.
    expect(d.network.requests.filter((r) => r.startsWith('GET /api/files/'))).toEqual([`GET /api/files/Attachment/${shared}`]);
  });

  it('selected mode fetches the unchanged selected objects, not the uploaded ones', async () => {
    const d = await aliceWithData();
    await d.carol.upload([{ entity: 'Task', id: d.ids.assigned, kind: 'update', data: { title: 'Renamed by carol' } }]);
    const fetched = fetchedObjects(d);
    const session = d.runtime.session();
    const [mine] = await session.commit(session.change((await d.runtime.store.get('Task', d.ids.mine))!, { title: 'two words' }));
    const assigned = (await d.runtime.store.get('Task', d.ids.assigned))!;

    const result = await d.runtime.synchronize({ mode: 'selected', objects: [mine, assigned] });
    expect(fetched).toEqual([`Task:${d.ids.assigned}`]);
    expect(result).toMatchObject({ uploaded: 1, downloaded: 2 });
    expect((await d.runtime.store.get('Task', d.ids.assigned))!.title).toBe('Renamed by carol');
    const { $entity: _, ...local } = (await d.runtime.store.get('Task', d.ids.mine))!;
    expect(local).toEqual(await d.alice.get('Task', d.ids.mine));
    expect(local.words).toBe(2);
  });

  it('takes a replayed answer (lost the first time) as the object is now on the server, without fetching it', async () => {
    const d = await aliceWithData();
    const fetched = fetchedObjects(d);
    const session = d.runtime.session();
    await session.commit(session.change((await d.runtime.store.get('Task', d.ids.mine))!, { title: 'sent twice' }));
    d.network.inject(/^\/api\/upload$/, 'responseLost');
    await expect(d.runtime.synchronize({ mode: 'unsynchronized' })).rejects.toBeInstanceOf(NetworkError);
    // Changed on the server after the lost answer: the replay answers this version.
    await d.alice.upload([{ entity: 'Task', id: d.ids.mine, kind: 'update', data: { estimate: 3 } }]);

    const result = await d.runtime.synchronize({ mode: 'unsynchronized' });
    expect(fetched).toEqual([]);
    expect(result).toMatchObject({ uploaded: 1, downloaded: 1 });
    const { $entity: _, ...local } = (await d.runtime.store.get('Task', d.ids.mine))!;
    expect(local).toEqual(await d.alice.get('Task', d.ids.mine));
    expect(local).toMatchObject({ title: 'sent twice', estimate: 3 });
  });

  it('a field-limited sync up keeps the members left out pending: the answer is not taken as the object, nor refreshed', async () => {
    const d = await aliceWithData();
    const session = d.runtime.session();
    await session.commit(session.change((await d.runtime.store.get('Task', d.ids.mine))!, { title: 'sent', estimate: 2 }));
    const ctx = { schema: demoSchema, store: d.runtime.store, client: d.runtime.client, config: {} };

    const outcome = await uploadChanges(ctx, await d.runtime.store.pendingChanges(), undefined, { fields: ['title'] });
    expect(outcome).toMatchObject({ uploaded: 1, applied: [{ entity: 'Task', id: d.ids.mine }], answered: [], toRefresh: [] });
    expect(await d.alice.get('Task', d.ids.mine)).toMatchObject({ title: 'sent', estimate: null });
    expect(await d.runtime.store.get('Task', d.ids.mine)).toMatchObject({ title: 'sent', estimate: 2 });
    expect(await d.runtime.store.pendingChange('Task', d.ids.mine)).toMatchObject({ kind: 'update', changed: ['estimate'] });
  });
});
