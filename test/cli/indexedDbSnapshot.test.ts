import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPersistentIndexedDb } from '../../src/cli/indexedDbSnapshot.ts';
import { demoSchema } from '../../src/demo/schema.ts';
import { SyncflowError } from '../../src/errors.ts';
import { openStore } from '../../src/store/openStore.ts';
import { failureFixture } from '../support/failures.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'syncflow-snapshot-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function openDemoStore(file: string) {
  const db = await openPersistentIndexedDb(file);
  const store = await openStore({ schema: demoSchema, name: 'app', indexedDB: db.indexedDB, IDBKeyRange: db.IDBKeyRange });
  return { db, store };
}

describe('openPersistentIndexedDb', () => {
  it('keeps a local database between processes: objects, pending changes, files, failures and metadata', async () => {
    const file = join(dir, 'nested', 'alice.idb');
    const first = await openDemoStore(file);
    expect(first.db.restored).toBe(false);
    const session = first.store.session();
    const [project] = await session.commit(session.create('Project', { name: 'Website' }));
    const [task] = await session.commit(session.create('Task', { title: 'Draft', project: project.id, due: '2030-01-01T00:00:00.000Z' }));
    const [attachment] = await session.commit(session.create('Attachment', { name: 'a.bin', task: task.id }));
    const bytes = new Uint8Array([0, 1, 2, 254, 255]);
    await first.store.putFile('Attachment', attachment.id, bytes, 'application/octet-stream');
    const failure = failureFixture({ device: 'd', objectId: task.id, data: { title: 'x' }, reason: 'rejected', message: 'no', createdDate: '2030-01-01T00:00:00.000Z' });
    await first.store.putFailures([failure]);
    await first.store.setMeta('deviceId', 'device-1');
    const pending = await first.store.pendingChanges();
    first.store.close();
    await first.db.save();
    await first.db.release();

    const second = await openDemoStore(file);
    try {
      expect(second.db.restored).toBe(true);
      expect(await second.store.get('Task', task.id)).toEqual(task);
      expect(await second.store.referrers('Task', 'project', project.id)).toEqual([task]);
      // Restoring writes below Dexie's change tracking: the same pending changes, no new ones.
      expect(await second.store.pendingChanges()).toEqual(pending);
      expect(pending.map((c) => c.id).sort()).toEqual([project.id, task.id, attachment.id].sort());
      expect(await second.store.getFile('Attachment', attachment.id)).toEqual({ data: bytes, contentType: 'application/octet-stream' });
      expect(await second.store.listFailures()).toEqual([failure]);
      expect(await second.store.getMeta('deviceId')).toBe('device-1');
    } finally {
      second.store.close();
      await second.db.release();
    }
  });

  it('refuses a file that is not a snapshot, and leaves no lock behind', async () => {
    const file = join(dir, 'broken.idb');
    await writeFile(file, 'not a snapshot');
    const error = await openPersistentIndexedDb(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncflowError);
    expect(error).toMatchObject({ code: 'validation_failed', message: `${file} is not a syncflow local database snapshot (delete it to start with an empty local database)` });
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('is used by one run at a time; the lock of a process that is gone is taken over', async () => {
    const file = join(dir, 'shared.idb');
    const first = await openPersistentIndexedDb(file);
    await expect(openPersistentIndexedDb(file)).rejects.toMatchObject({ code: 'conflict', message: `The local database ${file} is already open in this process` });
    await first.release();
    expect(existsSync(`${file}.lock`)).toBe(false);

    // Another live process (vitest's parent) holds it.
    await writeFile(`${file}.lock`, String(process.ppid));
    await expect(openPersistentIndexedDb(file)).rejects.toMatchObject({
      code: 'conflict',
      message: `The local database ${file} is in use by another syncflow run (process ${process.ppid})`,
    });
    // A run that died (a pid no process has) left it.
    await writeFile(`${file}.lock`, '2147483646');
    const taken = await openPersistentIndexedDb(file);
    expect(taken.restored).toBe(false);
    await taken.release();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});
