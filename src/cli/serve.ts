/**
 * `syncflow serve [--config file]`: the sync server of an app (its config's schema, access
 * rules, handlers, auth, users and seed) and the flow editor for its flows. `npm start` is the
 * same for the demo app. `PORT` and `HOST` are honoured (the flags win); `--port 0` picks a free
 * port; the URLs printed are the ones listening.
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Command, InvalidArgumentError, Option } from 'commander';
import { findConfigFile, loadConfig, type LoadedConfig } from '../config/loadConfig.ts';
import { toSyncflowError, ValidationError } from '../errors.ts';
import { EXIT } from './cliRuntime.ts';

export interface ServeOptions {
  port: number;
  host: string;
  editor: boolean;
  /** A port of its own for the editor; default: the sync server's, under `/editor/`. */
  editorPort?: number;
  editorHost: string;
  editorAllowedHost?: string[];
  authorRole: string;
  dataDir?: string;
  databaseUrl?: string;
  /** PostgreSQL: connections per server process; behind a transaction pooler (PgBouncer). */
  poolSize?: number;
  pooled?: boolean;
  /** Overrides the config's flows folder. */
  flows?: string;
  /** The editor from Vite's dev server (hot reload), for working on the editor itself. */
  dev?: boolean;
}

export interface RunningApp {
  url: string;
  editorUrl: string | null;
  close(): Promise<void>;
}

/** A port option: a whole number 0-65535 (0: any free port); commander reports a bad one as a usage error. */
export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) > 65535) throw new InvalidArgumentError(`"${value}" is not a port (0-65535; 0 picks a free one)`);
  return Number(value);
}

/** The options `serve` and `npm start` share; PORT, HOST and DATABASE_URL are their defaults. */
export function withServeOptions(command: Command): Command {
  return command
    .addOption(new Option('--port <port>', 'sync server port (0: any free port)').env('PORT').default(4000).argParser(parsePort))
    .addOption(new Option('--host <host>', 'address the sync server listens on').env('HOST').default('127.0.0.1'))
    .option('--no-editor', 'serve the sync server only')
    .addOption(new Option('--editor-port <port>', "a port of the editor's own (0: any free port; default: the sync server's port, under /editor/)").argParser(parsePort))
    .option('--editor-host <host>', 'with --editor-port: the address the editor listens on (keep it local: it can write the flows folder)', '127.0.0.1')
    .option('--editor-allowed-host <name...>', 'host names the editor answers to besides localhost, 127.0.0.1 and the listening address (e.g. behind a proxy)')
    .option('--author-role <role>', 'the sync server role that may save flows in the editor', 'author')
    .option('--dev', "the editor from Vite's dev server, with hot reload (working on the editor itself)")
    .option('--data-dir <dir>', 'keep the embedded PGlite database in this directory (default: in memory)')
    .addOption(new Option('--database-url <url>', 'use this PostgreSQL server instead of the embedded database').env('DATABASE_URL'))
    .addOption(
      new Option('--pool-size <n>', 'PostgreSQL connections of this server process (default 10)').env('SYNCFLOW_POOL_SIZE').argParser((v) => Number(v)),
    )
    .addOption(new Option('--pooled', 'the database URL is a transaction-pooling proxy such as PgBouncer (pool_mode = transaction)').env('SYNCFLOW_POOLED'))
    .option('--flows <dir>', "the flows folder (default: the config's)");
}

/**
 * Starts an app's sync server and its editor; prints their URLs on `out`.
 *
 * @example
 * const app = await serveApp(await loadConfig('syncflow.config.ts'), { port: 0, host: '127.0.0.1', editor: false, ... }, process.stdout);
 */
export async function serveApp(loaded: LoadedConfig, options: ServeOptions, out: NodeJS.WritableStream): Promise<RunningApp> {
  let editorUrl: string | null = null;
  let serverUrl = '';
  const flowsDir = options.flows ?? loaded.flowsDir;
  const editorModule = options.editor ? await loadEditor() : null;
  // On the sync server's port unless a port of its own is asked for (or Vite's dev server, which proxies to one).
  const ownPort = options.editorPort !== undefined || options.dev === true;
  const editorOptions = {
    allowedHosts: options.editorAllowedHost,
    authorRole: options.authorRole,
    syncServerUrl: () => serverUrl,
    flowsDir,
    schema: loaded.config.schema,
    // The page validates and runs flows against the app's own schema and profiles (GET editor-api/app).
    profiles: loaded.config.profiles?.definitions,
  };
  const mounted = editorModule && !ownPort ? await editorModule.createEditorHandler({ ...editorOptions, host: options.host, basePath: EDITOR_PATH }) : null;
  // The server (fastify, storage) loads only for `serve`: the other commands start faster without it.
  const { homePage, startSyncServer } = await import('../config/startSyncServer.ts');
  const server = await startSyncServer(loaded.config, {
    port: options.port,
    host: options.host,
    dataDir: options.dataDir,
    databaseUrl: options.databaseUrl,
    poolSize: options.poolSize,
    pooled: options.pooled,
    verifyToken: loaded.verifyToken,
    mount: mounted ? { prefix: EDITOR_PATH, handle: mounted.handle } : undefined,
    // `/` is never a 404: it points to the editor.
    home: () =>
      homePage(
        editorUrl
          ? `<p>The flow editor of this app: <a href="${editorUrl}">${editorUrl}</a>.</p><p>Devices sync with <code>/api/*</code>; <a href="/api/health">/api/health</a> says the server is up.</p>`
          : '<p>Devices sync with <code>/api/*</code>; <a href="/api/health">/api/health</a> says the server is up.</p>',
      ),
  });
  serverUrl = server.url;
  const closers: Array<() => Promise<void>> = [() => server.close()];
  const storage = options.databaseUrl ? 'PostgreSQL' : options.dataDir ? `PGlite in ${options.dataDir}` : 'PGlite in memory';
  out.write(`syncflow sync server: ${server.url}  (storage: ${storage}; app: ${loaded.file})\n`);
  try {
    if (options.editor && !editorModule) {
      out.write('syncflow editor:      not part of this install (it runs from a checkout of the syncflow repository)\n');
    } else if (mounted) {
      editorUrl = `${server.url}${EDITOR_PATH}/`;
    } else if (editorModule) {
      const editor = await editorModule.startEditor({ ...editorOptions, port: options.editorPort ?? 0, host: options.editorHost, syncServerUrl: server.url });
      closers.unshift(() => editor.close());
      editorUrl = editor.url;
      if (options.dev) {
        const dev = await startEditorDevServer(editor.url, options.editorHost);
        closers.unshift(dev.close);
        editorUrl = dev.url;
      }
    }
    if (editorUrl) out.write(`syncflow editor:      ${editorUrl}  (flows: ${flowsDir})\n`);
  } catch (e) {
    for (const close of closers) await close().catch(() => undefined);
    throw e;
  }
  return {
    url: server.url,
    editorUrl,
    async close() {
      for (const close of closers) await close();
    },
  };
}

/** Where the editor is served on the sync server's port. */
const EDITOR_PATH = '/editor';

interface EditorOptions {
  host?: string;
  allowedHosts?: string[];
  authorRole?: string;
  syncServerUrl: string | (() => string);
  flowsDir: string;
  schema?: unknown;
  profiles?: unknown;
}

interface EditorModule {
  startEditor(options: EditorOptions & { port?: number }): Promise<{ url: string; close(): Promise<void> }>;
  createEditorHandler(options: EditorOptions & { basePath: string }): Promise<{ handle(req: IncomingMessage, res: ServerResponse): void }>;
}

/**
 * The editor's server, from the repository's editor/ folder. It is built with Vite (a dev
 * dependency), so the published package does not ship it: null there. The path is computed so
 * that the package build leaves editor/ out.
 */
async function loadEditor(): Promise<EditorModule | null> {
  const entry = new URL(['..', '..', 'editor', 'server', 'startEditor.ts'].join('/'), import.meta.url);
  if (!existsSync(entry)) return null;
  return (await import(entry.href)) as EditorModule;
}

/**
 * Vite's dev server over editor/ (hot reload), forwarding the editor's API and the sync API to
 * the running editor server, which keeps the sign-in and the flows folder.
 */
async function startEditorDevServer(editorUrl: string, host: string): Promise<{ url: string; close(): Promise<void> }> {
  const [{ createServer }, { default: react }] = await Promise.all([import('vite'), import('@vitejs/plugin-react')]);
  const root = new URL('../../editor', import.meta.url).pathname;
  const proxy = { target: editorUrl, changeOrigin: false };
  const vite = await createServer({
    root,
    configFile: false,
    envDir: false,
    plugins: [react()],
    logLevel: 'warn',
    clearScreen: false,
    server: { host, port: 0, proxy: { '/api': proxy, '/editor-api': proxy } },
  });
  await vite.listen();
  const url = vite.resolvedUrls?.local[0]?.replace(/\/$/, '') ?? '';
  return { url, close: () => vite.close() };
}

/** Serves until SIGINT / SIGTERM, then closes the editor and the server. */
export function closeOnSignals(app: RunningApp): void {
  const stop = async () => {
    await app.close().catch(() => undefined);
    process.exit(EXIT.ok);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The `serve` command for the `syncflow` program. */
export function serveCommand(exit: (code: number) => void): Command {
  return withServeOptions(
    new Command('serve')
      .description("Serve an app: its sync server (config's schema, access rules, handlers, auth) and the flow editor for its flows")
      .option('--config <file>', 'the config file (default: syncflow.config.ts in this folder)'),
  )
    .addHelpText('after', '\nExample:\n  syncflow serve --config syncflow.config.ts --port 0')
    .action(async (options: ServeOptions & { config?: string }) => {
      try {
        const file = await findConfigFile(options.config);
        if (!file) throw ValidationError.at('--config', 'no syncflow.config.ts here: give --config <file>');
        closeOnSignals(await serveApp(await loadConfig(file), options, process.stdout));
      } catch (e) {
        const error = toSyncflowError(e);
        process.stderr.write(`error ${error.code}: ${error.message}\n`);
        exit(EXIT.input);
      }
    });
}
