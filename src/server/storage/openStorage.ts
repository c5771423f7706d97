import { ValidationError } from '../../errors.ts';
import { openPgliteStorage } from './pgliteStorage.ts';
import { openPostgresStorage } from './postgresStorage.ts';
import type { Storage } from './Storage.ts';

export interface StorageOptions {
  /** `postgres://user@host:5432/db`: a PostgreSQL server. Absent: embedded PGlite. */
  url?: string;
  /** PGlite only: keep the database in this directory instead of in memory. */
  dataDir?: string;
  /** SQL schema holding the tables (default `public`); isolates runs sharing one database. */
  schemaName?: string;
  /** PostgreSQL only: connections in this process's pool (default 10). */
  poolSize?: number;
  /** PostgreSQL only: `url` is a transaction-pooling proxy such as PgBouncer (see openPostgresStorage). */
  pooled?: boolean;
}

/**
 * Opens the sync server's storage and creates its tables (idempotently, safe when several
 * processes start at once).
 *
 * @example
 * const embedded = await openStorage({});                                   // PGlite in memory
 * const onDisk = await openStorage({ dataDir: '.data/pg' });                 // PGlite in a directory
 * const shared = await openStorage({ url: 'postgres://postgres@127.0.0.1:5432/app' });
 * const isolated = await shared.withSchema('run_42');                        // same database, own tables
 */
export async function openStorage(options: StorageOptions = {}): Promise<Storage> {
  if (options.url) {
    if (!/^postgres(ql)?:\/\//.test(options.url)) {
      throw ValidationError.at('url', 'must be a postgres:// connection URL');
    }
    if (options.dataDir) throw ValidationError.at('dataDir', 'only applies to the embedded database (no url)');
    if (options.poolSize !== undefined && !(Number.isInteger(options.poolSize) && options.poolSize >= 1 && options.poolSize <= 1000)) {
      throw ValidationError.at('poolSize', 'must be an integer from 1 to 1000');
    }
    return openPostgresStorage({ url: options.url, schemaName: options.schemaName, max: options.poolSize, pooled: options.pooled });
  }
  if (options.pooled || options.poolSize !== undefined) throw ValidationError.at(options.pooled ? 'pooled' : 'poolSize', 'only applies to a PostgreSQL server (url)');
  return openPgliteStorage({ dataDir: options.dataDir, schemaName: options.schemaName });
}
