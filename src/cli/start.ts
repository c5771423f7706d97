/**
 * `npm start`: `syncflow serve` for the demo app (src/demo/syncflow.config.ts): the sync server on
 * the embedded database (or PostgreSQL) with the demo users and data, plus the flow editor.
 * Prints both URLs and the demo tokens.
 */
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/loadConfig.ts';
import { toSyncflowError } from '../errors.ts';
import { EXIT } from './cliRuntime.ts';
import { closeOnSignals, serveApp, withServeOptions, type ServeOptions } from './serve.ts';

const program = withServeOptions(new Command('syncflow-start').description('Start the syncflow sync server (demo app) and the flow editor')).parse();
const options = program.opts<ServeOptions>();

const app = await serveApp(await loadConfig(fileURLToPath(new URL('../demo/syncflow.config.ts', import.meta.url))), options, process.stdout).catch(
  (e: unknown) => {
    // A bad option (a pool size without PostgreSQL, a taken port): the reason, not a stack trace.
    const error = toSyncflowError(e);
    process.stderr.write(`error ${error.code}: ${error.message}\n`);
    process.exit(EXIT.input);
  },
);
if (app.editorUrl) {
  console.log(`sign in to the editor with a user's token (the page never shows tokens; only role "${options.authorRole}" saves flows):`);
  console.log('  alice-token  (alice: user, author: opens, runs and saves flows)');
  console.log('  bob-token    (bob: user: opens and runs flows)');
  console.log('  carol-token  (carol: manager: opens and runs flows)');
}
closeOnSignals(app);
