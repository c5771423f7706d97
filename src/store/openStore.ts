import Dexie from 'dexie';
import { changeTracking } from './changeTracking.ts';
import { LocalStore } from './LocalStore.ts';
import { CHANGES, fingerprint, META, SCHEMA_KEY, storesFor } from './tables.ts';
import type { StoreOptions } from './types.ts';

/**
 * Opens (creating or upgrading) the local offline database of an app schema.
 *
 * The tables follow the schema (one per entity, indexed on `changedDate`, `$tag` and every
 * association) plus `$changes`, `$failures`, `$files` and `$meta`. The Dexie version is derived:
 * the stores spec's fingerprint is kept in `$meta`; when the installed database has the same
 * fingerprint it opens at its installed version, otherwise at the installed version + 1, which
 * makes Dexie add and drop tables and indexes to match. Pass `version` to manage it yourself.
 *
 * @example
 * import { IDBKeyRange, indexedDB } from 'fake-indexeddb'; // Node; browsers need neither
 * const store = await openStore({ schema: demoSchema, name: 'syncflow-demo', indexedDB, IDBKeyRange });
 */
export async function openStore(options: StoreOptions): Promise<LocalStore> {
  const deps: Deps = {};
  if (options.indexedDB) deps.indexedDB = options.indexedDB;
  if (options.IDBKeyRange) deps.IDBKeyRange = options.IDBKeyRange;
  const stores = storesFor(options.schema);
  const print = fingerprint(stores);
  const version = options.version ?? (await derivedVersion(options.name, print, deps));

  // Dexie's liveQuery stays silent unless Dexie knows a global IndexedDB (browsers have one): in
  // Node the store's own factory stands in, so live queries (useLiveQuery, journal.onChange) work there too.
  if (deps.indexedDB && deps.IDBKeyRange && !Dexie.dependencies.indexedDB) {
    Dexie.dependencies.indexedDB = deps.indexedDB;
    Dexie.dependencies.IDBKeyRange = deps.IDBKeyRange;
  }
  const db = new Dexie(options.name, deps);
  const tracking = changeTracking(options.schema);
  db.use(tracking.middleware);
  db.version(version).stores(stores);
  await db.open();
  if ((await db.table(META).get(SCHEMA_KEY))?.value !== print) {
    // The schema changed: Dexie dropped the tables of removed entities; their changes cannot be uploaded either.
    const known = new Set(Object.keys(options.schema.entities));
    await db.transaction('rw', [CHANGES, META], async () => {
      await db.table(CHANGES).filter((c: { entity: string }) => !known.has(c.entity)).delete();
      await db.table(META).put({ key: SCHEMA_KEY, value: print });
    });
  }
  return new LocalStore(options.schema, db, tracking);
}

type Deps = { indexedDB?: IDBFactory; IDBKeyRange?: typeof IDBKeyRange };

/** The version to open at: the installed one if its schema matches, else the next one (1 for a new database). */
async function derivedVersion(
  name: string,
  print: string,
  deps: Deps,
): Promise<number> {
  // Without a declared version Dexie opens the installed database as it is (dynamic mode).
  const probe = new Dexie(name, deps);
  try {
    await probe.open();
  } catch (e) {
    if ((e as Error).name === 'NoSuchDatabaseError') return 1;
    throw e;
  }
  try {
    const next = Math.floor(probe.verno) + 1;
    if (!probe.tables.some((t) => t.name === META)) return next;
    const stored = (await probe.table(META).get(SCHEMA_KEY)) as { value?: string } | undefined;
    return stored?.value === print ? probe.verno : next;
  } finally {
    probe.close();
  }
}
