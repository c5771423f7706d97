import fc from 'fast-check';
import type { DBCore } from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncObject } from '../../src/model/values.ts';
import type { LocalStore } from '../../src/store/LocalStore.ts';
import { CHANGES, META, SEQ_KEY } from '../../src/store/tables.ts';
import type { Confirmation, LocalChange } from '../../src/store/types.ts';
import { fuzzParameters } from '../support/fuzz.ts';
import { fromServer, openTestStore } from './openTestStore.ts';

const opened: LocalStore[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

/**
 * A store whose reads of change records are counted (keys asked of the `$changes` table through
 * DBCore, by `get` and `getMany`): a middleware above the change tracking, so only the store's
 * own reads count, not those the tracking makes for a commit.
 */
async function countingStore(): Promise<{ store: LocalStore; reads: { keys: number } }> {
  const store = await openTestStore();
  opened.push(store);
  const reads = { keys: 0 };
  store.db.use({
    stack: 'dbcore',
    name: 'CountChangeReads',
    level: 20,
    create: (down: DBCore): DBCore => ({
      ...down,
      table(name) {
        const table = down.table(name);
        if (name !== CHANGES) return table;
        return {
          ...table,
          get: (req) => ((reads.keys += 1), table.get(req)),
          getMany: (req) => ((reads.keys += req.keys.length), table.getMany(req)),
        };
      },
    }),
  });
  // Dexie builds its middleware stack when the database opens.
  store.db.close();
  await store.db.open();
  return { store, reads };
}

const at = '2026-03-01T00:00:00.000Z';
const serverVersion = (id: string, values: Record<string, unknown>): SyncObject => ({ id, createdDate: at, changedDate: at, owner: 'alice', ...values });

/** Commits through the change tracking with raw writes (same ids in every store). */
const put = (store: LocalStore, row: Record<string, unknown>) => store.db.table('Task').put(row);
const remove = (store: LocalStore, id: string) => store.db.table('Task').delete(id);

/** What a confirmation leaves: rows, change records (their random change ids aside) and the store's own metadata. */
async function tables(store: LocalStore) {
  const rows = (await store.db.table('Task').toArray()).sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const changes = ((await store.db.table(CHANGES).toArray()) as LocalChange[])
    .map(({ changeId: _, ...c }) => c)
    .sort((a, b) => a.id.localeCompare(b.id));
  const meta = (await store.db.table(META).toArray()).map((m: { key: string; value: unknown }) =>
    Array.isArray(m.value) ? { ...m, value: [...m.value].sort() } : m,
  );
  return { rows, changes, meta };
}

/** Three server tasks; an update of two, a delete of the third and two creates, committed. */
async function scenario(store: LocalStore) {
  const server = [0, 1, 2].map((i) => ({ ...fromServer({ title: `server ${i}` }), id: `00000000-0000-4000-8000-00000000000${i}` }));
  await store.applyServerObjects('Task', server);
  await put(store, { ...server[0], done: true });
  await put(store, { ...server[1], estimate: 3 });
  await remove(store, server[2].id);
  await put(store, { id: '00000000-0000-4000-8000-0000000000a1', title: 'new one' });
  await put(store, { id: '00000000-0000-4000-8000-0000000000a2', title: 'new two' });
  const listed = await store.pendingChangesAt();
  await store.markSent(listed.changes);
  return { ...listed, server };
}

/** The server's answer to each listed change: its object (a create or update) or null (a delete). */
const answers = (changes: LocalChange[]): Confirmation[] =>
  changes.map((c) => ({ entity: c.entity, id: c.id, seq: c.seq, object: c.kind === 'delete' ? null : serverVersion(c.id, { title: `as stored ${c.id.slice(-2)}`, words: 2 }) }));

describe('confirm with the listing watermark (listedAt)', () => {
  it('reads no change record when nothing was committed since the listing, and leaves what the checked path leaves', async () => {
    const fast = await countingStore();
    const checked = await countingStore();
    const a = await scenario(fast.store);
    const b = await scenario(checked.store);
    expect(a.seq).toBe(b.seq);
    expect(a.seq).toBe((await fast.store.db.table(META).get(SEQ_KEY)).value);
    fast.reads.keys = 0;
    checked.reads.keys = 0;

    const tookFast = await fast.store.confirm(answers(a.changes), { listedAt: a.seq });
    const tookChecked = await checked.store.confirm(answers(b.changes));
    expect(fast.reads.keys).toBe(0);
    expect(checked.reads.keys).toBe(5);
    expect(tookFast).toEqual(tookChecked);
    expect(tookFast).toEqual(a.changes.map((c) => c.kind !== 'delete'));
    expect(await tables(fast.store)).toEqual(await tables(checked.store));
    expect(await fast.store.pendingCount()).toBe(0);
    expect((await fast.store.get('Task', a.server[0].id))!.title).toBe('as stored 00');
  });

  it('reads the records again when the same object was committed meanwhile, and keeps the newer change', async () => {
    const { store, reads } = await countingStore();
    const { changes, seq, server } = await scenario(store);
    await put(store, { ...(await store.get('Task', server[0].id))!, estimate: 7 });
    reads.keys = 0;

    const took = await store.confirm(answers(changes), { listedAt: seq });
    expect(reads.keys).toBe(5);
    expect(took).toEqual(changes.map((c) => c.kind !== 'delete' && c.id !== server[0].id));
    expect(await store.pendingChanges()).toEqual([expect.objectContaining({ id: server[0].id, kind: 'update', changed: ['done', 'estimate'] })]);
    // The newer local values stay; only the system attributes come from the server.
    expect(await store.get('Task', server[0].id)).toMatchObject({ title: 'server 0', done: true, estimate: 7, changedDate: at });
  });

  it('reads the records again when another object was committed meanwhile, and keeps that change', async () => {
    const { store, reads } = await countingStore();
    const { changes, seq } = await scenario(store);
    const other = '00000000-0000-4000-8000-0000000000b1';
    await put(store, { id: other, title: 'made during the upload' });
    reads.keys = 0;

    const took = await store.confirm(answers(changes), { listedAt: seq });
    expect(reads.keys).toBe(5);
    expect(took).toEqual(changes.map((c) => c.kind !== 'delete'));
    expect((await store.pendingChanges()).map((c) => [c.id, c.kind])).toEqual([[other, 'create']]);
  });

  it('reads only the records of partly uploaded changes on the fast path', async () => {
    const { store, reads } = await countingStore();
    const { seq, server } = await scenario(store);
    await put(store, { ...(await store.get('Task', server[1].id))!, title: 'renamed too' });
    const listed = await store.pendingChangesAt();
    const update = listed.changes.find((c) => c.id === server[1].id)!;
    reads.keys = 0;

    const partial: Confirmation = { entity: 'Task', id: update.id, seq: update.seq, object: serverVersion(update.id, { title: 'renamed too', estimate: null }), remaining: ['estimate'] };
    const rest = answers(listed.changes.filter((c) => c.id !== update.id));
    expect(await store.confirm([partial, ...rest], { listedAt: listed.seq })).toEqual([false, ...rest.map((c) => c.object !== null)]);
    expect(listed.seq).toBeGreaterThan(seq);
    expect(reads.keys).toBe(1);
    expect(await store.pendingChanges()).toEqual([expect.objectContaining({ id: update.id, kind: 'update', changed: ['estimate'] })]);
    expect(await store.get('Task', update.id)).toMatchObject({ title: 'renamed too', estimate: 3 });
  });

  it('property: with any local commits and deletes between listing and confirm, the fast and checked paths leave identical tables', async () => {
    const ids = Array.from({ length: 4 }, (_, i) => `00000000-0000-4000-8000-0000000001${String(i).padStart(2, '0')}`);
    type Op = { kind: 'edit' | 'delete' | 'create'; object: number; value: number };
    const op: fc.Arbitrary<Op> = fc.record({ kind: fc.constantFrom('edit', 'delete', 'create'), object: fc.integer({ min: 0, max: ids.length - 1 }), value: fc.integer({ min: 0, max: 3 }) });
    // Often no commit at all between listing and confirm: the fast path's own cases.
    const few = fc.oneof({ weight: 2, arbitrary: fc.constant<Op[]>([]) }, { weight: 1, arbitrary: fc.array(op, { minLength: 1, maxLength: 3 }) });
    const plan = fc.record({
      onServer: fc.array(fc.boolean(), { minLength: ids.length, maxLength: ids.length }),
      before: fc.array(op, { minLength: 2, maxLength: 8 }),
      // between the listing and the marking of the creates as sent (uploadChanges reads the objects after)
      unmarked: few,
      // after: while the request is on its way
      during: few,
      unreadable: fc.array(fc.boolean(), { minLength: ids.length, maxLength: ids.length }),
      partial: fc.array(fc.boolean(), { minLength: ids.length, maxLength: ids.length }),
    });
    const apply = async (store: LocalStore, ops: Op[]) => {
      for (const o of ops) {
        const id = ids[o.object];
        const row = await store.get('Task', id);
        if (o.kind === 'edit' && row) await put(store, { ...row, estimate: o.value });
        else if (o.kind === 'delete' && row) await remove(store, id);
        else if (o.kind === 'create' && !row) await put(store, { id, title: `created ${o.value}` });
      }
    };
    await fc.assert(
      fc.asyncProperty(plan, async (p) => {
        const run = async (withWatermark: boolean) => {
          const { store, reads } = await countingStore();
          await store.applyServerObjects('Task', ids.flatMap((id, i) => (p.onServer[i] ? [serverVersion(id, { title: `server ${i}` })] : [])));
          await apply(store, p.before);
          const listed = await store.pendingChangesAt();
          await apply(store, p.unmarked);
          await store.markSent(listed.changes);
          // What uploadChanges sends: deletes, and the creates and updates whose object is still there.
          const rows = await store.getMany('Task', listed.changes.map((c) => c.id));
          const sent = listed.changes.filter((c, i) => c.kind === 'delete' || rows[i]);
          await apply(store, p.during);
          const moved = (await store.db.table(META).get(SEQ_KEY))?.value !== listed.seq;
          const confirmations = sent.map((c): Confirmation => {
            const i = ids.indexOf(c.id);
            if (c.kind === 'delete') return { entity: 'Task', id: c.id, seq: c.seq, object: null };
            const object = p.unreadable[i] ? null : serverVersion(c.id, { title: `answered ${i}`, estimate: 9 });
            const remaining = c.kind === 'update' && p.partial[i] && c.changed.length ? { remaining: c.changed.slice(0, 1) } : {};
            return { entity: 'Task', id: c.id, seq: c.seq, object, ...remaining };
          });
          reads.keys = 0;
          const took = await store.confirm(confirmations, withWatermark ? { listedAt: listed.seq } : {});
          const partlyUploaded = confirmations.filter((c) => c.remaining?.length).length;
          expect(reads.keys).toBe(withWatermark && !moved ? partlyUploaded : confirmations.length);
          const result = { took, tables: await tables(store) };
          store.close();
          return result;
        };
        expect(await run(true)).toEqual(await run(false));
      }),
      fuzzParameters({ runs: 60, soakRuns: 2000 }),
    );
  });

  it('without a watermark (changes listed another way) every record is read, as before', async () => {
    const { store, reads } = await countingStore();
    const { changes } = await scenario(store);
    reads.keys = 0;
    await store.confirm(answers(changes));
    expect(reads.keys).toBe(5);
    expect(await store.pendingCount()).toBe(0);
  });
});
