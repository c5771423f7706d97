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
    return openPostgresStorage({ url: options.url, schemaName: options.schemaName });
  }
  return openPgliteStorage({ dataDir: options.dataDir, schemaName: options.schemaName });
}
