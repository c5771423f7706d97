import type { Schema } from '../model/schema.ts';
import { newId } from '../model/values.ts';
import { openStore } from '../store/openStore.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import type { Session } from '../store/Session.ts';
import type { Progress, SyncContext } from '../sync/SyncContext.ts';
import { Synchronizer, type SynchronizeOptions } from '../sync/Synchronizer.ts';
import type { SyncConfig, SyncRequest, SyncResult } from '../sync/types.ts';
import { SyncClient } from '../transport/SyncClient.ts';
import type { ChangeResult, SynchronizationFailure } from '../transport/wire.ts';

export interface RuntimeOptions {
  schema: Schema;
  /** The sync server, e.g. `http://127.0.0.1:4000`. */
  serverUrl: string;
  /** The user's bearer token. */
  token: string;
  /** Local database name; one per user and app (default derived from the server and token). */
  dbName?: string;
  /** Per-entity download settings of the all-objects mode (default: download all). */
  syncConfig?: SyncConfig;
  /** For Node: fake-indexeddb's `indexedDB` and `IDBKeyRange`. Browsers use their own. */
  indexedDB?: IDBFactory;
  IDBKeyRange?: typeof IDBKeyRange;
  /** Custom fetch (tests inject network faults with it). */
  fetch?: typeof fetch;
  onProgress?: (progress: Progress) => void;
}

/**
 * An app's embedded syncflow: the local offline database, the protocol client and the
 * Synchronize machines, wired together. Data flows one way: app or flow → runtime → sync
 * machine → store / client → server.
 *
 * @example
 * const runtime = await createRuntime({ schema, serverUrl: 'http://127.0.0.1:4000', token: 'alice-token' });
 * const session = runtime.session();
 * const task = session.create('Task', { title: 'Write the spec' });
 * await session.commit(task);
 * const result = await runtime.synchronize({ mode: 'unsynchronized' });
 */
export class Runtime {
  readonly synchronizer: Synchronizer;

  constructor(
    readonly schema: Schema,
    readonly store: LocalStore,
    readonly client: SyncClient,
    syncConfig: SyncConfig,
    onProgress?: (progress: Progress) => void,
  ) {
    const context: SyncContext = { schema, store, client, config: syncConfig, onProgress };
    this.synchronizer = new Synchronizer(context, store.db.name);
  }

  /** Live status of the synchronization (zustand store: subscribe / getState). */
  get status() {
    return this.synchronizer.status;
  }

  /** A unit of uncommitted work (create / change / commit / rollback). */
  session(): Session {
    return this.store.session();
  }

  /** Runs one synchronization; rejects with SimultaneousSyncError while another runs. */
  synchronize(request: SyncRequest, options?: SynchronizeOptions): Promise<SyncResult> {
    return this.synchronizer.synchronize(request, options);
  }

  /** The SynchronizationFailures kept on this device (the server keeps them too). */
  listFailures(): Promise<SynchronizationFailure[]> {
    return this.store.listFailures();
  }

  /**
   * Asks the server to apply a failed change again. On success the object comes back into
   * the local database and the failure is gone; otherwise the failure stays, with the
   * server's new message.
   */
  async retryFailure(id: string): Promise<ChangeResult> {
    const failure = (await this.store.listFailures()).find((f) => f.id === id);
    const { result } = await this.client.retryFailure(id);
    if (result.status === 'applied') {
      if (result.object && failure) await this.store.applyServerObjects(failure.entity, [result.object]);
      await this.store.deleteFailure(id);
    } else {
      await this.store.putFailures([result.failure]);
    }
    return result;
  }

  /** Gives up a failed change for good, on the server and on this device. */
  async dismissFailure(id: string): Promise<void> {
    await this.client.dismissFailure(id);
    await this.store.deleteFailure(id);
  }

  close(): void {
    this.synchronizer.cancel();
    this.store.close();
  }
}

/** Opens the local database and connects a runtime to the sync server. */
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const dbName = options.dbName ?? `syncflow:${new URL(options.serverUrl).host}:${await digest(options.token)}`;
  const store = await openStore({
    schema: options.schema,
    name: dbName,
    indexedDB: options.indexedDB,
    IDBKeyRange: options.IDBKeyRange,
  });
  let deviceId = await store.getMeta<string>('deviceId');
  if (!deviceId) {
    deviceId = newId();
    await store.setMeta('deviceId', deviceId);
  }
  const client = new SyncClient({ baseUrl: options.serverUrl, token: options.token, deviceId, fetch: options.fetch });
  return new Runtime(options.schema, store, client, options.syncConfig ?? {}, options.onProgress);
}

/** A short, stable name part for a token, without keeping the token itself in the name. */
async function digest(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(bytes.slice(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}
