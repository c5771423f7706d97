/**
 * The sync-profile commands of `syncflow`: `profiles` lists the profiles of the app's config, or of a
 * profiles file (JSON, `{ "profiles": [...] }` per flows/profile.schema.json, or Resco's SmartSync.xml), with their last
 * run and exclusion lists; `profile run <name>` runs one now. Same local database as `syncflow run`.
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { toSyncflowError, ValidationError } from '../errors.ts';
import type { ProfileInfo } from '../profiles/ProfileManager.ts';
import type { Runtime } from '../runtime/Runtime.ts';
import { describeRefusal } from '../profiles/startConditions.ts';
import { cliApp, closeCliRuntime, EXIT, interruptible, openCliRuntime, withConnectionOptions, type CliIo, type CliRuntime, type ConnectionOptions } from './cliRuntime.ts';

type ProfileCliOptions = ConnectionOptions & { profiles?: string };

/** The profiles of a file (XML by its first character, else JSON), else the app config's. */
async function defineProfiles(runtime: Runtime, options: ProfileCliOptions): Promise<void> {
  if (options.profiles) {
    const text = await readFile(options.profiles, 'utf8');
    runtime.profiles.define(text.trimStart().startsWith('<') ? text : (JSON.parse(text) as unknown));
    return;
  }
  const { config } = await cliApp(options.config);
  if (config.profiles?.definitions === undefined) throw ValidationError.at('--profiles', "the app's config defines no profiles: give --profiles <file> (JSON or SmartSync.xml)");
  runtime.profiles.define(config.profiles.definitions);
}

async function withProfiles(options: ProfileCliOptions, io: CliIo, work: (runtime: Runtime) => Promise<number>): Promise<number> {
  let cli: CliRuntime | null = null;
  let code: number = EXIT.ok;
  try {
    cli = await openCliRuntime(options);
    await defineProfiles(cli.runtime, options);
    code = await work(cli.runtime);
  } catch (e) {
    const error = toSyncflowError(e);
    io.err.write(`error ${error.code}: ${error.message}\n`);
    code = EXIT.input;
  }
  return closeCliRuntime(cli, io, code);
}

function describe(info: ProfileInfo): string {
  const p = info.profile;
  const entities = 'include' in p.entities ? p.entities.include.join(',') : `all but ${p.entities.exclude.join(',') || 'none'}`;
  const parts = [p.name, p.direction, entities, `triggers: ${p.triggers.map((t) => t.kind).join(',') || 'none'}`];
  parts.push(info.lastRun ? `last run ${info.lastRun.outcome} at ${info.lastRun.endedAt}` : 'never run');
  if (info.exclusions.global.length) parts.push(`global exclusions: ${info.exclusions.global.join(',')}`);
  if (info.exclusions.auto.length) parts.push(`auto exclusions: ${info.exclusions.auto.join(',')}`);
  return parts.join('  ');
}

/** The `profiles` and `profile run` commands. */
export function profileCommands(exit: (code: number) => void): Command[] {
  const file = (c: Command) => c.option('--profiles <file>', 'the profiles: JSON ({ "profiles": [...] }) or SmartSync.xml (default: the app config\'s)');
  const list = file(withConnectionOptions(new Command('profiles').description('List the sync profiles with their last run and exclusion lists'))).action(
    (options: ProfileCliOptions) =>
      interruptible(exit, (io) =>
        withProfiles(options, io, async (runtime) => {
          for (const info of await runtime.profiles.list()) io.out.write(`${describe(info)}\n`);
          return EXIT.ok;
        }),
      ),
  );
  const run = file(
    withConnectionOptions(new Command('run').description('Run a sync profile now (it may be refused or skipped, with the reason)').argument('<name>', 'the profile')),
  ).action((name: string, options: ProfileCliOptions) =>
    interruptible(exit, (io) =>
      withProfiles(options, io, async (runtime) => {
        const r = await runtime.profiles.run(name);
        const counts = `uploaded ${r.uploaded}, downloaded ${r.downloaded}, removed ${r.removed}, files ${r.files}`;
        io.out.write(`${r.profile}  ${r.outcome}  ${counts}\n`);
        for (const s of r.skipped) io.out.write(`  skipped ${s.what}: ${s.reason}\n`);
        if (r.refusal) io.err.write(`refused ${r.refusal.code}: ${describeRefusal(r.refusal)}\n`);
        if (r.error) io.err.write(`error ${r.error.code}: ${r.error.message}\n`);
        return r.outcome === 'done' ? EXIT.ok : r.outcome === 'stopped' ? EXIT.cancelled : EXIT.failed;
      }),
    ),
  );
  return [list, new Command('profile').description('Sync profile commands').addCommand(run.exitOverride().showHelpAfterError())];
}
