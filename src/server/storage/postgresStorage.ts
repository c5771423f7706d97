import pg from 'pg';
import type { Queryable, QueryResult, Storage } from './Storage.ts';
import { migrate } from './migrate.ts';
import { checkSchemaName } from './schemaName.ts';

/**
 * A PostgreSQL server through a `pg` pool. The schema is set per connection with the startup
 * option `-c search_path=...`, so no statement has to repeat it and pooled connections
 * cannot leak another schema's path.
 */
export async function openPostgresStorage(options: { url: string; schemaName?: string; max?: number }): Promise<Storage> {
  const storage = postgresView(options.url, checkSchemaName(options.schemaName ?? 'public'), options.max ?? 10);
  try {
    await migrate(storage);
  } catch (e) {
    await storage.close();
    throw e;
  }
  return storage;
}

function postgresView(url: string, schemaName: string, max: number): Storage {
  const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schemaName}`, max });
  // An idle connection dropped by the server must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const run = async <T>(client: pg.Pool | pg.PoolClient, sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> => {
    const r = await client.query(sql, params as unknown[]);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
  };
  return {
    driver: 'postgres',
    schemaName,
    query: (sql, params) => run(pool, sql, params),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
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
      const view = postgresView(url, checkSchemaName(name), max);
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
}
