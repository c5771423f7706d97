/**
 * The page of the upload-browser bench (issue 12), bundled for Chromium by esbuild: the portable
 * runtime (the same src/ code an app ships) uploading from the browser's real IndexedDB, and
 * the two floors done by hand in the same page:
 * - benchFloorSend: the same rows POSTed as JSON, 1,000 per request, to the set-based floor
 *   endpoint (support/uploadFloor.ts), one request after the other, as UploadFloor.send does;
 * - benchClientFloor: the device's unavoidable work by hand over the same IndexedDB the runtime
 *   queued its changes in, as support/clientFloor.ts does in Node over fake-indexeddb.
 *
 * Every call answers the milliseconds of the part it times, measured in the page
 * (performance.now()), so Playwright's round trips are never inside a timing.
 */
import Dexie from 'dexie';
import { demoSchema } from '../../../src/demo/schema.ts';
import { createRuntime, type Runtime } from '../../../src/runtime/Runtime.ts';
import type { SyncConfig } from '../../../src/sync/types.ts';
import { timePhases } from '../phases.ts';
import { uploadQueueByHand } from '../uploadQueueByHand.ts';

type Kind = 'create' | 'update';

export interface PageSync {
  ms: number;
  /** Milliseconds per Synchronize machine state (uploading, refreshing, …). */
  phases: Record<string, number>;
  uploaded: number;
  downloaded: number;
  /** Changes still queued on the device afterwards (0 when everything was uploaded). */
  pending: number;
}

/** The client floor's time, and the time inside each of its parts (summed over batches; they overlap in the pipeline). */
export interface ClientFloorRun {
  ms: number;
  uploaded: number;
  pending: number;
  readMs: number;
  postMs: number;
  writeMs: number;
}

declare global {
  interface Window {
    benchOpen(options: { serverUrl: string; token: string; dbName: string; entities: string[] }): Promise<void>;
    benchClose(options: { dbName: string; remove: boolean }): Promise<void>;
    /** Both answer the milliseconds of the local commit (not part of any timing; printed for the run's length). */
    benchCommitCreates(options: { dbName: string; n: number; round: number }): Promise<number>;
    benchCommitUpdates(options: { dbName: string; ids: string[]; round: number }): Promise<number>;
    benchSynchronize(options: { dbName: string; mode: 'all' | 'unsynchronized' }): Promise<PageSync>;
    benchFloorSend(options: { floorUrl: string; kind: Kind; n: number; ids?: string[]; round: number; batch: number }): Promise<{ ms: number; written: number }>;
    benchClientFloor(options: { dbName: string; floorUrl: string; kind: Kind; entity: string; batch: number }): Promise<ClientFloorRun>;
  }
}

const runtimes = new Map<string, Runtime>();
let serial = 0;
/** The same titles as upload.bench.ts writes (about the same length, different each time). */
const newTitle = (round: number, k: number) => `Task ${k} written in round ${round} of the upload bench (${++serial})`;

const runtimeOf = (dbName: string): Runtime => {
  const runtime = runtimes.get(dbName);
  if (!runtime) throw new Error(`no runtime open on ${dbName}`);
  return runtime;
};

window.benchOpen = async ({ serverUrl, token, dbName, entities }) => {
  const syncConfig: SyncConfig = Object.fromEntries(demoSchema.order.map((e) => [e, entities.includes(e) ? { download: 'all' } : { download: 'nothing' }]));
  runtimes.set(dbName, await createRuntime({ schema: demoSchema, serverUrl, token, dbName, syncConfig }));
};

window.benchClose = async ({ dbName, remove }) => {
  runtimes.get(dbName)?.close();
  runtimes.delete(dbName);
  if (remove) await Dexie.delete(dbName);
};

window.benchCommitCreates = async ({ dbName, n, round }) => {
  const start = performance.now();
  const session = runtimeOf(dbName).session();
  await session.commit(Array.from({ length: n }, (_, k) => session.create('Task', { title: newTitle(round, k), done: false, priority: 'normal', estimate: 1.5 })));
  return performance.now() - start;
};

window.benchCommitUpdates = async ({ dbName, ids, round }) => {
  const start = performance.now();
  const runtime = runtimeOf(dbName);
  const objects = await runtime.store.getMany('Task', ids);
  const session = runtime.session();
  await session.commit(
    objects.map((o, k) => {
      if (!o) throw new Error(`Task ${ids[k]} is not on the device`);
      return session.change(o, { title: newTitle(round, k) });
    }),
  );
  return performance.now() - start;
};

window.benchSynchronize = async ({ dbName, mode }) => {
  const runtime = runtimeOf(dbName);
  const { result, total, phases } = await timePhases(runtime, () => runtime.synchronize({ mode }));
  return { ms: total, phases, uploaded: result.uploaded, downloaded: result.downloaded, pending: await runtime.store.pendingCount() };
};

// ---------------------------------------------------------------- the headline floor, from the page

window.benchFloorSend = async ({ floorUrl, kind, n, ids, round, batch }) => {
  // The rows are made before the clock starts, as upload.bench.ts makes them before floor.send.
  const rows =
    kind === 'create'
      ? Array.from({ length: n }, (_, k) => ({ id: crypto.randomUUID(), data: { title: newTitle(round, k), done: false, priority: 'normal', estimate: 1.5, words: 11, due: null, assignee: null, project: null } }))
      : (ids ?? []).map((id, k) => ({ id, data: { title: newTitle(round, k) } }));
  let written = 0;
  const start = performance.now();
  for (let i = 0; i < rows.length; i += batch) {
    const part = rows.slice(i, i + batch);
    const res = await fetch(`${floorUrl}/${kind}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(part) });
    const answer = (await res.json()) as { written: number };
    if (!res.ok || answer.written !== part.length) throw new Error(`floor ${kind}: wrote ${answer.written} of ${part.length}`);
    written += answer.written;
  }
  return { ms: performance.now() - start, written };
};

// ---------------------------------------------------------------- the client floor, by hand in the page

/**
 * What support/clientFloor.ts does in Node (uploadQueueByHand), over the browser's IndexedDB:
 * each batch POSTed to the floor endpoint in its answering mode (`?answer`).
 */
window.benchClientFloor = async ({ dbName, floorUrl, kind, entity, batch }) => {
  const db = new Dexie(dbName);
  await db.open();
  try {
    const send = async (body: Array<{ id: string; data: Record<string, unknown> }>) => {
      const res = await fetch(`${floorUrl}/${kind}?answer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const answer = (await res.json()) as { written: number; objects: Array<Record<string, unknown>> };
      if (!res.ok || answer.written !== body.length) throw new Error(`floor ${kind}: wrote ${answer.written} of ${body.length}`);
      return answer.objects;
    };
    const start = performance.now();
    const run = await uploadQueueByHand(db, { kind, entity, batch, send });
    const ms = performance.now() - start;
    return { ms, pending: await db.table('$changes').count(), ...run };
  } finally {
    db.close();
  }
};
