/**
 * A local offline database that outlives the process, for the CLI: fake-indexeddb (in memory)
 * loaded from a snapshot file when the run starts and written back when it ends.
 *
 * Why a snapshot: no maintained file-backed IndexedDB runs on Node 20 without a native build
 * (indexeddbshim needs Node 22, better-sqlite3 and canvas), and the runtime's store is
 * IndexedDB (Dexie). The snapshot is the raw IndexedDB content (every database of the factory:
 * version, object stores, indexes, records) in Node's structured-clone format (`v8.serialize`),
 * so it round-trips exactly what IndexedDB holds (Dates, Uint8Arrays, compound keys) and
 * bypasses Dexie's change tracking. A lock file keeps two runs from overwriting each other's
 * changes.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { SyncflowError } from '../errors.ts';

const FORMAT = 'syncflow-indexeddb-snapshot';
const FORMAT_VERSION = 1;

interface IndexSnapshot {
  name: string;
  keyPath: string | string[];
  unique: boolean;
  multiEntry: boolean;
}

interface StoreSnapshot {
  name: string;
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexes: IndexSnapshot[];
  keys: IDBValidKey[];
  values: unknown[];
}

interface DatabaseSnapshot {
  name: string;
  version: number;
  stores: StoreSnapshot[];
}

interface SnapshotFile {
  format: typeof FORMAT;
  version: number;
  savedAt: string;
  databases: DatabaseSnapshot[];
}

export interface PersistentIndexedDb {
  /** A fresh fake-indexeddb factory holding the snapshot's databases. */
  indexedDB: IDBFactory;
  IDBKeyRange: typeof IDBKeyRange;
  file: string;
  /** Whether the snapshot file existed (false: this run starts with an empty database). */
  restored: boolean;
  /** Writes every database of the factory to the file (atomically: a temp file, then rename). */
  save(): Promise<void>;
  /** Releases the lock; save first. */
  release(): Promise<void>;
}

/**
 * Opens the snapshot `file` (creating its folder): takes its lock, loads its databases into a
 * new fake-indexeddb factory. Throws `conflict` while another live process holds the lock.
 *
 * @example
 * const db = await openPersistentIndexedDb('.syncflow/alice.idb');
 * const runtime = await createRuntime({ ..., indexedDB: db.indexedDB, IDBKeyRange: db.IDBKeyRange });
 * // ... run flows ...
 * runtime.close();
 * await db.save();
 * await db.release();
 */
export async function openPersistentIndexedDb(file: string): Promise<PersistentIndexedDb> {
  await mkdir(dirname(file), { recursive: true });
  const releaseLock = await lock(`${file}.lock`);
  try {
    const factory = new IDBFactory();
    let restored = false;
    let bytes: Buffer | null = null;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (bytes) {
      await restore(factory, parseSnapshot(bytes, file));
      restored = true;
    }
    return {
      indexedDB: factory,
      IDBKeyRange,
      file,
      restored,
      async save() {
        const snapshot: SnapshotFile = { format: FORMAT, version: FORMAT_VERSION, savedAt: new Date().toISOString(), databases: await dumpAll(factory) };
        const temp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
        await writeFile(temp, serialize(snapshot));
        await rename(temp, file);
      },
      release: releaseLock,
    };
  } catch (e) {
    await releaseLock();
    throw e;
  }
}

function parseSnapshot(bytes: Buffer, file: string): SnapshotFile {
  let snapshot: Partial<SnapshotFile> | null = null;
  try {
    snapshot = deserialize(bytes) as Partial<SnapshotFile>;
  } catch {
    // reported below
  }
  if (snapshot?.format !== FORMAT || !Array.isArray(snapshot.databases)) {
    throw new SyncflowError('validation_failed', `${file} is not a syncflow local database snapshot (delete it to start with an empty local database)`);
  }
  if (snapshot.version !== FORMAT_VERSION) {
    throw new SyncflowError('validation_failed', `${file} is a snapshot of format version ${snapshot.version}; this syncflow reads version ${FORMAT_VERSION}`);
  }
  return snapshot as SnapshotFile;
}

/** Lock files this process holds (a pid alone cannot tell two opens in one process apart). */
const held = new Set<string>();

/** A lock file holding the owner's pid; a lock whose process is gone is taken over. */
async function lock(path: string): Promise<() => Promise<void>> {
  const file = path.slice(0, -'.lock'.length);
  if (held.has(path)) throw new SyncflowError('conflict', `The local database ${file} is already open in this process`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      held.add(path);
      return async () => {
        if (!held.delete(path)) return;
        // Only our own lock: a run that took over a lock it thought stale keeps its own.
        if ((await readFile(path, 'utf8').catch(() => '')) === String(process.pid)) await rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      // Our own pid in a lock we do not hold is a dead process's whose pid came back: stale.
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new SyncflowError('conflict', `The local database ${file} is in use by another syncflow run (process ${owner})`);
      }
      await rm(path, { force: true });
    }
  }
  throw new SyncflowError('conflict', `Could not lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// -- IndexedDB plumbing ---------------------------------------------------------------------------

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDb(factory: IDBFactory, name: string, version?: number, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = version === undefined ? factory.open(name) : factory.open(name, version);
    req.onupgradeneeded = () => upgrade?.(req.result);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new SyncflowError('conflict', `The local database ${name} is open elsewhere`));
  });
}

async function dumpAll(factory: IDBFactory): Promise<DatabaseSnapshot[]> {
  const out: DatabaseSnapshot[] = [];
  for (const { name } of await factory.databases()) {
    if (name) out.push(await dump(factory, name));
  }
  return out;
}

async function dump(factory: IDBFactory, name: string): Promise<DatabaseSnapshot> {
  const db = await openDb(factory, name);
  try {
    const names = Array.from(db.objectStoreNames);
    const stores: StoreSnapshot[] = [];
    if (names.length) {
      // One read transaction over every store: the snapshot is consistent.
      const tx = db.transaction(names, 'readonly');
      for (const storeName of names) {
        const store = tx.objectStore(storeName);
        const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
        stores.push({
          name: storeName,
          keyPath: store.keyPath as string | string[] | null,
          autoIncrement: store.autoIncrement,
          indexes: Array.from(store.indexNames, (n) => {
            const index = store.index(n);
            return { name: n, keyPath: index.keyPath as string | string[], unique: index.unique, multiEntry: index.multiEntry };
          }),
          keys,
          values,
        });
      }
    }
    return { name, version: db.version, stores };
  } finally {
    db.close();
  }
}

async function restore(factory: IDBFactory, snapshot: SnapshotFile): Promise<void> {
  for (const database of snapshot.databases) {
    const db = await openDb(factory, database.name, database.version, (created) => {
      for (const s of database.stores) {
        const store = created.createObjectStore(s.name, { keyPath: s.keyPath, autoIncrement: s.autoIncrement });
        for (const index of s.indexes) store.createIndex(index.name, index.keyPath, { unique: index.unique, multiEntry: index.multiEntry });
        // The upgrade transaction may write every store: the records go in with the schema.
        s.values.forEach((value, i) => (s.keyPath === null ? store.put(value, s.keys[i]) : store.put(value)));
      }
    });
    db.close();
  }
}
