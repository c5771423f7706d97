import type { Queryable, Storage } from './Storage.ts';

/**
 * What a storage sent to the database: statements (each query, plus BEGIN and COMMIT per
 * transaction), transactions, and how long each transaction held the write clock (from the
 * answer of its `UPDATE sf_clock`, see clock.ts, to its end): the one lock every writer of a cluster shares.
 */
export interface StatementCount {
  statements: number;
  transactions: number;
  /** Milliseconds per transaction that took the clock, latest last (at most 10,000 kept). */
  clockHeldMs: number[];
}

/**
 * Wraps a storage so every statement is counted (the write-path bench's "SQL statements per
 * change" and lock hold times, and tests that a batch costs a fixed number of statements).
 * Everything else is forwarded untouched; `withSchema` views add to the same count.
 */
export function countingStorage(
  inner: Storage,
  count: StatementCount = { statements: 0, transactions: 0, clockHeldMs: [] },
): { storage: Storage; count: StatementCount } {
  const storage: Storage = {
    driver: inner.driver,
    schemaName: inner.schemaName,
    query: (sql, params) => {
      count.statements++;
      return inner.query(sql, params);
    },
    transaction: async (fn) => {
      count.transactions++;
      count.statements += 2; // BEGIN, COMMIT
      let clockAt: number | null = null;
      try {
        return await inner.transaction((tx: Queryable) =>
          fn({
            query: <T>(sql: string, params?: readonly unknown[]) => {
              count.statements++;
              const result = tx.query<T>(sql, params);
              // Held from the moment the clock's row lock is granted (its UPDATE answers), not asked.
              if (clockAt === null && sql.includes('sf_clock')) void result.then(() => (clockAt ??= performance.now()), () => {});
              return result;
            },
          }),
        );
      } finally {
        if (clockAt !== null) {
          count.clockHeldMs.push(performance.now() - clockAt);
          if (count.clockHeldMs.length > 10_000) count.clockHeldMs.shift();
        }
      }
    },
    withSchema: async (name) => countingStorage(await inner.withSchema(name), count).storage,
    close: () => inner.close(),
  };
  return { storage, count };
}
