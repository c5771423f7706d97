import Dexie from 'dexie';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';

/**
 * The least local work any device does for an upload, in Node: store each answered row once
 * (`bulkPut` into the runtime's own entity table, with its indexes, 1,000 per transaction) — no
 * queue to read or clear, no reads of the rows. A floor under the client floor (clientFloor.ts):
 * what remains of the device's share when everything else is free.
 *
 * `prepare` rows are stored first, untimed (the rows an update overwrites); answers the
 * milliseconds the timed puts took.
 */
export async function putRowsByHand(
  dbName: string,
  entity: string,
  rows: ReadonlyArray<Record<string, unknown>>,
  options: { batch?: number; prepare?: ReadonlyArray<Record<string, unknown>> } = {},
): Promise<number> {
  const batch = options.batch ?? 1000;
  const db = new Dexie(dbName, { indexedDB, IDBKeyRange });
  await db.open();
  const table = db.table(entity);
  const putAll = async (all: ReadonlyArray<Record<string, unknown>>) => {
    for (let i = 0; i < all.length; i += batch) await db.transaction('rw', table, () => table.bulkPut(all.slice(i, i + batch)));
  };
  try {
    if (options.prepare) await putAll(options.prepare);
    const t0 = performance.now();
    await putAll(rows);
    return performance.now() - t0;
  } finally {
    db.close();
  }
}
