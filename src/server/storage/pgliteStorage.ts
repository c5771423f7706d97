import { PGlite } from '@electric-sql/pglite';
import type { Queryable, QueryResult, Storage } from './Storage.ts';
import { migrate } from './migrate.ts';
import { checkSchemaName } from './schemaName.ts';

/**
 * Embedded PGlite (in memory, or in `dataDir`). PGlite is one connection whose every query and
 * transaction runs exclusively, so a view of a schema pins its `search_path` with SET LOCAL at
 * the start of each transaction: views of other schemas on the same instance cannot interleave.
 */
export async function openPgliteStorage(options: { dataDir?: string; schemaName?: string } = {}): Promise<Storage> {
  const schemaName = checkSchemaName(options.schemaName ?? 'public');
  const db = await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {});
  const root = pgliteView(db, schemaName, async () => {
    if (!db.closed) await db.close();
  });
  await migrate(root);
  return root;
}

function pgliteView(db: PGlite, schemaName: string, onClose: () => Promise<void>): Storage {
  const pin = `SET LOCAL search_path TO ${schemaName}`;
  const wrap = (tx: { query: PGlite['query'] }): Queryable => ({
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const r = await tx.query<T>(sql, params as unknown[]);
      return { rows: r.rows, rowCount: r.affectedRows || r.rows.length };
    },
  });
  const transaction = <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> =>
    db.transaction(async (tx) => {
      await tx.exec(pin);
      return fn(wrap(tx));
    });
  return {
    driver: 'pglite',
    schemaName,
    query: (sql, params) => transaction((tx) => tx.query(sql, params)),
    transaction,
    async withSchema(name) {
      const view = pgliteView(db, checkSchemaName(name), async () => {});
      await migrate(view);
      return view;
    },
    close: onClose,
  };
}
