import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { demoSchema } from '../../src/demo/schema.ts';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime/Runtime.ts';
import { openStorage, type Storage, type SyncServer } from '../../src/server/index.ts';
import { createDemoSyncServer, demoUsers } from '../../src/server/demo.ts';
import type { SyncConfig } from '../../src/sync/types.ts';
import { SyncClient } from '../../src/transport/SyncClient.ts';
import type { ChangeRequest } from '../../src/transport/wire.ts';
import { TestNetwork } from './TestNetwork.ts';

let shared: Promise<Storage> | null = null;
let counter = 0;
const run = `${process.pid}_${Date.now().toString(36)}`;

/** One embedded PGlite per test file (it takes seconds to start); tests are isolated by SQL schema. */
export function sharedStorage(): Promise<Storage> {
  shared ??= openStorage({});
  return shared;
}

export async function closeSharedStorage(): Promise<void> {
  if (shared) await (await shared).close();
  shared = null;
}

export interface World {
  url: string;
  /** The server's storage (its own SQL schema), for changes no client could make. */
  storage: Storage;
  server: SyncServer;
  /** A device of `user` (default alice) with its own offline database and a fault-injecting network. */
  device(user?: string, options?: { syncConfig?: SyncConfig; dbName?: string; files?: RuntimeOptions['files'] }): Promise<Device>;
  /** Talks to the server as another device of `user`, for changes made "elsewhere". */
  elsewhere(user: string): Elsewhere;
  close(): Promise<void>;
}

export interface Device {
  runtime: Runtime;
  network: TestNetwork;
}

export interface Elsewhere {
  client: SyncClient;
  upload(changes: Array<Omit<ChangeRequest, 'changeId'>>): ReturnType<SyncClient['upload']>;
  get(entity: string, id: string): Promise<Record<string, unknown> | null>;
  ids(entity: string): Promise<string[]>;
}

/**
 * A real sync server (demo app: schema, access rules, event handlers, users) on an ephemeral
 * port over the shared PGlite, in a schema of its own.
 */
export async function startWorld(): Promise<World> {
  const storage = await sharedStorage();
  const schemaName = `w_${run}_${++counter}`;
  const own = await storage.withSchema(schemaName);
  const server = await createDemoSyncServer(own);
  const url = await server.listen({ port: 0 });
  const runtimes: Runtime[] = [];
  let deviceCount = 0;

  const elsewhere = (user: string): Elsewhere => {
    const token = demoUsers.find((u) => u.id === user)!.token;
    const client = new SyncClient({ baseUrl: url, token, deviceId: `elsewhere-${user}` });
    return {
      client,
      upload: (changes) => client.upload(changes.map((c) => ({ ...c, changeId: crypto.randomUUID() }))),
      get: async (entity, id) => (await client.fetchObjects(entity, [id])).objects[0] ?? null,
      ids: async (entity) => {
        const out: string[] = [];
        let after: string | null = null;
        do {
          const page = await client.ids({ entity, after });
          out.push(...page.ids);
          after = page.next;
        } while (after);
        return out;
      },
    };
  };

  return {
    url,
    storage: own,
    server,
    elsewhere,
    async device(user = 'alice', options = {}) {
      const network = new TestNetwork();
      const token = demoUsers.find((u) => u.id === user)!.token;
      const runtime = await createRuntime({
        schema: demoSchema,
        serverUrl: url,
        token,
        dbName: options.dbName ?? `${schemaName}_${user}_${++deviceCount}`,
        syncConfig: options.syncConfig,
        files: options.files,
        indexedDB,
        IDBKeyRange,
        fetch: network.fetch,
      });
      runtimes.push(runtime);
      return { runtime, network };
    },
    async close() {
      for (const r of runtimes) r.close();
      await server.close();
    },
  };
}
