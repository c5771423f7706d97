/**
 * Uploads larger than the server takes in one request (its body limit): an app whose objects hold
 * long texts. The device sends them in as many requests as their size needs; a change too large
 * to be received at all becomes a SynchronizationFailure that keeps its data, instead of failing
 * every sync and holding every other change back.
 */
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineSchema } from '../../src/model/schema.ts';
import { createRuntime, type Runtime } from '../../src/runtime/Runtime.ts';
import { createSyncServer, type Storage, type SyncServer } from '../../src/server/index.ts';
import { sendInParts } from '../../src/sync/steps/sendInParts.ts';
import { TestNetwork } from '../support/TestNetwork.ts';
import { closeSharedStorage, sharedStorage } from '../support/world.ts';

const schema = defineSchema({ entities: { Note: { attributes: { body: { type: 'string' }, n: { type: 'integer' } } } } });
const LIMIT = 64 * 1024;
const run = `${process.pid}_${Date.now().toString(36)}`;
let storage: Storage;
let server: SyncServer;
let url: string;
let devices = 0;

beforeAll(async () => {
  storage = await (await sharedStorage()).withSchema(`large_${run}`);
  server = await createSyncServer({
    schema,
    storage,
    bodyLimit: LIMIT,
    access: { Note: { read: [{ scope: 'own' }], write: [{ scope: 'own' }] } },
    users: [{ id: 'ann', token: 'ann-secret-token', roles: [] }],
  });
  url = await server.listen({ port: 0 });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await closeSharedStorage();
});

async function device(): Promise<{ runtime: Runtime; network: TestNetwork }> {
  const network = new TestNetwork();
  const runtime = await createRuntime({ schema, serverUrl: url, token: 'ann-secret-token', user: 'ann', dbName: `large_${run}_${++devices}`, indexedDB, IDBKeyRange, fetch: network.fetch });
  return { runtime, network };
}

const serverNotes = async () =>
  (await storage.query<{ id: string; body: string; n: number }>(`SELECT id::text AS id, data->>'body' AS body, (data->>'n')::int AS n FROM sf_objects WHERE entity = 'Note' ORDER BY (data->>'n')::int`)).rows;

describe('uploads over the server body limit', () => {
  it('sends 200 notes of 2 KiB over a 64 KiB limit in several requests, and keeps a note too large for any request as a failure with its text', async () => {
    const { runtime, network } = await device();
    const session = runtime.session();
    const notes = Array.from({ length: 200 }, (_, n) => session.create('Note', { n, body: `${n}:`.padEnd(2048, 'x') }));
    const huge = session.create('Note', { n: 1000, body: 'é'.repeat(100_000) });
    await session.commit([...notes.slice(0, 100), huge, ...notes.slice(100)]);

    const result = await runtime.synchronize({ mode: 'unsynchronized' });
    expect(result.uploaded).toBe(200);
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]).toMatchObject({ objectId: huge.id, kind: 'create', reason: 'invalid', data: { body: 'é'.repeat(100_000), n: 1000 } });
    expect(result.failures[0].message).toMatch(/too large/);
    expect((await serverNotes()).map((r) => r.n)).toEqual(notes.map((_, n) => n));
    // Every other change went, in requests the server took; the huge one is kept, not pending.
    expect(network.requests.filter((r) => r.startsWith('POST /api/upload')).length).toBeGreaterThan(200 * 2048 / LIMIT);
    expect(await runtime.store.pendingCount()).toBe(0);
    expect((await runtime.store.get('Note', huge.id))?.body).toBe('é'.repeat(100_000));
    expect((await runtime.listFailures()).map((f) => f.objectId)).toEqual([huge.id]);

    // Not sent again by later syncs: nothing is pending.
    const before = network.bytesSent;
    await runtime.synchronize({ mode: 'unsynchronized' });
    expect(network.bytesSent - before).toBeLessThan(1024);

    // Given up: the never-received create goes from the device too.
    await runtime.dismissFailure(result.failures[0].id);
    expect(await runtime.listFailures()).toEqual([]);
    expect(await runtime.store.get('Note', huge.id)).toBeUndefined();
    runtime.close();
  });

  it('splits a part the server refuses as too large, whatever the device budget was', async () => {
    const { runtime } = await device();
    const session = runtime.session();
    const notes = Array.from({ length: 40 }, (_, n) => session.create('Note', { n: 2000 + n, body: 'y'.repeat(4000) }));
    await session.commit(notes);
    const requests = (await runtime.store.pendingChanges()).map((c) => ({ changeId: crypto.randomUUID(), entity: c.entity, id: c.id, kind: c.kind, data: { body: 'y'.repeat(4000), n: 0 } }));
    // A budget of 1 MiB: the first part (160 KB) is refused, halved until the server takes the parts.
    const answer = await sendInParts({ schema, store: runtime.store, client: runtime.client, config: {} }, requests, undefined, 1024 * 1024);
    expect(answer.results.map((r) => r.changeId)).toEqual(requests.map((r) => r.changeId));
    expect(answer.results.every((r) => r.status === 'applied')).toBe(true);
    runtime.close();
  });

  it('retries a too-large change: applied once the server takes it, still a failure while it does not', async () => {
    const { runtime } = await device();
    const session = runtime.session();
    const big = session.create('Note', { n: 3000, body: 'z'.repeat(70_000) });
    await session.commit(big);
    const [failure] = (await runtime.synchronize({ mode: 'unsynchronized' })).failures;
    expect(failure).toMatchObject({ objectId: big.id, reason: 'invalid' });

    const again = await runtime.retryFailure(failure.id);
    expect(again.status).toBe('failed');
    expect((await runtime.listFailures()).map((f) => f.objectId)).toEqual([big.id]);

    // The user shortens the text and retries: the retry sends what the device holds now.
    const shorter = runtime.session();
    await shorter.commit(shorter.change((await runtime.store.get('Note', big.id))!, { body: 'short now' }));
    const retried = await runtime.retryFailure(failure.id);
    expect(retried.status).toBe('applied');
    expect(await runtime.listFailures()).toEqual([]);
    expect((await serverNotes()).find((r) => r.n === 3000)?.body).toBe('short now');
    const synced = await runtime.synchronize({ mode: 'unsynchronized' });
    expect(synced.failures).toEqual([]);
    expect(await runtime.store.pendingCount()).toBe(0);
    runtime.close();
  });
});
