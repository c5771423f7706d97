import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { demoSchema } from '../../src/demo/schema.ts';
import { createRuntime, type Runtime } from '../../src/runtime/Runtime.ts';
import { demoUsers } from '../../src/server/demo.ts';
import type { SyncConfig } from '../../src/sync/types.ts';

let devices = 0;

/** The bearer token of a demo user. */
export function tokenOf(user: string): string {
  const u = demoUsers.find((d) => d.id === user);
  if (!u) throw new Error(`no demo user ${user}`);
  return u.token;
}

/**
 * A device as an app embeds syncflow in Node: createRuntime over fake-indexeddb, talking to the
 * sync server over real HTTP. `dispose()` closes it and deletes its database, so repetitions
 * do not pile up databases in fake-indexeddb's (in-memory) storage.
 */
export interface BenchDevice {
  runtime: Runtime;
  dbName: string;
  dispose(): Promise<void>;
}

export async function openDevice(serverUrl: string, options: { user?: string; syncConfig?: SyncConfig } = {}): Promise<BenchDevice> {
  const dbName = `bench-device-${process.pid}-${++devices}`;
  const runtime = await createRuntime({
    schema: demoSchema,
    serverUrl,
    token: tokenOf(options.user ?? 'alice'),
    dbName,
    syncConfig: options.syncConfig,
    indexedDB,
    IDBKeyRange,
  });
  return {
    runtime,
    dbName,
    async dispose() {
      runtime.close();
      await deleteDatabase(dbName);
    },
  };
}

/** Deletes a fake-indexeddb database (frees its memory). */
export function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error);
    req.onblocked = () => resolve();
  });
}

/** A sync configuration of the all-objects mode that downloads only `entities`. */
export function onlyEntities(...entities: string[]): SyncConfig {
  return Object.fromEntries(demoSchema.order.map((e) => [e, entities.includes(e) ? { download: 'all' } : { download: 'nothing' }]));
}
