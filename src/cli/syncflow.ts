/**
 * The `syncflow` command (bin/syncflow.js loads it). Commands: `serve`, `run`, `syncs`, `resync`, `clean-ghosts`, `token`.
 */
import { Command, CommanderError } from 'commander';
import { EXIT, runCommand } from './run.ts';
import { serveCommand } from './serve.ts';
import { syncCommands } from './syncs.ts';
import { profileCommands } from './profiles.ts';
import { tokenCommand } from './token.ts';

let exitCode: number = EXIT.ok;
const program = new Command('syncflow')
  .description('syncflow: run offline-first flows against a sync server')
  .exitOverride()
  .showHelpAfterError()
  // exitOverride is not inherited by added commands: a usage error must exit 2 there too.
  .addCommand(serveCommand((code) => (exitCode = code)).exitOverride().showHelpAfterError())
  .addCommand(runCommand((code) => (exitCode = code)).exitOverride().showHelpAfterError());
for (const command of syncCommands((code) => (exitCode = code))) program.addCommand(command.exitOverride().showHelpAfterError());
for (const command of profileCommands((code) => (exitCode = code))) program.addCommand(command.exitOverride().showHelpAfterError());
program.addCommand(tokenCommand((code) => (exitCode = code)).exitOverride().showHelpAfterError());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // Bad arguments (commander printed why); help and --version end well.
  exitCode = e instanceof CommanderError ? (e.exitCode === 0 ? EXIT.ok : EXIT.input) : EXIT.failed;
  if (!(e instanceof CommanderError)) process.stderr.write(`error internal: ${e instanceof Error ? e.message : String(e)}\n`);
}
process.exitCode = exitCode;
if (exitCode === EXIT.cancelled) {
  // A request the stopped run abandoned would hold the process until its timeout: leave once the output is out.
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise((resolve) => s.write('', resolve))));
  process.exit(exitCode);
}
