import { afterAll, afterEach, beforeEach } from 'vitest';
import type { SyncServer, SyncServerOptions } from '../../src/server/createSyncServer.ts';
import { createDemoSyncServer } from '../../src/server/demo.ts';
import { openStorage } from '../../src/server/storage/openStorage.ts';
import type { Storage } from '../../src/server/storage/Storage.ts';
import type { ChangeKind, ChangeRequest } from '../../src/transport/wire.ts';

/** The PostgreSQL server the suite runs against as well (trust auth). */
export const POSTGRES_URL = process.env.SYNCFLOW_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const run = `${process.pid}_${Date.now().toString(36)}`;

/** Where a suite's storages come from: each `open()` is a fresh SQL schema on one shared database. */
export interface StorageTarget {
  name: string;
  /** A storage in a new schema (or in `schemaName`), migrated. */
  open(schemaName?: string): Promise<Storage>;
  /** Drops what the target created and closes it. */
  cleanup(): Promise<void>;
}

/** One embedded PGlite for the whole test file (it takes seconds to start), a schema per test. */
export function pgliteTarget(): StorageTarget {
  let root: Promise<Storage> | null = null;
  let n = 0;
  return {
    name: 'PGlite',
    async open(schemaName) {
      root ??= openStorage({});
      return (await root).withSchema(schemaName ?? `t_${++n}`);
    },
    async cleanup() {
      if (root) await (await root).close();
    },
  };
}

/**
 * The machine's PostgreSQL: a schema per test, all dropped by cleanup. `via` reaches it through
 * something else (a PgBouncer in transaction pooling mode: `pooled`).
 */
export function postgresTarget(via?: { name: string; url: () => string; pooled?: boolean; poolSize?: number }): StorageTarget {
  const prefix = `sft_${run}${via ? '_via' : ''}`;
  let root: Promise<Storage> | null = null;
  let n = 0;
  return {
    name: via?.name ?? 'PostgreSQL',
    async open(schemaName) {
      root ??= openStorage({ url: via?.url() ?? POSTGRES_URL, schemaName: prefix, pooled: via?.pooled, poolSize: via?.poolSize });
      return (await root).withSchema(schemaName ?? `${prefix}_${++n}`);
    },
    async cleanup() {
      if (!root) return;
      const storage = await root;
      const { rows } = await storage.query<{ name: string }>(`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1`, [`${prefix}%`]);
      for (const { name } of rows) await storage.query(`DROP SCHEMA ${name} CASCADE`);
      await storage.close();
    },
  };
}

export interface Reply<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** A user's view of the server over real HTTP. */
export function apiClient(url: string, token: string | null, device: string | null = 'test-device') {
  const call = async <T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> => {
    const h: Record<string, string> = { ...headers };
    if (token !== null) h.authorization = `Bearer ${token}`;
    if (device !== null) h['x-device-id'] = device;
    let payload: BodyInit | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' || body instanceof Uint8Array ? (body as BodyInit) : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + path, { method, headers: h, body: payload });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, body: json, text, headers: res.headers };
  };
  return {
    call,
    upload: (changes: unknown[]) => call('POST', '/api/upload', { changes }),
    download: (request: Record<string, unknown>) => call('POST', '/api/download', request),
    fetch: (entity: string, ids: string[]) => call('POST', '/api/fetch', { entity, ids }),
    ids: (request: Record<string, unknown>) => call('POST', '/api/ids', request),
    failures: (status = 'open') => call('GET', `/api/failures?status=${status}`),
    retry: (id: string) => call('POST', `/api/failures/${id}/retry`, {}),
    dismiss: (id: string) => call('POST', `/api/failures/${id}/dismiss`, {}),
    getFile: (entity: string, id: string) => fetch(`${url}/api/files/${entity}/${id}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }),
    putFile: (entity: string, id: string, data: BodyInit, contentType: string) =>
      call('PUT', `/api/files/${entity}/${id}`, data as unknown, { 'content-type': contentType }),
    /** Every object of an entity the user may read, through the download cursor. */
    async all(entity: string, request: Record<string, unknown> = {}): Promise<any[]> {
      const out: any[] = [];
      let cursor: string | null = null;
      do {
        const r: Reply = await call('POST', '/api/download', { entity, limit: 5000, ...request, cursor });
        if (r.status !== 200) throw new Error(`download ${r.status}: ${r.text}`);
        out.push(...r.body.objects);
        cursor = r.body.cursor;
      } while (cursor);
      return out;
    },
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

export interface TestServer {
  server: SyncServer;
  storage: Storage;
  url: string;
  alice: ApiClient;
  bob: ApiClient;
  carol: ApiClient;
  /** Row counts of what a request may write. */
  counts(): Promise<{ objects: number; failures: number; applied: number; files: number; deleted: number }>;
  close(): Promise<void>;
}

/** The demo app's server (schema, users, access rules, handlers) on an ephemeral port over `storage`. */
export async function startTestServer(storage: Storage, options: Partial<SyncServerOptions> = {}): Promise<TestServer> {
  const server = await createDemoSyncServer(storage, options);
  const url = await server.listen({ port: 0 });
  return {
    server,
    storage,
    url,
    alice: apiClient(url, 'alice-token', 'alice-phone'),
    bob: apiClient(url, 'bob-token', 'bob-laptop'),
    carol: apiClient(url, 'carol-token', 'carol-tablet'),
    async counts() {
      const { rows } = await storage.query<any>(
        `SELECT (SELECT count(*) FROM sf_objects)::int AS objects, (SELECT count(*) FROM sf_failures)::int AS failures,
                (SELECT count(*) FROM sf_applied)::int AS applied, (SELECT count(*) FROM sf_files)::int AS files,
                (SELECT count(*) FROM sf_deleted)::int AS deleted`,
      );
      return rows[0];
    },
    async close() {
      await server.close();
      await storage.close();
    },
  };
}

/**
 * A fresh test server over `target` for each test of the enclosing describe block, closed after
 * it; the target cleaned up after the block. The TestServer returned stands for the running one:
 * use it inside tests.
 */
export function useTestServer(target: StorageTarget): TestServer {
  let current: TestServer | null = null;
  beforeEach(async () => {
    current = await startTestServer(await target.open());
  });
  afterEach(async () => {
    await current?.close();
    current = null;
  });
  afterAll(async () => {
    await target.cleanup();
  });
  const t = (): TestServer => {
    if (!current) throw new Error('useTestServer: no server is running (use it inside a test)');
    return current;
  };
  return {
    get server() {
      return t().server;
    },
    get storage() {
      return t().storage;
    },
    get url() {
      return t().url;
    },
    get alice() {
      return t().alice;
    },
    get bob() {
      return t().bob;
    },
    get carol() {
      return t().carol;
    },
    counts: () => t().counts(),
    close: () => t().close(),
  };
}

export const uuid = (): string => crypto.randomUUID();

/** A change request with a fresh changeId. */
export function change(kind: ChangeKind, entity: string, id: string, data: Record<string, unknown> = {}, changeId = uuid()): ChangeRequest {
  return { changeId, entity, id, kind, data };
}

/** A new task of the client's user with an attachment (no file yet): the attachment's id. */
export async function newAttachment(client: ApiClient): Promise<string> {
  const task = uuid();
  const id = uuid();
  await client.upload([change('create', 'Task', task, { title: 't' }), change('create', 'Attachment', id, { name: 'a', task })]);
  return id;
}

export const WIRE_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
