import Dexie from 'dexie';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import type { UploadFloor } from './uploadFloor.ts';

/**
 * The client floor of the write path: the device's unavoidable work done by hand, the fastest
 * way, over the same Dexie tables the runtime wrote its queue into — read the queued changes
 * (`$changes` by seq) and their rows in batches of 1,000, POST each batch to the set-based floor
 * endpoint (`?answer`: it answers the written rows, as the sync server answers each change), then
 * clear the batch's queue entries and `bulkPut` the answered rows in one transaction per batch.
 * Pipelined like the runtime: batch k+1 is read while request k is in flight, and the answer of
 * k is stored while request k+1 is in flight.
 *
 * It opens its own connection without the runtime's change-tracking middleware (plain Dexie,
 * dynamic mode): no validation, no seq, no sort, no failures, no refresh.
 *
 * Returns how many changes it uploaded.
 */
export async function uploadByHand(dbName: string, floor: UploadFloor, kind: 'create' | 'update', entity = 'Task', batch = 1000): Promise<number> {
  const db = new Dexie(dbName, { indexedDB, IDBKeyRange });
  await db.open();
  try {
    const changes = db.table('$changes');
    const rows = db.table(entity);
    let lastSeq = -Infinity;
    const read = async () => {
      const part = (await changes.where('seq').above(lastSeq).limit(batch).toArray()) as Array<{ entity: string; id: string; seq: number; changed: string[] }>;
      if (part.length === 0) return null;
      lastSeq = part[part.length - 1].seq;
      const stored = (await rows.bulkGet(part.map((c) => c.id))) as Array<Record<string, unknown>>;
      return {
        keys: part.map((c) => [c.entity, c.id]),
        body: part.map((c, i) => ({ id: c.id, data: kind === 'create' ? members(stored[i]) : pick(stored[i], c.changed) })),
      };
    };
    let uploaded = 0;
    let next = settled(read());
    let writing: Promise<unknown> = Promise.resolve();
    try {
      for (;;) {
        const b = await next;
        if (!b) break;
        const answer = settled(floor.sendAnswered(kind, b.body));
        next = settled(read());
        const objects = await answer;
        await writing;
        writing = settled(
          db.transaction('rw', [changes, rows], async () => {
            await changes.bulkDelete(b.keys);
            await rows.bulkPut(objects.map((o) => ({ ...o, $tag: '' })));
          }),
        );
        uploaded += objects.length;
      }
      await writing;
    } finally {
      await Promise.allSettled([next, writing]);
    }
    return uploaded;
  } finally {
    db.close();
  }
}

const SYSTEM = new Set(['id', 'createdDate', 'changedDate', 'owner']);

/** A row's members: everything but the system attributes and internal `$` fields. */
function members(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in row) if (!SYSTEM.has(key) && !key.startsWith('$')) out[key] = row[key];
  return out;
}

function pick(row: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = row[name] ?? null;
  return out;
}

/** Marks a promise as handled (it is awaited later). */
function settled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
