import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { defineSchema } from '../../src/model/schema.ts';
import { newId } from '../../src/model/values.ts';
import type { LocalStore } from '../../src/store/LocalStore.ts';
import { openStore } from '../../src/store/openStore.ts';
import { freshName, fromServer, openTestStore } from './openTestStore.ts';

const open: LocalStore[] = [];
afterEach(() => open.splice(0).forEach((s) => s.close()));
async function openAt(name: string, schema = demoSchema) {
  const store = await openTestStore({ name, schema });
  open.push(store);
  return store;
}

describe('openStore', () => {
  it('keeps everything across close and reopen', async () => {
    const name = freshName();
    const first = await openAt(name);
    const session = first.session();
    const [task] = await session.commit(session.create('Task', { title: 'persisted' }));
    const server = fromServer({ title: 'from server' });
    await first.applyServerObjects('Task', [server], { tag: 'run-1' });
    await first.session().delete((await first.get('Task', server.id))!);
    await first.putFailures([{ id: 'f1', user: 'alice', device: 'd', entity: 'Task', objectId: newId(), changeId: newId(), kind: 'update', data: {}, reason: 'rejected', message: 'no', status: 'open', createdDate: '2026-01-01T00:00:00.000Z' }]);
    await first.putFile('Attachment', task.id, new Uint8Array([7]), 'application/octet-stream');
    await first.setMeta('deviceId', 'device-1');
    const changesBefore = await first.pendingChanges();
    const version = first.db.verno;
    first.close();

    const again = await openAt(name);
    expect(again.db.verno).toBe(version); // same schema: no upgrade
    expect(await again.get('Task', task.id)).toEqual(task);
    expect(await again.get('Task', server.id)).toBeUndefined();
    expect(await again.pendingChanges()).toEqual(changesBefore);
    expect((await again.listFailures()).map((f) => f.id)).toEqual(['f1']);
    expect((await again.getFile('Attachment', task.id))!.data).toEqual(new Uint8Array([7]));
    expect(await again.getMeta('deviceId')).toBe('device-1');
    // The seq counter goes on where it stopped.
    const s2 = again.session();
    const [next] = await s2.commit(s2.create('Project', { name: 'p' }));
    expect((await again.pendingChange('Project', next.id))!.seq).toBeGreaterThan(Math.max(...changesBefore.map((c) => c.seq)));
  });

  it('upgrades the database when the schema changes, keeping the data', async () => {
    const name = freshName();
    const v1 = defineSchema({ entities: { Note: { attributes: { text: { type: 'string' } } } } });
    const before = await openAt(name, v1);
    const session = before.session();
    const [note] = await session.commit(session.create('Note', { text: 'hello' }));
    const version = before.db.verno;
    before.close();

    const v2 = defineSchema({
      entities: {
        Folder: { attributes: { title: { type: 'string' } } },
        Note: { attributes: { text: { type: 'string' }, pinned: { type: 'boolean' } }, associations: { folder: { target: 'Folder' } } },
      },
    });
    const after = await openAt(name, v2);
    expect(after.db.verno).toBe(version + 1);
    expect(await after.get('Note', note.id)).toMatchObject({ text: 'hello', pinned: null, folder: null });
    const s = after.session();
    const folder = s.create('Folder', { title: 'f' });
    await s.commit([folder, s.change(note, { folder: folder.id })]);
    expect((await after.referrers('Note', 'folder', folder.id)).map((n) => n.id)).toEqual([note.id]);
    expect(await after.pendingChange('Note', note.id)).toMatchObject({ kind: 'create' });
  });

  it('opens at a version given explicitly', async () => {
    const store = await openStore({ schema: demoSchema, name: freshName(), indexedDB, IDBKeyRange, version: 7 });
    open.push(store);
    expect(store.db.verno).toBe(7);
  });

  it('shares committed work between two connections (as two tabs do)', async () => {
    const name = freshName();
    const tab1 = await openAt(name);
    const tab2 = await openAt(name);
    const s1 = tab1.session();
    const [task] = await s1.commit(s1.create('Task', { title: 'from tab 1' }));
    const s2 = tab2.session();
    const [project] = await s2.commit(s2.create('Project', { name: 'from tab 2' }));
    expect((await tab2.get('Task', task.id))!.title).toBe('from tab 1');
    const seqs = (await tab1.pendingChanges()).map((c) => c.seq);
    expect(seqs).toHaveLength(2);
    expect(new Set(seqs).size).toBe(2);
    expect((await tab1.pendingChange('Project', project.id))!.seq).toBeGreaterThan((await tab1.pendingChange('Task', task.id))!.seq);
  });
});
