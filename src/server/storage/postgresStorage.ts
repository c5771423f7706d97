import pg from 'pg';
import type { Queryable, QueryResult, Storage } from './Storage.ts';
import { migrate } from './migrate.ts';
import { checkSchemaName } from './schemaName.ts';

export interface PostgresStorageOptions {
  url: string;
  schemaName?: string;
  /** Connections in this process's pool (default 10). */
  max?: number;
  /**
   * The URL is a transaction-pooling proxy (PgBouncer `pool_mode = transaction`): nothing may
   * rely on session state, and startup options such as `-c search_path` are refused by it.
   */
  pooled?: boolean;
}

/**
 * A PostgreSQL server through a `pg` pool. The schema is set per connection with the startup
 * option `-c search_path=...`, so no statement has to repeat it and pooled connections
 * cannot leak another schema's path. Behind a transaction pooler (`pooled`), a server
 * connection changes between transactions, so the path is set with `SET LOCAL` in each
 * transaction instead (sent with BEGIN: no extra round trip), and only for a schema other than
 * `public`. Nothing else here keeps session state: locks are transaction-scoped
 * (`pg_advisory_xact_lock`), statements are unnamed.
 */
export async function openPostgresStorage(options: PostgresStorageOptions): Promise<Storage> {
  const storage = postgresView(options.url, checkSchemaName(options.schemaName ?? 'public'), options.max ?? 10, options.pooled ?? false);
  try {
    await migrate(storage);
  } catch (e) {
    await storage.close();
    throw e;
  }
  return storage;
}

function postgresView(url: string, schemaName: string, max: number, pooled: boolean): Storage {
  const pool = new pg.Pool({ connectionString: url, max, ...(pooled ? {} : { options: `-c search_path=${schemaName}` }) });
  // checkSchemaName allows only [a-z0-9_]: safe to quote as an identifier.
  const begin = pooled && schemaName !== 'public' ? `BEGIN; SET LOCAL search_path TO "${schemaName}"` : 'BEGIN';
  // An idle connection dropped by the server must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const run = async <T>(client: pg.Pool | pg.PoolClient, sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> => {
    const r = await client.query(sql, params as unknown[]);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
  };
  const storage: Storage = {
    driver: 'postgres',
    schemaName,
    // Behind a pooler, a lone statement outside `public` needs the path too: run it in a transaction.
    query: (sql, params) => (begin === 'BEGIN' ? run(pool, sql, params) : storage.transaction((tx) => tx.query(sql, params))),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query(begin);
        try {
          const out = await fn({ query: (sql, params) => run(client, sql, params) });
          await client.query('COMMIT');
          return out;
        } catch (e) {
          await client.query('ROLLBACK').catch((rollbackError: Error) => {
            broken = rollbackError; // the connection is unusable: destroy it rather than pool it
          });
          throw e;
        }
      } finally {
        client.release(broken);
      }
    },
    async withSchema(name) {
      const view = postgresView(url, checkSchemaName(name), max, pooled);
      try {
        await migrate(view);
      } catch (e) {
        await view.close();
        throw e;
      }
      return view;
    },
    close: () => pool.end(),
  };
  return storage;
}
