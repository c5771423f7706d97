/**
 * The floors the protocol is measured against, in the same run: the fastest hand-written way
 * to do the same work, not a strawman.
 *
 * - `sqlToDexie`: the rows read straight from PostgreSQL with plain SQL, in keyset pages of 1,000
 *   (the server's read, minus HTTP and the protocol), each page written with plain Dexie
 *   `bulkPut` (one transaction per 1,000 rows) into a database with the runtime's tables and
 *   indexes (floorStores: storesFor(schema) minus the runtime's `$tag`), without the
 *   change-tracking middleware, the next page
 *   being read meanwhile. fake-indexeddb makes one huge transaction quadratic, so a floor that
 *   wrote everything at once would be a strawman.
 * - `httpFetch`: the same download pages fetched from the same sync server with plain `fetch` +
 *   `JSON.parse`, each bulkPut as it arrives while the next page is already requested (the
 *   runtime prefetches too).
 */
import Dexie from 'dexie';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import type pg from 'pg';
import type { SyncObject } from '../../src/model/values.ts';
import { deleteDatabase } from './device.ts';
import { floorStores } from './floorStores.ts';
import { timeIt, type Variant } from './stats.ts';

export const PAGE = 1000;

let floors = 0;

/** A fresh Dexie database with the runtime's tables and indexes (floorStores), no middleware. */
export async function openFloorDb(): Promise<{ db: Dexie; dispose(): Promise<void> }> {
  const name = `bench-floor-${process.pid}-${++floors}`;
  const db = new Dexie(name, { indexedDB, IDBKeyRange });
  db.version(1).stores(floorStores());
  await db.open();
  return {
    db,
    async dispose() {
      db.close();
      await deleteDatabase(name);
    },
  };
}

const WIRE_DATE = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

type Row = { id: string; owner: string; created: string; changed: string; data: Record<string, unknown> };

/** One keyset page of the objects of `entity` that `user` may read (the demo rules for a plain user: own, or assigned). */
async function sqlPage(client: pg.PoolClient, entity: string, user: string, after: { date: string; id: string } | null): Promise<SyncObject[]> {
  const params: unknown[] = [entity, user, PAGE];
  let where = `entity = $1 AND (owner = $2 OR coalesce(data->>'assignee' = $2, false))`;
  if (after) {
    params.push(after.date, after.id);
    where += ` AND (changed_date, id) > ($4::timestamptz, $5::uuid)`;
  }
  const { rows } = await client.query<Row>(
    `SELECT id::text AS id, owner, ${WIRE_DATE('created_date')} AS created, ${WIRE_DATE('changed_date')} AS changed, data
       FROM sf_objects WHERE ${where} ORDER BY changed_date, id LIMIT $3`,
    params,
  );
  return rows.map((r) => ({ id: r.id, owner: r.owner, createdDate: r.created, changedDate: r.changed, ...r.data }));
}

/**
 * Reads every object of `entity` that `user` may read with plain SQL, in (changedDate, id)
 * pages of 1,000, and bulkPuts each page in its own transaction while the next page is read
 * (as the runtime overlaps its requests and writes). Answers the wall-clock total and the time
 * spent in each half (they overlap, so they add up to more than the total).
 */
export async function sqlToDexie(pool: pg.Pool, db: Dexie, entity: string, user: string): Promise<{ n: number; ms: number; sqlMs: number; putMs: number }> {
  const client = await pool.connect();
  const table = db.table(entity);
  const start = performance.now();
  let sqlMs = 0;
  let putMs = 0;
  const read = async (after: { date: string; id: string } | null) => {
    const t = performance.now();
    const page = await sqlPage(client, entity, user, after);
    sqlMs += performance.now() - t;
    return page;
  };
  try {
    let n = 0;
    let next: Promise<SyncObject[]> | null = read(null);
    while (next) {
      const page: SyncObject[] = await next;
      const last = page[page.length - 1];
      next = page.length === PAGE ? read({ date: last.changedDate!, id: last.id }) : null;
      if (page.length) {
        const t = performance.now();
        await table.bulkPut(page);
        putMs += performance.now() - t;
      }
      n += page.length;
    }
    return { n, ms: performance.now() - start, sqlMs, putMs };
  } finally {
    client.release();
  }
}

/**
 * Downloads every object of `entity` from the sync server with plain fetch + JSON.parse and
 * bulkPuts each page (one transaction each), the next page already on its way.
 */
export async function httpFetch(serverUrl: string, token: string, db: Dexie, entity: string): Promise<number> {
  const table = db.table(entity);
  const page = async (cursor: string | null) => {
    const res = await fetch(`${serverUrl}/api/download`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-device-id': 'bench-floor' },
      body: JSON.stringify({ entity, cursor, limit: PAGE }),
    });
    if (!res.ok) throw new Error(`download ${res.status}: ${await res.text()}`);
    return JSON.parse(await res.text()) as { objects: SyncObject[]; cursor: string | null };
  };
  let n = 0;
  let next: Promise<{ objects: SyncObject[]; cursor: string | null }> | null = page(null);
  while (next) {
    const batch: { objects: SyncObject[]; cursor: string | null } = await next;
    next = batch.cursor ? page(batch.cursor) : null;
    if (batch.objects.length) await table.bulkPut(batch.objects);
    n += batch.objects.length;
  }
  return n;
}

/**
 * The two floors as benchmark variants, over `counts`' entities in that order (association
 * targets first): `floor.sql+put` (its SQL and bulkPut times pushed to `parts` after the
 * warm-up) and `floor.http`. Each checks that it stored exactly the expected rows.
 */
export function floorVariants(options: {
  pool: pg.Pool;
  serverUrl: string;
  token: string;
  user: string;
  counts: Readonly<Record<string, number>>;
  warmup: number;
  parts: { sql: number[]; put: number[] };
}): Variant[] {
  const { pool, serverUrl, token, user, counts, warmup, parts } = options;
  const entities = Object.keys(counts);
  const total = entities.reduce((sum, e) => sum + counts[e], 0);
  return [
    {
      name: 'floor.sql+put',
      async run(round) {
        const floor = await openFloorDb();
        try {
          let ms = 0;
          let sql = 0;
          let put = 0;
          for (const entity of entities) {
            const r = await sqlToDexie(pool, floor.db, entity, user);
            if (r.n !== counts[entity] || (await floor.db.table(entity).count()) !== counts[entity]) {
              throw new Error(`floor wrote ${r.n} ${entity}, expected ${counts[entity]}`);
            }
            ms += r.ms;
            sql += r.sqlMs;
            put += r.putMs;
          }
          if (round >= warmup) {
            parts.sql.push(sql);
            parts.put.push(put);
          }
          return ms;
        } finally {
          await floor.dispose();
        }
      },
    },
    {
      name: 'floor.http',
      async run() {
        const floor = await openFloorDb();
        try {
          let n = 0;
          const ms = await timeIt(async () => {
            for (const entity of entities) n += await httpFetch(serverUrl, token, floor.db, entity);
          });
          if (n !== total) throw new Error(`http floor fetched ${n}, expected ${total}`);
          return ms;
        } finally {
          await floor.dispose();
        }
      },
    },
  ];
}
