import type Dexie from 'dexie';

type Kind = 'create' | 'update';
type Body = Array<{ id: string; data: Record<string, unknown> }>;

export interface UploadByHandOptions {
  kind: Kind;
  entity: string;
  batch: number;
  /** POSTs one batch to the floor endpoint in its answering mode; resolves with the written rows. */
  send(body: Body): Promise<Array<Record<string, unknown>>>;
}

export interface UploadByHandRun {
  uploaded: number;
  /** Time inside each part, summed over batches (they overlap: pipelined). */
  readMs: number;
  postMs: number;
  writeMs: number;
}

/**
 * The client floor of the write path, portable (Node over fake-indexeddb, or a browser page over
 * its IndexedDB): the device's unavoidable work done by hand over the tables the runtime wrote its
 * queue into. Reads the queued changes (`$changes` by seq) and their rows `batch` at a time, POSTs
 * each batch (`send`), then deletes the batch's queue entries and `bulkPut`s the answered rows in
 * one transaction per batch. Pipelined like the runtime: batch k+1 is read while request k is in
 * flight, and answer k is stored while request k+1 is. `db` is a plain Dexie connection (no
 * change tracking): no validation, seq, sort, failures or refresh.
 */
export async function uploadQueueByHand(db: Dexie, { kind, entity, batch, send }: UploadByHandOptions): Promise<UploadByHandRun> {
  const changes = db.table('$changes');
  const rows = db.table(entity);
  const spent = { readMs: 0, postMs: 0, writeMs: 0 };
  const timed = async <T>(part: keyof typeof spent, run: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await run();
    } finally {
      spent[part] += performance.now() - t0;
    }
  };
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
  let next = settled(timed('readMs', read));
  let writing: Promise<unknown> = Promise.resolve();
  try {
    for (;;) {
      const b = await next;
      if (!b) break;
      const answer = settled(timed('postMs', () => send(b.body)));
      next = settled(timed('readMs', read));
      const objects = await answer;
      await writing;
      writing = settled(
        timed('writeMs', () =>
          db.transaction('rw', [changes, rows], async () => {
            await changes.bulkDelete(b.keys);
            await rows.bulkPut(objects.map((o) => ({ ...o, $tag: '' })));
          }),
        ),
      );
      uploaded += objects.length;
    }
    await writing;
  } finally {
    await Promise.allSettled([next, writing]);
  }
  return { uploaded, ...spent };
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
