import type { Queryable, Storage } from './Storage.ts';

/** Statements sent to the database by a storage: each query, plus BEGIN and COMMIT per transaction. */
export interface StatementCount {
  statements: number;
  transactions: number;
}

/**
 * Wraps a storage so every statement is counted (the bench's "SQL statements per change"). The
 * wrapper forwards everything else untouched; `withSchema` views are counted too.
 */
export function countingStorage(inner: Storage, count: StatementCount = { statements: 0, transactions: 0 }): { storage: Storage; count: StatementCount } {
  const counted = (q: Queryable): Queryable => ({
    query: (sql, params) => {
      count.statements++;
      return q.query(sql, params);
    },
  });
  const storage: Storage = {
    driver: inner.driver,
    schemaName: inner.schemaName,
    query: (sql, params) => {
      count.statements++;
      return inner.query(sql, params);
    },
    transaction: (fn) => {
      count.transactions++;
      count.statements += 2; // BEGIN, COMMIT
      return inner.transaction((tx) => fn(counted(tx)));
    },
    withSchema: async (name) => countingStorage(await inner.withSchema(name), count).storage,
    close: () => inner.close(),
  };
  return { storage, count };
}
