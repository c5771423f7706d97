import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { createRuntime, type Runtime } from '../../src/runtime/Runtime.ts';
import { createDemoSyncServer, demoAccess, demoUsers } from '../../src/server/demo.ts';
import type { SyncServer } from '../../src/server/index.ts';
import { SyncClient } from '../../src/transport/SyncClient.ts';
import { sharedStorage, useWorld, type Device, type World } from '../support/world.ts';
import { TestNetwork } from '../support/TestNetwork.ts';

const world = useWorld({ scope: 'test' });

const uuid = () => crypto.randomUUID();
const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);
const uploads = (d: Device) => d.network.count(/\/api\/files\//);

/** A device of alice holding one synchronized attachment (its task and it exist on the server). */
async function deviceWithAttachment(options: Parameters<World['device']>[1] = {}) {
  const alice = world.elsewhere('alice');
  const task = uuid();
  const id = uuid();
  await alice.upload([{ entity: 'Task', id: task, kind: 'create', data: { title: 'Has attachments' } }]);
  await alice.upload([{ entity: 'Attachment', id, kind: 'create', data: { name: 'a.txt', task } }]);
  const device = await world.device('alice', options);
  await device.runtime.synchronize({ mode: 'all' });
  return { ...device, alice, task, id };
}

describe('file contents the server refuses for good', () => {
  it('contents attached to an object another user deleted become a failure that keeps them, and are not sent again', async () => {
    const d = await deviceWithAttachment();
    await d.runtime.store.putFile('Attachment', d.id, text('only here'), 'text/plain');
    await world.elsewhere('carol').upload([{ entity: 'Attachment', id: d.id, kind: 'delete', data: {} }]); // a manager deletes it

    const result = await d.runtime.synchronize({ mode: 'all' });
    const [failure] = await d.runtime.listFailures();
    expect(failure).toMatchObject({
      entity: 'Attachment',
      objectId: d.id,
      kind: 'update',
      reason: 'inaccessible',
      message: `Attachment ${d.id} was not found or is not accessible`,
      status: 'open',
      file: { size: 9, contentType: 'text/plain' },
    });
    expect(result.failures).toEqual([failure]);
    expect(result.failed).toBe(1);
    expect(result.files!.refused).toEqual([{ entity: 'Attachment', id: d.id, code: 'server', message: failure.message, failureId: failure.id }]);
    const kept = await d.runtime.failureFile(failure.id);
    expect(decode(kept!.data)).toBe('only here');
    expect(kept!.contentType).toBe('text/plain');
    // The contents no longer hold the object: the same run's download removed it.
    expect(await d.runtime.store.pendingFiles()).toEqual([]);
    expect(await d.runtime.store.get('Attachment', d.id)).toBeUndefined();
    expect(result.removed).toBe(1);

    // Before, every later sync sent them again (one refused request each time); now none does.
    d.network.requests.length = 0;
    for (const mode of ['all', 'unsynchronized'] as const) await d.runtime.synchronize({ mode });
    expect(uploads(d)).toBe(0);
    expect(await d.runtime.listFailures()).toEqual([failure]);
  });

  it('a refused change of a deleted object takes its unsent contents along into a failure of their own', async () => {
    const d = await deviceWithAttachment();
    const session = d.runtime.session();
    await session.commit(session.change((await d.runtime.store.get('Attachment', d.id))!, { name: 'renamed.txt' }));
    await d.runtime.store.putFile('Attachment', d.id, text('renamed and written'), 'text/plain');
    await world.elsewhere('carol').upload([{ entity: 'Attachment', id: d.id, kind: 'delete', data: {} }]);

    const result = await d.runtime.synchronize({ mode: 'unsynchronized' });
    // Before: the refused rename became a failure and the object went, its contents with it, silently.
    const failures = await d.runtime.listFailures();
    // The run reports both, as it stores them.
    expect(result.failures.map((f) => f.id).sort()).toEqual(failures.map((f) => f.id).sort());
    expect(result.failed).toBe(2);
    expect(failures.map((f) => [f.reason, f.file ? 'file' : 'change'])).toEqual([
      ['deleted', 'change'],
      ['deleted', 'file'],
    ]);
    const file = failures.find((f) => f.file)!;
    expect(file.message).toBe(`The file of Attachment ${d.id} was not uploaded: Attachment ${d.id} was deleted on the server`);
    expect(decode((await d.runtime.failureFile(file.id))!.data)).toBe('renamed and written');
    expect(await d.runtime.store.get('Attachment', d.id)).toBeUndefined();
    expect(await d.runtime.store.getFile('Attachment', d.id)).toBeUndefined();
  });

  it('a file over the size limit becomes an `invalid` failure; retrying refuses it again, dismissing drops it with its bytes', async () => {
    const d = await deviceWithAttachment({ files: { maxFileSize: 10 } });
    await d.runtime.store.putFile('Attachment', d.id, text('eleven bytes and more'), 'text/plain');

    const result = await d.runtime.synchronize({ mode: 'all' });
    expect(uploads(d)).toBe(0); // not a byte sent
    const [failure] = result.failures;
    expect(failure).toMatchObject({ reason: 'invalid', message: 'The file is 21 bytes, over the 10-byte file size limit', file: { size: 21 } });
    expect(await d.runtime.store.get('Attachment', d.id)).toBeDefined(); // the object itself is fine
    expect(await d.runtime.store.pendingFiles()).toEqual([]);

    const retried = await d.runtime.retryFailure(failure.id);
    expect(retried).toMatchObject({ status: 'failed', failure: { id: failure.id, reason: 'invalid', status: 'open' } });
    expect(await d.runtime.listFailures()).toHaveLength(1);
    expect(uploads(d)).toBe(0);

    await d.runtime.dismissFailure(failure.id);
    expect(await d.runtime.listFailures()).toEqual([]);
    expect(await d.runtime.failureFile(failure.id)).toBeUndefined();
    expect(await d.runtime.store.db.table('$failedFiles').count()).toBe(0);
    expect(d.network.count(/\/api\/failures\//)).toBe(0); // the server never had this failure
    expect(await d.runtime.store.get('Attachment', d.id)).toBeDefined();
  });

  it('contents attached to an object whose create the server refused wait for the create, not a failure of their own', async () => {
    const d = await deviceWithAttachment();
    const session = d.runtime.session();
    const attachment = session.create('Attachment', { name: 'x.txt', task: uuid() }); // a task that does not exist: invalid
    await session.commit(attachment);
    await d.runtime.store.putFile('Attachment', attachment.id, text('with a bad create'), 'text/plain');

    for (let i = 0; i < 2; i++) await d.runtime.synchronize({ mode: 'all' });
    const failures = await d.runtime.listFailures();
    expect(failures.map((f) => [f.kind, f.reason])).toEqual([['create', 'invalid']]);
    expect(uploads(d)).toBe(0);
    expect(await d.runtime.store.pendingFiles()).toEqual([{ entity: 'Attachment', id: attachment.id }]);

    // Given up: the object goes, and its contents with it (not a failure of their own).
    await d.runtime.dismissFailure(failures[0].id);
    expect(await d.runtime.store.get('Attachment', attachment.id)).toBeUndefined();
    expect(await d.runtime.store.pendingFiles()).toEqual([]);
    expect(await d.runtime.store.getFile('Attachment', attachment.id)).toBeUndefined();
    expect(await d.runtime.listFailures()).toEqual([]);
    await d.runtime.synchronize({ mode: 'all' });
    expect(await d.runtime.listFailures()).toEqual([]);
  });

  it('keeps refused contents across a stop in the middle of the upload and restarts', async () => {
    const dbName = `restart-${uuid()}`;
    const d = await deviceWithAttachment({ dbName });
    await d.runtime.store.putFile('Attachment', d.id, text('survives restarts'), 'text/plain');
    // The sync stops while the contents are on their way: nothing is refused, they stay pending.
    const held = d.network.hold((path) => path.includes('/uploads/'));
    const run = d.runtime.synchronize({ mode: 'all' });
    await held.arrived;
    d.runtime.synchronizer.cancel();
    held.release();
    await expect(run).rejects.toMatchObject({ code: 'sync_cancelled' });
    d.runtime.close();

    const again = await world.device('alice', { dbName });
    expect(await again.runtime.store.pendingFiles()).toEqual([{ entity: 'Attachment', id: d.id }]);
    await world.elsewhere('carol').upload([{ entity: 'Attachment', id: d.id, kind: 'delete', data: {} }]);
    await again.runtime.synchronize({ mode: 'all' });
    const [failure] = await again.runtime.listFailures();
    again.runtime.close();

    const third = await world.device('alice', { dbName });
    expect(await third.runtime.listFailures()).toEqual([failure]);
    expect(decode((await third.runtime.failureFile(failure.id))!.data)).toBe('survives restarts');
    await third.runtime.dismissFailure(failure.id);
    third.runtime.close();

    const fourth = await world.device('alice', { dbName });
    expect(await fourth.runtime.listFailures()).toEqual([]);
    expect(await fourth.runtime.store.db.table('$failedFiles').count()).toBe(0);
  });

  it('read access taken away: the object goes, the contents stay as a failure; retried once the object exists for the user again, it comes back with them', async () => {
    const alice = world.elsewhere('alice');
    const task = uuid();
    const id = uuid();
    await alice.upload([{ entity: 'Task', id: task, kind: 'create', data: { title: 'T' } }]);
    await alice.upload([{ entity: 'Attachment', id, kind: 'create', data: { name: 'a.txt', task } }]);
    const carol = await world.device('carol'); // a manager: reads and writes every attachment
    await carol.runtime.synchronize({ mode: 'all' });
    await carol.runtime.store.putFile('Attachment', id, text('kept for later'), 'text/plain');
    await world.server.setRoles('carol', ['user']); // alice's attachment no longer exists for her

    await carol.runtime.synchronize({ mode: 'all' });
    const [failure] = await carol.runtime.listFailures();
    expect(failure).toMatchObject({ reason: 'inaccessible', message: `Attachment ${id} was not found or is not accessible`, file: { size: 14 } });
    expect(await carol.runtime.store.get('Attachment', id)).toBeUndefined();
    expect(await carol.runtime.retryFailure(failure.id)).toMatchObject({ status: 'failed', failure: { id: failure.id, reason: 'inaccessible' } });

    await world.server.setRoles('carol', ['manager']);
    // Newer contents attached meanwhile are the user's latest word: the retry does not send older ones over them.
    await carol.runtime.synchronize({ mode: 'all' });
    await carol.runtime.store.putFile('Attachment', id, text('newer'), 'text/plain');
    await expect(carol.runtime.retryFailure(failure.id)).rejects.toMatchObject({ code: 'conflict' });
    expect(await carol.runtime.listFailures()).toEqual([failure]);
    await carol.runtime.store.db.table('$files').delete(['Attachment', id]); // the newer contents given up (no API for that yet)
    await carol.runtime.store.removeObjects('Attachment', [id]);

    const retried = await carol.runtime.retryFailure(failure.id);
    expect(retried).toMatchObject({ status: 'applied', changeId: failure.changeId, object: { id, name: 'a.txt' } });
    expect(decode((await alice.client.getFile('Attachment', id))!.data)).toBe('kept for later');
    expect(await carol.runtime.listFailures()).toEqual([]);
    expect(await carol.runtime.store.get('Attachment', id)).toMatchObject({ name: 'a.txt' }); // back on the device
    expect(decode((await carol.runtime.store.getFile('Attachment', id))!.data)).toBe('kept for later');
  });
});

describe('retrying refused file contents', () => {
  // Attachments everyone reads and only owners and managers change: a user may then read an
  // attachment they may not write (a 403 on upload).
  const access = { ...demoAccess, Attachment: { read: [{ scope: 'all' as const }], write: [{ scope: 'own' as const }, { role: 'manager', scope: 'all' as const }] } };
  let server: SyncServer | null = null;
  const runtimes: Runtime[] = [];
  afterEach(async () => {
    for (const r of runtimes.splice(0)) r.close();
    await server?.close();
    server = null;
  });

  async function start() {
    const storage = await (await sharedStorage()).withSchema(`ff_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`);
    server = await createDemoSyncServer(storage, { access });
    const url = await server.listen({ port: 0 });
    const client = (user: string) => new SyncClient({ baseUrl: url, token: demoUsers.find((u) => u.id === user)!.token, deviceId: `elsewhere-${user}` });
    const device = async (user: string) => {
      const network = new TestNetwork();
      const runtime = await createRuntime({
        schema: demoSchema,
        serverUrl: url,
        token: demoUsers.find((u) => u.id === user)!.token,
        dbName: `ff-${uuid()}`,
        indexedDB,
        IDBKeyRange,
        fetch: network.fetch,
      });
      runtimes.push(runtime);
      return { runtime, network };
    };
    return { server: server!, client, device };
  }

  it('write access taken away: an `inaccessible` failure; retried once it is back, the contents reach the server and the failure goes', async () => {
    const { server, client, device } = await start();
    const alice = client('alice');
    const task = uuid();
    const id = uuid();
    await alice.upload([{ changeId: uuid(), entity: 'Task', id: task, kind: 'create', data: { title: 'T' } }]);
    await alice.upload([{ changeId: uuid(), entity: 'Attachment', id, kind: 'create', data: { name: 'a.txt', task } }]);
    const carol = await device('carol'); // a manager: may write alice's attachment
    await carol.runtime.synchronize({ mode: 'all' });
    await carol.runtime.store.putFile('Attachment', id, text('from the manager'), 'text/plain');
    await server.setRoles('carol', ['user']); // now she may read it, not write it

    const result = await carol.runtime.synchronize({ mode: 'all' });
    const [failure] = result.failures;
    expect(failure).toMatchObject({ reason: 'inaccessible', message: `You may not change Attachment ${id}`, file: { size: 16 } });
    expect(await carol.runtime.store.get('Attachment', id)).toBeDefined(); // still readable: it stays
    expect(await carol.runtime.store.getFile('Attachment', id)).toBeUndefined();

    // Retried while still read-only: refused again, kept.
    expect(await carol.runtime.retryFailure(failure.id)).toMatchObject({ status: 'failed', failure: { reason: 'inaccessible' } });
    expect(await carol.runtime.listFailures()).toHaveLength(1);

    await server.setRoles('carol', ['manager']);
    const retried = await carol.runtime.retryFailure(failure.id);
    expect(retried).toMatchObject({ status: 'applied', changeId: failure.changeId, object: { id } });
    expect(decode((await alice.getFile('Attachment', id))!.data)).toBe('from the manager');
    expect(await carol.runtime.listFailures()).toEqual([]);
    expect(await carol.runtime.failureFile(failure.id)).toBeUndefined();
    const local = await carol.runtime.store.getFile('Attachment', id);
    expect(decode(local!.data)).toBe('from the manager');
    // Stored as the server's version: the next sync neither uploads nor downloads them.
    carol.network.requests.length = 0;
    await carol.runtime.synchronize({ mode: 'all' });
    expect(carol.network.count(/\/api\/files\//)).toBe(0);
  });
});
