/**
 * The runtime the `syncflow` commands work with: the app's schema, named syncs and flows (its
 * config: `--config`, else `syncflow.config.ts` in the working folder, else the demo app), a user
 * of a sync server, and a local offline database kept between commands (a snapshot file per
 * server and user in `--db-dir`).
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { findConfigFile, loadConfig } from '../config/loadConfig.ts';
import type { SyncflowConfig } from '../config/SyncflowConfig.ts';
import { readFlowFile } from '../flow/node/loadFlowFile.ts';
import { toSyncflowError, ValidationError } from '../errors.ts';
import { createRuntime, type FlowSource, type Runtime } from '../runtime/Runtime.ts';
import { openPersistentIndexedDb, type PersistentIndexedDb } from './indexedDbSnapshot.ts';

export interface CliIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborting it stops the work (Ctrl-C). */
  signal?: AbortSignal;
}

/** Exit codes: ended; failed; could not start (bad arguments, file, flow or database); stopped. */
export const EXIT = { ok: 0, failed: 1, input: 2, cancelled: 130 } as const;

export interface ConnectionOptions {
  server: string;
  user: string;
  /** Default: the demo server's token of the user, `<user>-token`. */
  token?: string;
  /** Where the local databases are kept (default `.syncflow`). */
  dbDir?: string;
  /** The app's config file (default `syncflow.config.ts` in the working folder, else the demo app). */
  config?: string;
}

/** The app the commands work for, and its flows folder. */
export async function cliApp(configFile?: string): Promise<{ config: SyncflowConfig; flowsDir: string }> {
  const file = await findConfigFile(configFile);
  if (file) return loadConfig(file);
  // The demo app's parts directly: no config checks to pay for on every command.
  const [{ demoSchema }, { demoSyncs }] = await Promise.all([import('../demo/schema.ts'), import('../demo/syncs.ts')]);
  return { config: { schema: demoSchema, access: {}, syncs: demoSyncs }, flowsDir: resolve(import.meta.dirname, '../../flows') };
}

export interface CliRuntime {
  runtime: Runtime;
  user: string;
  serverUrl: URL;
  /** The snapshot file of the local database. */
  dbFile: string;
  /** False when this command created the local database. */
  restored: boolean;
  /** Saves the local database (committed work and failures are kept even after a failure) and lets go of it. */
  close(): Promise<void>;
}

/** Opens the user's local database and a runtime on it; bad options are a ValidationError naming the option. */
export async function openCliRuntime(options: ConnectionOptions, flows?: FlowSource): Promise<CliRuntime> {
  const serverUrl = parseServerUrl(options.server);
  const user = options.user.trim();
  if (!user) throw ValidationError.at('--user', 'give the user to run as, e.g. --user alice');
  const app = await cliApp(options.config);
  const dbFile = join(resolve(options.dbDir ?? '.syncflow'), `${safeName(serverUrl.host)}-${safeName(user)}.idb`);
  const db: PersistentIndexedDb = await openPersistentIndexedDb(dbFile);
  let runtime: Runtime;
  try {
    runtime = await createRuntime({
      schema: app.config.schema,
      serverUrl: serverUrl.href.replace(/\/$/, ''),
      token: options.token ?? `${user}-token`,
      user,
      dbName: `syncflow:${serverUrl.host}:${user}`,
      indexedDB: db.indexedDB,
      IDBKeyRange: db.IDBKeyRange,
      flows,
      syncs: app.config.syncs,
      // The config's profile settings; its definitions only where a command asks (no background triggers in a CLI).
      profiles: app.config.profiles ? { ...app.config.profiles, definitions: undefined } : undefined,
    });
    // Call flow and runFlow(name) also find the app's flows (after those beside the flow file).
    runtime.registerFlows(async (name) => {
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) return undefined;
      return readFlowFile(join(app.flowsDir, `${name}.flow.json`)).catch(() => undefined);
    });
  } catch (e) {
    await db.release();
    throw e;
  }
  return {
    runtime,
    user,
    serverUrl,
    dbFile,
    restored: db.restored,
    async close() {
      runtime.close();
      try {
        await db.save();
      } catch (e) {
        throw new Error(`could not save the local database ${db.file}: ${toSyncflowError(e).message}`, { cause: e });
      } finally {
        await db.release();
      }
    },
  };
}

function parseServerUrl(server: string): URL {
  let url: URL | null = null;
  try {
    url = new URL(server);
  } catch {
    // reported below
  }
  if (!url || !/^https?:$/.test(url.protocol)) throw ValidationError.at('--server', `"${server}" is not an http(s) URL, e.g. http://127.0.0.1:4000`);
  return url;
}

/** A file name part: letters, digits and `._-` only. */
function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/**
 * Saves and lets go of the local database at the end of a command; a failure to save is
 * reported on `err` and makes a successful exit code a failure.
 */
export async function closeCliRuntime(cli: CliRuntime | null, io: CliIo, code: number): Promise<number> {
  try {
    await cli?.close();
    return code;
  } catch (e) {
    io.err.write(`error internal: ${toSyncflowError(e).message}\n`);
    return code || EXIT.failed;
  }
}

/** The options of every command that works as a user of a sync server on the local database. */
export function withConnectionOptions(command: Command): Command {
  return command
    .requiredOption('--server <url>', 'the sync server, e.g. http://127.0.0.1:4000')
    .requiredOption('--user <id>', 'the user to run as (alice, bob, carol on the demo server)')
    .option('--token <token>', "the user's bearer token (default: the demo server's <user>-token)")
    .option('--db-dir <dir>', 'where the local offline databases are kept (one file per server and user)', '.syncflow')
    .option('--config <file>', "the app's config (default: syncflow.config.ts here, else the demo app)");
}

/**
 * Runs a command's work on the process's streams with Ctrl-C (and SIGTERM) wired to an abort
 * signal: the first stops the work at its next consistent point, a second quits at once.
 */
export async function interruptible(exit: (code: number) => void, work: (io: CliIo) => Promise<number>): Promise<void> {
  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) process.exit(EXIT.cancelled);
    process.stderr.write('stopping (Ctrl-C again to quit at once)\n');
    controller.abort(new Error('stopped with Ctrl-C'));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    exit(await work({ out: process.stdout, err: process.stderr, signal: controller.signal }));
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
