/**
 * The page of the memory bench, bundled for Chromium by esbuild: the portable runtime (the same
 * src/ code an app ships) downloading into the browser's real IndexedDB.
 */
import Dexie from 'dexie';
import { demoSchema } from '../../../src/demo/schema.ts';
import { createRuntime } from '../../../src/runtime/Runtime.ts';
import type { SyncConfig } from '../../../src/sync/types.ts';
import { floorStores } from '../floorStores.ts';

export interface PageDownload {
  downloaded: number;
  stored: number;
  ms: number;
  /** Milliseconds per machine state (uploading, downloading, …). */
  phases: Record<string, number>;
  /** Milliseconds from the last batch stored to the end of the downloading state: the all-objects cleanup. */
  cleanupMs: number;
}

declare global {
  interface Window {
    benchProgress: { done: number; total: number | null; state: string | null };
    benchDownload(options: { serverUrl: string; token: string; dbName: string; entities: string[] }): Promise<PageDownload>;
  }
}

window.benchProgress = { done: 0, total: null, state: null };

window.benchDownload = async ({ serverUrl, token, dbName, entities }) => {
  const syncConfig: SyncConfig = Object.fromEntries(demoSchema.order.map((e) => [e, entities.includes(e) ? { download: 'all' } : { download: 'nothing' }]));
  const runtime = await createRuntime({
    schema: demoSchema,
    serverUrl,
    token,
    dbName,
    syncConfig,
    onProgress: (p) => {
      if (p.phase === 'download') lastBatchAt = performance.now();
      window.benchProgress.done = p.done;
      window.benchProgress.total = p.total;
    },
  });
  const phases: Record<string, number> = {};
  let lastBatchAt = 0;
  let downloadingEnded = 0;
  let state: string | null = null;
  let since = performance.now();
  const unsubscribe = runtime.status.subscribe((s) => {
    if (s.machineState === state) return;
    const now = performance.now();
    if (state) phases[state] = (phases[state] ?? 0) + (now - since);
    if (state === 'downloading') downloadingEnded = now;
    state = s.machineState;
    window.benchProgress.state = state;
    since = now;
  });
  try {
    const start = performance.now();
    const result = await runtime.synchronize({ mode: 'all' });
    const ms = performance.now() - start;
    if (state) phases[state] = (phases[state] ?? 0) + (performance.now() - since);
    if (state === 'downloading') downloadingEnded = performance.now();
    let stored = 0;
    for (const e of entities) stored += await runtime.store.count(e);
    return { downloaded: result.downloaded, stored, ms, phases, cleanupMs: downloadingEnded - lastBatchAt };
  } finally {
    unsubscribe();
    runtime.close();
  }
};

// ---------------------------------------------------------------- the floor, in the same browser

declare global {
  interface Window {
    benchFloor(options: { serverUrl: string; token: string; dbName: string; entity: string; signals?: 'none' | 'like-runtime'; store?: boolean }): Promise<{ downloaded: number; ms: number }>;
  }
}

/**
 * Plain fetch + JSON.parse + Dexie bulkPut (one transaction per 1,000-row page, next page
 * prefetched) into a database with the runtime's tables and indexes (floorStores). `signals: 'like-runtime'`
 * passes each fetch the signal the runtime's SyncClient builds (AbortSignal.any of a
 * long-lived signal and a 60 s AbortSignal.timeout), to tell its cost apart; `store: false`
 * fetches and parses without storing, to tell the network side from IndexedDB's.
 */
window.benchFloor = async ({ serverUrl, token, dbName, entity, signals = 'none', store = true }) => {
  const db = new Dexie(dbName);
  db.version(1).stores(floorStores());
  await db.open();
  const table = db.table(entity);
  const run = new AbortController();
  const page = async (cursor: string | null) => {
    const res = await fetch(`${serverUrl}/api/download`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-device-id': 'bench-floor' },
      body: JSON.stringify({ entity, cursor, limit: 1000 }),
      signal: signals === 'like-runtime' ? AbortSignal.any([run.signal, AbortSignal.timeout(60_000)]) : undefined,
    });
    return JSON.parse(await res.text()) as { objects: Array<{ id: string }>; cursor: string | null };
  };
  const start = performance.now();
  let downloaded = 0;
  try {
    let next: ReturnType<typeof page> | null = page(null);
    while (next) {
      const batch: Awaited<ReturnType<typeof page>> = await next;
      next = batch.cursor ? page(batch.cursor) : null;
      if (batch.objects.length && store) await table.bulkPut(batch.objects);
      downloaded += batch.objects.length;
      window.benchProgress.done = downloaded;
    }
    return { downloaded, ms: performance.now() - start };
  } finally {
    db.close();
  }
};
