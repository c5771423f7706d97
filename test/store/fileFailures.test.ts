import Dexie from 'dexie';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import type { LocalStore } from '../../src/store/LocalStore.ts';
import { FAILED_FILES, fingerprint, META, SCHEMA_KEY, storesFor } from '../../src/store/tables.ts';
import { failureFixture } from '../support/failures.ts';
import { freshName, fromServer, openTestStore } from './openTestStore.ts';

const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

const stores: LocalStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

async function storeWithAttachment(name = freshName()) {
  const store = await openTestStore({ name });
  stores.push(store);
  const attachment = fromServer({ name: 'a.txt', task: crypto.randomUUID(), size: null });
  await store.applyServerObjects('Attachment', [attachment]);
  await store.setMeta('deviceId', 'phone-1');
  await store.setMeta('user', 'alice');
  return { store, id: attachment.id };
}

describe('file failures in the local store', () => {
  it('refuseFile moves pending contents into a failure that keeps them, in one step', async () => {
    const { store, id } = await storeWithAttachment();
    await store.putFile('Attachment', id, text('refused'), 'text/plain');
    const { uploadId } = (await store.pendingFile('Attachment', id))!;

    const failure = await store.refuseFile('Attachment', id, uploadId, { reason: 'invalid', message: 'too large' });
    expect(failure).toMatchObject({ user: 'alice', device: 'phone-1', entity: 'Attachment', objectId: id, changeId: uploadId, kind: 'update', status: 'open', file: { size: 7, contentType: 'text/plain' } });
    expect(failure!.createdDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(await store.listFailures()).toEqual([failure]);
    expect(decode((await store.failureFile(failure!.id))!.data)).toBe('refused');
    expect(await store.pendingFiles()).toEqual([]);
    expect(await store.getFile('Attachment', id)).toBeUndefined();
  });

  it('refuseFile leaves contents attached again meanwhile pending (another upload id)', async () => {
    const { store, id } = await storeWithAttachment();
    await store.putFile('Attachment', id, text('first'), 'text/plain');
    const { uploadId } = (await store.pendingFile('Attachment', id))!;
    await store.putFile('Attachment', id, text('second'), 'text/plain');

    expect(await store.refuseFile('Attachment', id, uploadId, { reason: 'invalid', message: 'too large' })).toBeUndefined();
    expect(await store.listFailures()).toEqual([]);
    expect(decode((await store.pendingFile('Attachment', id))!.data)).toBe('second');
  });

  it('removing an object by force keeps its unsent contents as a failure; downloaded contents just go', async () => {
    const { store, id } = await storeWithAttachment();
    const other = fromServer({ name: 'b.txt', task: crypto.randomUUID(), size: null });
    await store.applyServerObjects('Attachment', [other]);
    await store.putFile('Attachment', id, text('unsent'), 'text/plain');
    await store.applyServerFile('Attachment', other.id, text('downloaded'), 'text/plain', other.changedDate as string);

    expect(await store.removeObjects('Attachment', [id, other.id], { force: true })).toBe(2);
    const [failure] = await store.listFailures();
    expect(failure).toMatchObject({ objectId: id, reason: 'inaccessible', file: { size: 6 } });
    expect(decode((await store.failureFile(failure.id))!.data)).toBe('unsent');
    expect(await store.getFile('Attachment', other.id)).toBeUndefined();
    expect(await store.db.table(FAILED_FILES).count()).toBe(1);
  });

  it('deleting a failure deletes the contents it keeps; other failures keep theirs', async () => {
    const { store, id } = await storeWithAttachment();
    await store.putFile('Attachment', id, text('x'), 'text/plain');
    const failure = (await store.refuseFile('Attachment', id, (await store.pendingFile('Attachment', id))!.uploadId, { reason: 'invalid', message: 'm' }))!;
    const plain = failureFixture();
    await store.putFailures([plain]);

    await store.deleteFailure(plain.id);
    expect(await store.failureFile(failure.id)).toBeDefined();
    await store.deleteFailure(failure.id);
    expect(await store.failureFile(failure.id)).toBeUndefined();
    expect(await store.db.table(FAILED_FILES).count()).toBe(0);
  });

  it('resolveFileFailure makes the kept contents the object\'s stored contents of the new version', async () => {
    const { store, id } = await storeWithAttachment();
    await store.putFile('Attachment', id, text('back'), 'text/plain');
    const failure = (await store.refuseFile('Attachment', id, (await store.pendingFile('Attachment', id))!.uploadId, { reason: 'inaccessible', message: 'm' }))!;

    await store.resolveFileFailure(failure.id, '2026-02-01T00:00:00.000001Z');
    expect(await store.listFailures()).toEqual([]);
    expect(await store.fileVersions('Attachment')).toEqual(new Map([[id, '2026-02-01T00:00:00.000001Z']]));
    expect(decode((await store.getFile('Attachment', id))!.data)).toBe('back');
  });

  it('a database made before the failed-files table opens at the next version with the table added and its data kept', async () => {
    const name = freshName();
    // The stores of the version before this table, as that version wrote them (with its fingerprint).
    const previous = storesFor(demoSchema);
    delete previous[FAILED_FILES];
    const old = new Dexie(name, { indexedDB, IDBKeyRange });
    old.version(3).stores(previous);
    await old.open();
    await old.table(META).put({ key: SCHEMA_KEY, value: fingerprint(previous) });
    await old.table('$files').put({ entity: 'Attachment', id: 'a1', data: text('pending before'), contentType: 'text/plain', version: '' });
    old.close();

    const store = await openTestStore({ name });
    stores.push(store);
    expect(store.db.verno).toBe(4);
    expect(store.db.tables.map((t) => t.name)).toContain(FAILED_FILES);
    expect(decode((await store.pendingFile('Attachment', 'a1'))!.data)).toBe('pending before');
  });
});
