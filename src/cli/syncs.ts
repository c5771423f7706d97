/**
 * The named-sync commands of `syncflow`: `syncs` lists the device's named syncs, `resync <name>`
 * runs one incrementally (full the first time) with a progress bar, `clean-ghosts <name>`
 * removes a sync down's ghosts. They work on the same local database as `syncflow run`.
 */
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { SyncStoppedError, toSyncflowError } from '../errors.ts';
import type { SyncDownTarget, SyncState } from '../model/syncState.ts';
import { closeCliRuntime, EXIT, interruptible, openCliRuntime, withConnectionOptions, type CliIo, type CliRuntime, type ConnectionOptions } from './cliRuntime.ts';

type Work = (cli: CliRuntime, io: CliIo) => Promise<number>;

/** Opens the runtime, does the work, saves the local database; resolves with the exit code (never throws). */
async function withRuntime(options: ConnectionOptions, io: CliIo, work: Work): Promise<number> {
  let cli: CliRuntime | null = null;
  let code: number = EXIT.ok;
  try {
    cli = await openCliRuntime(options);
    code = await work(cli, io);
  } catch (e) {
    const error = toSyncflowError(e);
    io.err.write(`error ${error.code}: ${error.message}\n`);
    code = cli ? EXIT.failed : EXIT.input;
  }
  return closeCliRuntime(cli, io, code);
}

/** One line per sync: name, type, status, progress, what it targets, its checkpoint. */
export function listSyncs(options: ConnectionOptions, io: CliIo): Promise<number> {
  return withRuntime(options, io, async ({ runtime }) => {
    const states = (await runtime.syncs.listSyncs()).sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id));
    for (const s of states) io.out.write(`${describe(s)}\n`);
    if (states.length === 0) io.out.write('no named syncs\n');
    return EXIT.ok;
  });
}

/** Runs a named sync incrementally; Ctrl-C (the signal) stops it at its next batch, resumable. */
export function resync(name: string, options: ConnectionOptions & { progress?: 'auto' | 'bar' | 'lines' }, io: CliIo): Promise<number> {
  return withRuntime(options, io, async ({ runtime }) => {
    const bar = options.progress === 'bar' || (options.progress !== 'lines' && Boolean(io.err.isTTY));
    const progress = bar
      ? new cliProgress.SingleBar({ stream: io.err, format: `${name} [{bar}] {percentage}% | {status}`, hideCursor: true }, cliProgress.Presets.shades_classic)
      : null;
    let last = '';
    progress?.start(100, 0, { status: 'starting' });
    const stop = () => runtime.syncs.stop();
    io.signal?.addEventListener('abort', stop, { once: true });
    try {
      const end = await runtime.syncs.reSync(name, (s) => {
        const status = s.totalSize === null ? s.status : `${s.status}, ${s.totalSize} records`;
        if (progress) progress.update(s.progress, { status });
        else if (`${s.status} ${s.progress}` !== last) {
          last = `${s.status} ${s.progress}`;
          io.err.write(`${name}: ${status}, ${s.progress}%\n`);
        }
      });
      progress?.stop();
      io.out.write(`${describe(end)}\n`);
      if (end.status === 'stopped') return EXIT.cancelled;
      if (end.status === 'failed') {
        io.err.write(`error ${end.error?.code}: ${end.error?.message}\n`);
        return EXIT.failed;
      }
      return EXIT.ok;
    } finally {
      progress?.stop();
      io.signal?.removeEventListener('abort', stop);
    }
  });
}

/** Removes a sync down's ghosts and prints how many. */
export function cleanGhosts(name: string, options: ConnectionOptions, io: CliIo): Promise<number> {
  return withRuntime(options, io, async ({ runtime }) => {
    const stop = () => runtime.syncs.stop();
    io.signal?.addEventListener('abort', stop, { once: true });
    try {
      const removed = await runtime.syncs.cleanResyncGhosts(name);
      io.out.write(`${name}: removed ${removed} ghost${removed === 1 ? '' : 's'}\n`);
      return EXIT.ok;
    } catch (e) {
      if (e instanceof SyncStoppedError) {
        io.err.write(`error ${e.code}: ${e.message}\n`);
        return EXIT.cancelled;
      }
      throw e;
    } finally {
      io.signal?.removeEventListener('abort', stop);
    }
  });
}

function describe(s: SyncState): string {
  const what = s.type === 'syncDown' ? `down ${s.target.entity}${(s.target as SyncDownTarget).constraint ? ' (constrained)' : ''}` : `up ${s.target.entity}`;
  const parts = [`${s.name ?? s.id}`, what, s.status];
  if (s.totalSize !== null) parts.push(`${s.totalSize} records`);
  if (s.maxTimeStamp) parts.push(`up to ${s.maxTimeStamp}`);
  if (s.resume) parts.push('resumable');
  if (s.error) parts.push(`${s.error.code}: ${s.error.message}`);
  return parts.join('  ');
}

/** The `syncs`, `resync` and `clean-ghosts` commands. */
export function syncCommands(exit: (code: number) => void): Command[] {
  return [
    withConnectionOptions(new Command('syncs').description("List this device's named syncs (the demo app's are defined on first use)")).action(
      (options: ConnectionOptions) => interruptible(exit, (io) => listSyncs(options, io)),
    ),
    withConnectionOptions(
      new Command('resync')
        .description('Run a named sync incrementally: only what changed since its last run (full the first time)')
        .argument('<name>', 'the sync, e.g. openTasks'),
    )
      .option('--progress <style>', 'bar, lines or auto (a bar on a terminal)', 'auto')
      .action((name: string, options: ConnectionOptions & { progress?: 'auto' | 'bar' | 'lines' }) =>
        interruptible(exit, (io) => resync(name, options, io)),
      ),
    withConnectionOptions(
      new Command('clean-ghosts')
        .description("Remove a named sync down's ghosts: local records the server deleted or that no longer match")
        .argument('<name>', 'the sync down, e.g. openTasks'),
    ).action((name: string, options: ConnectionOptions) => interruptible(exit, (io) => cleanGhosts(name, options, io))),
  ];
}
