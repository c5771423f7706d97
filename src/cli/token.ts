/**
 * `syncflow token issue | revoke | list`: bearer tokens of a sync server's users, managed in its
 * database directly (PostgreSQL by URL, or the embedded database's data directory). A server need
 * not run: every server process reads the tokens table on each request, so a revocation applies at once.
 */
import { Command } from 'commander';
import { toSyncflowError, ValidationError } from '../errors.ts';
import { openStorage } from '../server/storage/openStorage.ts';
import type { Storage } from '../server/storage/Storage.ts';
import { issueToken, listTokens, parseDuration, revokeToken, type TokenRecord } from '../server/tokens.ts';
import { EXIT, type CliIo } from './cliRuntime.ts';

export interface DatabaseOptions {
  databaseUrl?: string;
  dataDir?: string;
  /** The SQL schema of the server's tables (default public). */
  schema?: string;
}

/** Opens the storage, does the work, closes it; resolves with the exit code (never throws). */
async function withStorage(options: DatabaseOptions, io: CliIo, work: (storage: Storage) => Promise<void>): Promise<number> {
  let storage: Storage | null = null;
  try {
    if (!options.databaseUrl && !options.dataDir) {
      throw ValidationError.at('--database-url', 'give the database: --database-url postgres://… (or DATABASE_URL) or --data-dir <dir>');
    }
    if (options.databaseUrl && options.dataDir) throw ValidationError.at('--data-dir', 'give either --database-url or --data-dir, not both');
    storage = await openStorage({ url: options.databaseUrl, dataDir: options.dataDir, schemaName: options.schema });
  } catch (e) {
    const error = toSyncflowError(e);
    io.err.write(`error ${error.code}: ${error.message}\n`);
    return error.code === 'validation_failed' ? EXIT.input : EXIT.failed;
  }
  try {
    await work(storage);
    return EXIT.ok;
  } catch (e) {
    const error = toSyncflowError(e);
    io.err.write(`error ${error.code}: ${error.message}\n`);
    return error.code === 'validation_failed' ? EXIT.input : EXIT.failed;
  } finally {
    await storage.close();
  }
}

/** One line per token: id, user, source, status, dates. Never the token itself. */
function describe(t: TokenRecord): string {
  const parts = [t.id, t.user, t.source, t.status, `created ${t.createdDate}`, `expires ${t.expiresDate ?? 'never'}`];
  if (t.revokedDate) parts.push(`revoked ${t.revokedDate}`);
  return parts.join('  ');
}

/** Issues a token: printed alone on stdout (once: only its hash is kept), its id and expiry on stderr. */
export function issue(options: DatabaseOptions & { user: string; expiresIn: string }, io: CliIo): Promise<number> {
  return withStorage(options, io, async (storage) => {
    const { token, record } = await issueToken(storage, options.user, parseDuration(options.expiresIn, '--expires-in'));
    io.out.write(`${token}\n`);
    io.err.write(`issued token ${record.id} for ${record.user}, expires ${record.expiresDate ?? 'never'} (it is shown only this once)\n`);
  });
}

export function revoke(tokenOrId: string, options: DatabaseOptions, io: CliIo): Promise<number> {
  return withStorage(options, io, async (storage) => {
    const record = await revokeToken(storage, tokenOrId);
    io.out.write(`revoked ${record.id} (${record.user}, ${record.source})\n`);
  });
}

export function list(options: DatabaseOptions & { user?: string }, io: CliIo): Promise<number> {
  return withStorage(options, io, async (storage) => {
    const tokens = await listTokens(storage, options.user);
    for (const t of tokens) io.out.write(`${describe(t)}\n`);
    if (!tokens.length) io.out.write('no tokens\n');
  });
}

function withDatabaseOptions(command: Command): Command {
  return command
    .option('--database-url <url>', "the server's PostgreSQL database", process.env.DATABASE_URL)
    .option('--data-dir <dir>', "the embedded database's directory (stop the server that uses it first)")
    .option('--schema <name>', 'the SQL schema of the tables', 'public')
    .exitOverride()
    .showHelpAfterError();
}

/** The `token` command and its `issue`, `revoke` and `list` subcommands. */
export function tokenCommand(exit: (code: number) => void): Command {
  const io: CliIo = { out: process.stdout, err: process.stderr };
  return new Command('token')
    .description("Issue, revoke and list users' bearer tokens (in the sync server's database)")
    .addCommand(
      withDatabaseOptions(
        new Command('issue')
          .description('Issue a new token for a user and print it (only this once)')
          .requiredOption('--user <id>', 'the user, e.g. alice')
          .option('--expires-in <duration>', 'lifetime: 30d, 12h, 15m, 90s, or never', '30d'),
      ).action(async (options) => exit(await issue(options, io))),
    )
    .addCommand(
      withDatabaseOptions(
        new Command('revoke').description('Revoke a token, given as its id or as the token itself').argument('<token-or-id>'),
      ).action(async (tokenOrId: string, options) => exit(await revoke(tokenOrId, options, io))),
    )
    .addCommand(
      withDatabaseOptions(new Command('list').description("List tokens (never the tokens themselves)").option('--user <id>', 'only this user')).action(
        async (options) => exit(await list(options, io)),
      ),
    );
}
