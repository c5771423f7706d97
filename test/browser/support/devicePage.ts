/**
 * The page of the real-IndexedDB browser test, bundled for Chromium by esbuild: the portable
 * runtime (src/, as an app ships it) on the browser's own IndexedDB, driven by the test through
 * the `device*` functions below. Every call answers plain data (Playwright's serialization keeps
 * every double, 5e-324 and Number.MAX_VALUE included); a failure comes back as an ErrorShape, so
 * the test sees what Chromium and Dexie really threw, not only a message.
 */
import Dexie from 'dexie';
import { StorageFullError, toSyncflowError } from '../../../src/errors.ts';
import { defineSchema, type SchemaInput } from '../../../src/model/schema.ts';
import type { Values } from '../../../src/model/values.ts';
import { createRuntime, type Runtime } from '../../../src/runtime/Runtime.ts';
import type { LocalObject } from '../../../src/store/types.ts';
import type { PlannedObject, PlannedRef } from './generatedApp.ts';

/** What was thrown, down its chain of wrappers (Dexie's `inner`, `cause`, a BulkError's `failures`). */
export interface ErrorShape {
  name: string;
  /** The constructor's name (Chromium 156: `QuotaExceededError`, a DOMException subclass). */
  constructorName: string;
  message: string;
  isDOMException: boolean;
  code?: unknown;
  inner?: ErrorShape;
  cause?: ErrorShape;
  failures?: ErrorShape[];
}

/** How a bare IndexedDB write ended: `complete`, or `abort` with the request's and the transaction's errors. */
export interface RawWrite {
  end: 'complete' | 'abort';
  requestError: ErrorShape | null;
  transactionError: ErrorShape | null;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ErrorShape; code: string; isStorageFullError: boolean };

export interface SyncSummary {
  uploaded: number;
  downloaded: number;
  failures: unknown[];
  pending: number;
}

declare global {
  interface Window {
    deviceOpen(options: { device: string; schema: SchemaInput; serverUrl: string; token: string; dbName: string }): Promise<void>;
    deviceCloseAll(): Promise<void>;
    /** Creates the planned objects in one commit (associations pointed at the made ones); answers their ids, in order. */
    deviceCreate(options: { device: string; objects: PlannedObject[] }): Promise<Outcome<string[]>>;
    /** Sets `values[entity]` on every object of the entity, in one commit. */
    deviceChangeAll(options: { device: string; values: Record<string, Values> }): Promise<Outcome<number>>;
    /** Commits `count` new objects of `entity` whose `member` holds `bytes` of random text; a refused commit is kept for deviceCommitKept. */
    deviceCommitBulky(options: { device: string; entity: string; member: string; count: number; bytes: number }): Promise<Outcome<number>>;
    /** Commits again, in the same session, what deviceCommitBulky was refused. */
    deviceCommitKept(options: { device: string }): Promise<Outcome<number>>;
    deviceSynchronize(options: { device: string; mode: 'all' | 'unsynchronized' }): Promise<Outcome<SyncSummary>>;
    /** Every object of every entity, as the app sees them (no `$` store fields), by entity, sorted by id. */
    deviceContents(options: { device: string }): Promise<Record<string, Array<Record<string, unknown>>>>;
    deviceIds(options: { device: string; entity: string }): Promise<string[]>;
    devicePending(options: { device: string }): Promise<number>;
    deviceStatus(options: { device: string }): Promise<{ running: boolean; lastError: { code: string; message: string } | null }>;
    /** The raw error of a plain Dexie write over the quota (no runtime in between). */
    dexieWriteShape(options: { dbName: string; bytes: number }): Promise<ErrorShape | null>;
    /** The same write in bare IndexedDB: where the failure shows (the request's error, the transaction's). */
    rawWriteShape(options: { dbName: string; bytes: number }): Promise<RawWrite>;
  }
}

const runtimes = new Map<string, Runtime>();
const kept = new Map<string, { session: ReturnType<Runtime['session']>; objects: LocalObject[] }>();

const runtimeOf = (device: string): Runtime => {
  const runtime = runtimes.get(device);
  if (!runtime) throw new Error(`no device ${device} is open`);
  return runtime;
};

function shapeOf(e: unknown, depth = 0): ErrorShape {
  if (typeof e !== 'object' || e === null) return { name: typeof e, constructorName: '', message: String(e), isDOMException: false };
  const x = e as { name?: unknown; message?: unknown; code?: unknown; inner?: unknown; cause?: unknown; failures?: unknown };
  const shape: ErrorShape = {
    name: String(x.name),
    constructorName: (e as object).constructor?.name ?? '',
    message: String(x.message ?? ''),
    isDOMException: e instanceof DOMException,
  };
  if (x.code !== undefined) shape.code = x.code;
  if (depth < 4) {
    if (x.inner != null) shape.inner = shapeOf(x.inner, depth + 1);
    if (x.cause != null) shape.cause = shapeOf(x.cause, depth + 1);
    if (Array.isArray(x.failures) && x.failures.length) shape.failures = x.failures.slice(0, 2).map((f) => shapeOf(f, depth + 1));
  }
  return shape;
}

async function outcome<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (e) {
    return { ok: false, error: shapeOf(e), code: toSyncflowError(e).code, isStorageFullError: e instanceof StorageFullError };
  }
}

const isRef = (v: unknown): v is PlannedRef => typeof v === 'object' && v !== null && 'object' in v;

/** Random printable text: Chromium compresses what it stores, random text does not shrink. */
function randomText(bytes: number): string {
  // getRandomValues gives at most 65,536 bytes a call.
  const random = new Uint8Array(Math.ceil((bytes * 3) / 4));
  for (let at = 0; at < random.length; at += 65_536) crypto.getRandomValues(random.subarray(at, at + 65_536));
  let binary = '';
  for (const b of random) binary += String.fromCharCode(b);
  return btoa(binary).slice(0, bytes);
}

window.deviceOpen = async ({ device, schema, serverUrl, token, dbName }) => {
  runtimes.set(device, await createRuntime({ schema: defineSchema(schema), serverUrl, token, dbName }));
};

window.deviceCloseAll = async () => {
  for (const runtime of runtimes.values()) runtime.close();
  runtimes.clear();
  kept.clear();
};

window.deviceCreate = ({ device, objects }) =>
  outcome(async () => {
    const session = runtimeOf(device).session();
    const made = objects.map((o) => session.create(o.entity, {}));
    const values = (o: PlannedObject): Values => Object.fromEntries(Object.entries(o.values).map(([k, v]) => [k, isRef(v) ? made[v.object].id : v])) as Values;
    const created = made.map((m, i) => session.change(m, values(objects[i])));
    if (created.length) await session.commit(created);
    return created.map((o) => o.id);
  });

window.deviceChangeAll = ({ device, values }) =>
  outcome(async () => {
    const runtime = runtimeOf(device);
    const session = runtime.session();
    const changed: LocalObject[] = [];
    for (const [entity, v] of Object.entries(values)) for (const o of await runtime.store.query(entity)) changed.push(session.change(o, v));
    if (changed.length) await session.commit(changed);
    return changed.length;
  });

window.deviceCommitBulky = ({ device, entity, member, count, bytes }) => {
  const session = runtimeOf(device).session();
  const objects = Array.from({ length: count }, () => session.create(entity, { [member]: randomText(bytes) }));
  kept.set(device, { session, objects });
  return outcome(async () => (await session.commit(objects)).length);
};

window.deviceCommitKept = ({ device }) =>
  outcome(async () => {
    const k = kept.get(device);
    if (!k) throw new Error(`nothing kept on ${device}`);
    return (await k.session.commit(k.objects)).length;
  });

window.deviceSynchronize = ({ device, mode }) =>
  outcome(async () => {
    const runtime = runtimeOf(device);
    const result = await runtime.synchronize({ mode });
    return { uploaded: result.uploaded, downloaded: result.downloaded, failures: result.failures, pending: await runtime.store.pendingCount() };
  });

window.deviceContents = async ({ device }) => {
  const runtime = runtimeOf(device);
  const out: Record<string, Array<Record<string, unknown>>> = {};
  for (const entity of runtime.schema.order) {
    const objects = await runtime.store.query(entity, { sort: [['id', 'asc']] });
    out[entity] = objects.map((o) => Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith('$'))));
  }
  return out;
};

window.deviceIds = async ({ device, entity }) => (await runtimeOf(device).store.query(entity)).map((o) => o.id).sort();

window.devicePending = ({ device }) => runtimeOf(device).store.pendingCount();

window.deviceStatus = async ({ device }) => {
  const { running, lastError } = runtimeOf(device).status.getState();
  return { running, lastError };
};

window.dexieWriteShape = async ({ dbName, bytes }) => {
  const db = new Dexie(dbName);
  db.version(1).stores({ blobs: '++' });
  try {
    await db.table('blobs').add({ text: randomText(bytes) });
    return null;
  } catch (e) {
    return shapeOf(e);
  } finally {
    db.close();
  }
};

window.rawWriteShape = async ({ dbName, bytes }) => {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const open = indexedDB.open(dbName, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('blobs', { autoIncrement: true });
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  try {
    return await new Promise<RawWrite>((resolve) => {
      const tx = db.transaction('blobs', 'readwrite');
      const request = tx.objectStore('blobs').add({ text: randomText(bytes) });
      let requestError: ErrorShape | null = null;
      request.onerror = () => void (requestError = request.error && shapeOf(request.error));
      tx.oncomplete = () => resolve({ end: 'complete', requestError, transactionError: null });
      tx.onabort = () => resolve({ end: 'abort', requestError, transactionError: tx.error && shapeOf(tx.error) });
    });
  } finally {
    db.close();
  }
};
