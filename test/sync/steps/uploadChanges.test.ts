import { afterEach, describe, expect, it, vi } from 'vitest';
import { demoSchema } from '../../../src/demo/schema.ts';
import { NetworkError } from '../../../src/errors.ts';
import type { LocalStore } from '../../../src/store/LocalStore.ts';
import type { SyncContext } from '../../../src/sync/SyncContext.ts';
import { uploadChanges } from '../../../src/sync/steps/uploadChanges.ts';
import type { SyncClient } from '../../../src/transport/SyncClient.ts';
import type { ChangeRequest, ChangeResult } from '../../../src/transport/wire.ts';
import { openTestStore } from '../../store/openTestStore.ts';

let store: LocalStore;
afterEach(() => store?.close());

/**
 * A client whose upload answers every change as applied (with the server's version), after
 * checking what the store holds when the request goes out; `failOn` makes that call fail.
 */
function stubClient(options: { failOn?: number } = {}) {
  const calls: Array<{ ids: string[]; allPending: boolean; allMarkedSent: boolean }> = [];
  const client = {
    async upload(changes: ChangeRequest[]): Promise<{ results: ChangeResult[] }> {
      const pending = await store.pendingChanges();
      const byId = new Map(pending.map((c) => [c.id, c]));
      calls.push({
        ids: changes.map((c) => c.id),
        allPending: changes.every((c) => byId.has(c.id)),
        allMarkedSent: changes.every((c) => c.kind !== 'create' || byId.get(c.id)?.sent === true),
      });
      await new Promise((resolve) => setTimeout(resolve, 5)); // the answer takes a while
      if (calls.length === options.failOn) throw new NetworkError('the connection broke');
      const at = '2026-03-01T00:00:00.000Z';
      return {
        results: changes.map((c) => ({
          changeId: c.changeId,
          status: 'applied',
          object: { id: c.id, createdDate: at, changedDate: at, owner: 'alice', ...c.data, words: 7 },
        })),
      };
    },
  };
  return { client: client as unknown as SyncClient, calls };
}

async function withCreates(count: number) {
  store = await openTestStore();
  const session = store.session();
  return session.commit(Array.from({ length: count }, (_, i) => session.create('Task', { title: `task ${i}` })));
}

const contextOf = (client: SyncClient): SyncContext => ({ schema: demoSchema, store, client, config: {} });

describe('uploadChanges', () => {
  it('sends 1,000 changes per request in store order, each batch marked sent before it goes out, and applies every answer', async () => {
    const tasks = await withCreates(2500);
    const { client, calls } = stubClient();
    const changes = await store.pendingChanges();
    const outcome = await uploadChanges(contextOf(client), changes);

    expect(calls.map((c) => c.ids.length)).toEqual([1000, 1000, 500]);
    expect(calls.flatMap((c) => c.ids)).toEqual(changes.map((c) => c.id));
    expect(calls.every((c) => c.allMarkedSent)).toBe(true);
    // No confirmation before its answer: when a request goes out, all of its changes are still pending.
    expect(calls.every((c) => c.allPending)).toBe(true);
    expect(outcome.uploaded).toBe(2500);
    expect(outcome.applied).toHaveLength(2500);
    // Every answer carried its object and was stored: nothing is left for a refresh.
    expect(outcome.answered).toEqual(outcome.applied);
    expect(outcome.toRefresh).toEqual([]);
    expect(await store.pendingCount()).toBe(0);
    expect((await store.getMany('Task', tasks.map((t) => t.id))).every((o) => o?.words === 7 && o.owner === 'alice')).toBe(true);
  });

  it('when a request fails: earlier answers are applied, its batch and the later ones stay pending, and nothing is written after it threw', async () => {
    await withCreates(2500);
    const { client, calls } = stubClient({ failOn: 2 });
    const changes = await store.pendingChanges();
    await expect(uploadChanges(contextOf(client), changes)).rejects.toBeInstanceOf(NetworkError);

    const left = await store.pendingChanges();
    expect(left.map((c) => c.id)).toEqual(changes.slice(1000).map((c) => c.id));
    // The failed batch may be on the server: its creates stay marked as sent.
    const failed = new Set(calls[1].ids);
    expect(left.filter((c) => failed.has(c.id)).every((c) => c.sent)).toBe(true);
    expect(calls).toHaveLength(2);
    // Settled: a moment later the store is the same.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await store.pendingCount()).toBe(1500);
  });

  it('a retry after the failure sends the same change ids, and empties the queue', async () => {
    await withCreates(1500);
    const first = stubClient({ failOn: 1 });
    await expect(uploadChanges(contextOf(first.client), await store.pendingChanges())).rejects.toBeInstanceOf(NetworkError);
    const sentIds = new Set((await store.pendingChanges()).map((c) => c.changeId));
    const second = stubClient();
    const seen: string[] = [];
    const spy = { upload: async (changes: ChangeRequest[]) => (seen.push(...changes.map((c) => c.changeId)), second.client.upload(changes)) };
    await uploadChanges(contextOf(spy as unknown as SyncClient), await store.pendingChanges());
    expect(new Set(seen)).toEqual(sentIds);
    expect(await store.pendingCount()).toBe(0);
  });

  describe('with the listing watermark (listedAt)', () => {
    it('hands the watermark to confirm, and leaves what the checked path leaves', async () => {
      const tasks = await withCreates(30);
      const listed = await store.pendingChangesAt();
      const confirm = vi.spyOn(store, 'confirm');
      await uploadChanges(contextOf(stubClient().client), listed.changes, undefined, { listedAt: listed.seq });
      expect(confirm.mock.calls.map(([, options]) => options)).toEqual([{ listedAt: listed.seq }]);
      expect(await store.pendingCount()).toBe(0);
      expect((await store.getMany('Task', tasks.map((t) => t.id))).every((o) => o?.words === 7)).toBe(true);
    });

    it('a create deleted before its batch was marked as sent is not sent (its dropped record needs no seq)', async () => {
      const [gone, kept] = await withCreates(2);
      const listed = await store.pendingChangesAt();
      await store.session().delete(gone); // an unsent create: its record is dropped, the counter stays
      expect((await store.pendingChangesAt()).seq).toBe(listed.seq);
      const { client, calls } = stubClient();
      const outcome = await uploadChanges(contextOf(client), listed.changes, undefined, { listedAt: listed.seq });
      expect(calls.map((c) => c.ids)).toEqual([[kept.id]]);
      expect(outcome.uploaded).toBe(1);
      expect(await store.get('Task', gone.id)).toBeUndefined();
      expect(await store.pendingCount()).toBe(0);
    });

    it('a create deleted just after its object was read for the request becomes a delete, not a dropped create', async () => {
      const [task] = await withCreates(1);
      const listed = await store.pendingChangesAt();
      const read = store.getMany.bind(store);
      vi.spyOn(store, 'getMany').mockImplementationOnce(async (entity, ids) => {
        const objects = await read(entity, ids);
        await store.session().delete((await store.get('Task', task.id))!);
        return objects;
      });
      const { client, calls } = stubClient();
      await uploadChanges(contextOf(client), listed.changes, undefined, { listedAt: listed.seq });
      expect(calls.map((c) => c.ids)).toEqual([[task.id]]);
      // The create was marked as sent before the read: the delete is recorded (with a seq), and the answer does not bring the object back.
      expect(await store.get('Task', task.id)).toBeUndefined();
      expect(await store.pendingChange('Task', task.id)).toMatchObject({ kind: 'delete' });
    });

    it('a create deleted while its request is on the way becomes a delete (recorded with a seq: the checked path sees it)', async () => {
      const [task] = await withCreates(1);
      const listed = await store.pendingChangesAt();
      const { client } = stubClient();
      const deleting = {
        upload: async (changes: ChangeRequest[]) => {
          await store.session().delete((await store.get('Task', task.id))!);
          return client.upload(changes);
        },
      };
      await uploadChanges(contextOf(deleting as unknown as SyncClient), listed.changes, undefined, { listedAt: listed.seq });
      // The server has it now: the local delete must reach it, and the answer must not bring it back.
      expect(await store.get('Task', task.id)).toBeUndefined();
      expect(await store.pendingChange('Task', task.id)).toMatchObject({ kind: 'delete' });
    });
  });
});
