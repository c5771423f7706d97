/**
 * `npm start`: the sync server on the embedded database (or PostgreSQL) with the demo app and
 * its data, plus the flow editor on the same machine. Prints both URLs.
 */
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { startDemoServer } from '../server/demo.ts';
import { startEditor } from '../../editor/server/startEditor.ts';

const program = new Command('syncflow-start')
  .description('Start the syncflow sync server (demo app) and the flow editor')
  .option('--port <port>', 'sync server port', (v) => Number.parseInt(v, 10), 4000)
  .option('--editor-port <port>', 'editor port', (v) => Number.parseInt(v, 10), 5173)
  .option('--host <host>', 'address the sync server listens on', '127.0.0.1')
  .option('--editor-host <host>', 'address the editor listens on (keep it local: it can write the flows folder)', '127.0.0.1')
  .option('--editor-allowed-host <name...>', 'host names the editor answers to besides localhost and 127.0.0.1 (e.g. behind a proxy)')
  .option('--author-role <role>', 'the sync server role that may save flows in the editor', 'author')
  .option('--data-dir <dir>', 'keep the embedded PGlite database in this directory (default: in memory)')
  .option('--database-url <url>', 'use this PostgreSQL server instead of the embedded database', process.env.DATABASE_URL)
  .option('--flows <dir>', 'the flows folder', fileURLToPath(new URL('../../flows', import.meta.url)))
  .parse();

const options = program.opts<{
  port: number;
  editorPort: number;
  host: string;
  editorHost: string;
  editorAllowedHost?: string[];
  authorRole: string;
  dataDir?: string;
  databaseUrl?: string;
  flows: string;
}>();

const server = await startDemoServer({ port: options.port, host: options.host, dataDir: options.dataDir, url: options.databaseUrl });
const editor = await startEditor({
  port: options.editorPort,
  host: options.editorHost,
  allowedHosts: options.editorAllowedHost,
  authorRole: options.authorRole,
  syncServerUrl: server.url,
  flowsDir: options.flows,
});

console.log(`syncflow sync server: ${server.url}  (storage: ${options.databaseUrl ? 'PostgreSQL' : options.dataDir ? `PGlite in ${options.dataDir}` : 'PGlite in memory'})`);
console.log(`syncflow editor:      ${editor.url}`);
console.log(`sign in to the editor with a user's token (the page never shows tokens; only role "${options.authorRole}" saves flows):`);
console.log('  alice-token  (alice: user, author: opens, runs and saves flows)');
console.log('  bob-token    (bob: user: opens and runs flows)');
console.log('  carol-token  (carol: manager: opens and runs flows)');

const stop = async () => {
  await editor.close();
  await server.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
