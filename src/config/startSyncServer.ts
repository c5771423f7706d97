import type { FastifyServerOptions } from 'fastify';
import { createSyncServer, type MountedApp, type SyncServer } from '../server/createSyncServer.ts';
import { openStorage } from '../server/storage/openStorage.ts';
import type { Storage } from '../server/storage/Storage.ts';
import { resolveAuth } from './loadConfig.ts';
import type { SyncflowConfig, TokenVerifier } from './SyncflowConfig.ts';

export interface StartSyncServerOptions {
  /** Default 4000; 0 picks a free port (the answered `url` holds it). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Keep the embedded PGlite database in this folder (default: in memory). */
  dataDir?: string;
  /** A PostgreSQL server instead of the embedded database. */
  databaseUrl?: string;
  /** PostgreSQL only: connections in this process's pool (default 10). */
  poolSize?: number;
  /** PostgreSQL only: the URL is a transaction-pooling proxy such as PgBouncer. */
  pooled?: boolean;
  /** The PostgreSQL schema to work in (tests). */
  schemaName?: string;
  /** Storage already open (several servers on one database); it stays open when the server closes. */
  storage?: Storage;
  /** The config's token verifier when already prepared (loadConfig does); else made from `config.auth`. */
  verifyToken?: TokenVerifier;
  /** The page `/` answers (HTML); default: a short page naming the server and its API. */
  home?: () => string;
  /** Another app served under a path of this port (the flow editor under `/editor`). */
  mount?: MountedApp;
  logger?: FastifyServerOptions['logger'];
}

export interface RunningSyncServer {
  url: string;
  port: number;
  server: SyncServer;
  storage: Storage;
  /** Stops the server and closes its storage (unless it was given). */
  close(): Promise<void>;
}

/**
 * Starts the sync server of an app: its storage (PGlite in memory or on disk, or PostgreSQL), the
 * config's schema, access rules, handlers, auth and users, its seed, then listens. `/` answers a
 * page (never a 404).
 *
 * @example
 * import config from './syncflow.config.ts';
 * const app = await startSyncServer(config, { port: 0 });
 * console.log(app.url); // http://127.0.0.1:41234
 * await app.close();
 */
export async function startSyncServer(config: SyncflowConfig, options: StartSyncServerOptions = {}): Promise<RunningSyncServer> {
  const verifyToken = options.verifyToken ?? (await resolveAuth(config));
  const owned = !options.storage;
  const storage = options.storage ?? (await openStorage({ url: options.databaseUrl, dataDir: options.dataDir, schemaName: options.schemaName, poolSize: options.poolSize, pooled: options.pooled }));
  try {
    const server = await createSyncServer({
      schema: config.schema,
      storage,
      users: config.users,
      access: config.access,
      handlers: config.handlers,
      verifyToken,
      cors: true,
      mount: options.mount,
      logger: options.logger ?? { level: 'warn' },
    });
    await config.seed?.(server);
    const home = options.home ?? defaultHome;
    server.app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(home()));
    const url = await server.listen({ port: options.port ?? 4000, host: options.host ?? '127.0.0.1' });
    return {
      url,
      port: Number(new URL(url).port),
      server,
      storage,
      async close() {
        await server.close();
        if (owned) await storage.close();
      },
    };
  } catch (e) {
    if (owned) await storage.close();
    throw e;
  }
}

function defaultHome(): string {
  return homePage('<p>This is a syncflow sync server. Devices talk to it over <code>/api/*</code> (see docs/protocol.md); <a href="/api/health">/api/health</a> says it is up.</p>');
}

/** A small HTML page for `/` (no scripts; the body is trusted HTML made by the caller). */
export function homePage(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>syncflow</title></head><body><h1>syncflow</h1>${body}</body></html>`;
}
