/** What a query answers: the rows, and how many rows a write touched. */
export interface QueryResult<T = Record<string, unknown>> {
  rows: T[];
  rowCount: number;
}

/** Something SQL can be sent to: a storage, or one of its open transactions. */
export interface Queryable {
  /** Runs one parameterized statement (`$1`, `$2`, ...). Values are never interpolated. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
}

/**
 * PostgreSQL-compatible storage: one SQL code path over embedded PGlite or a PostgreSQL
 * server. Every statement runs with `search_path` set to `schemaName`, so several runs
 * (tests, tenants) can share one database.
 */
export interface Storage extends Queryable {
  readonly driver: 'pglite' | 'postgres';
  readonly schemaName: string;
  /**
   * Runs `fn` in one transaction (READ COMMITTED): committed when it resolves, rolled back
   * when it throws. Use SAVEPOINTs on `tx` for partial rollbacks.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * The same database seen through another SQL schema, created and migrated if needed.
   * Closing the view releases only what the view opened (a pool for PostgreSQL).
   */
  withSchema(schemaName: string): Promise<Storage>;
  close(): Promise<void>;
}
