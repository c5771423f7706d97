import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime/Runtime.ts';
import { openStorage, type Storage, type SyncServer } from '../../src/server/index.ts';
import { createDemoSyncServer, demoUsers, seedDemoData } from '../../src/server/demo.ts';
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

/**
 * For a test file that starts its own worlds: the shared PGlite starts before its first test (not
 * inside that test's time limit) and closes after its last.
 */
export function useSharedStorage(): void {
  beforeAll(async () => void (await sharedStorage()), 120_000);
  afterAll(closeSharedStorage);
}

/**
 * The world of a test file, started before its tests (`scope: 'file'`, the default) or before each
 * test (`'test'`), with the demo app's data if `seed`; closed after them (after `beforeClose`, e.g.
 * closing the file's own devices), and the shared PGlite after the file. The World returned stands
 * for the one running: use it inside tests and hooks, not while the file is collected.
 */
export function useWorld(options: { scope?: 'file' | 'test'; seed?: boolean; beforeClose?: () => void | Promise<void> } = {}): World {
  let current: World | null = null;
  const start = async () => {
    current = await startWorld();
    if (options.seed) await seedDemoData(current.server);
  };
  const close = async () => {
    await options.beforeClose?.();
    await current?.close();
    current = null;
  };
  if (options.scope === 'test') {
    beforeEach(start);
    afterEach(close);
    afterAll(closeSharedStorage);
  } else {
    beforeAll(start);
    afterAll(async () => {
      await close();
      await closeSharedStorage();
    });
  }
  const world = (): World => {
    if (!current) throw new Error('useWorld: no world is running (use it inside a test or hook)');
    return current;
  };
  return {
    get url() {
      return world().url;
    },
    get storage() {
      return world().storage;
    },
    get server() {
      return world().server;
    },
    device: (user, deviceOptions) => world().device(user, deviceOptions),
    elsewhere: (user) => world().elsewhere(user),
    close: () => world().close(),
  };
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
