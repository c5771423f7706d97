/**
 * `syncflow run <file>`: runs a flow file as a user of a sync server, on a local offline
 * database kept between runs (a snapshot file per server and user in `--db-dir`), and prints
 * each step, the progress of a synchronization, the flow's messages and its result.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { FlowValidationError, SyncflowError, toSyncflowError, ValidationError, type Problem } from '../errors.ts';
import { FlowDebugger, type PausedStep } from '../flow/FlowDebugger.ts';
import { readFlowFile } from '../flow/node/loadFlowFile.ts';
import type { CompiledFlow } from '../flow/validateFlow.ts';
import { parseFlowParameters } from '../runtime/parseFlowParameters.ts';
import { cliApp, closeCliRuntime, EXIT, interruptible, openCliRuntime, withConnectionOptions, type CliIo, type CliRuntime, type ConnectionOptions } from './cliRuntime.ts';

export { EXIT, type CliIo } from './cliRuntime.ts';
import { RunReporter } from './RunReporter.ts';

export interface RunCliOptions extends ConnectionOptions {
  /** `name=value`, one per parameter. */
  param?: string[];
  quiet?: boolean;
  /** `bar` (cli-progress), `lines`, or `auto`: a bar on a terminal, lines otherwise. */
  progress?: 'auto' | 'bar' | 'lines';
  /** Node ids (or `flow:node`) to pause before: the run then asks what to do on stdin. */
  break?: string[];
  /** Where the debugger's commands are read (default stdin). */
  debugInput?: NodeJS.ReadableStream;
}


/**
 * Runs a flow file and prints what happens; resolves with the process exit code (never throws).
 *
 * @example
 * const code = await runFlowFile('flows/syncAllAtStartup.flow.json', { server: 'http://127.0.0.1:4000', user: 'alice' },
 *   { out: process.stdout, err: process.stderr });
 */
export async function runFlowFile(file: string, options: RunCliOptions, io: CliIo): Promise<number> {
  let started = false;
  let cli: CliRuntime | null = null;
  let reporter: RunReporter | null = null;
  let code: number = EXIT.ok;
  try {
    const given = parseParamOptions(options.param ?? []);
    file = await flowPath(file, options.config);
    const json = await readFlowJson(file);
    const captions = new Map<string, Map<string, string>>();
    const remember = (flow: unknown) => {
      const def = flow as { name?: unknown; nodes?: unknown };
      if (typeof def?.name !== 'string' || !Array.isArray(def.nodes)) return;
      captions.set(def.name, new Map(def.nodes.map((n: { id?: string; caption?: string }) => [String(n?.id), n?.caption ?? ''])));
    };
    remember(json);
    // Call flow finds `<name>.flow.json` beside the flow file.
    const dir = dirname(resolve(file));
    const siblings = async (name: string): Promise<unknown> => {
      if (/[\\/]/.test(name)) return undefined;
      const flow = await readFlowJson(join(dir, `${name}.flow.json`)).catch((e: unknown) => {
        if (e instanceof SyncflowError && e.code === 'not_found') return undefined;
        throw e;
      });
      remember(flow);
      return flow;
    };

    cli = await openCliRuntime(options, siblings);
    const { runtime } = cli;
    const flow: CompiledFlow = await runtime.loadFlow(json);
    const parameters = await parseFlowParameters(flow.definition.parameters, given, runtime).catch((e: unknown) => {
      // Name the option the user typed, not the flow's field.
      if (e instanceof ValidationError) throw new ValidationError(e.problems.map((p) => ({ ...p, path: `--param ${p.path.replace(/^parameters\./, '')}` })));
      throw e;
    });

    io.out.write(`run ${flow.name} as ${cli.user} on ${cli.serverUrl.origin}\n`);
    io.out.write(`local database: ${cli.dbFile}${cli.restored ? '' : ' (new)'}\n`);
    reporter = new RunReporter({
      out: io.out,
      err: io.err,
      quiet: options.quiet,
      bar: options.progress === 'bar' ? true : options.progress === 'lines' ? false : undefined,
      captionOf: (name, nodeId) => captions.get(name)?.get(nodeId) || undefined,
      widths: columnWidths(flow),
    });
    const onEvent = reporter.onEvent;
    // The debugger's quit stops the run as Ctrl-C does.
    const stopper = new AbortController();
    io.signal?.addEventListener('abort', () => stopper.abort(io.signal?.reason), { once: true });
    const debugging = options.break?.length
      ? commandLineDebugger(options.break, options.debugInput ?? process.stdin, io, () => stopper.abort(new Error('stopped at the debugger')))
      : undefined;
    const result = await cli.runtime
      .runFlow(flow, parameters, {
        signal: stopper.signal,
        debug: debugging?.debug,
        onEvent: (e) => {
          if (e.type === 'flowStarted' && e.depth === 0) started = true;
          onEvent(e);
        },
      })
      // The command reader lets go of stdin: the process can end.
      .finally(() => debugging?.close());
    reporter.close();
    io.out.write(`result: ${flow.definition.returnType?.type === 'nothing' || !flow.definition.returnType ? 'nothing' : formatResult(result)}\n`);
  } catch (e) {
    reporter?.close();
    const error = toSyncflowError(e);
    code = error.code === 'flow_cancelled' ? EXIT.cancelled : started ? EXIT.failed : EXIT.input;
    const problems = (error as { problems?: Array<Problem & { nodeId?: string }> }).problems;
    if (Array.isArray(problems) && problems.length > 1) {
      // One problem a line: a flow with many mistakes stays readable.
      const what = error instanceof FlowValidationError ? `Flow "${error.flowName}" is invalid` : 'Invalid input';
      io.err.write(`error ${error.code}: ${what} (${problems.length} problems)\n`);
      for (const p of problems) io.err.write(`  ${p.nodeId ? `node ${p.nodeId}: ` : ''}${p.path}: ${p.message}\n`);
    } else {
      io.err.write(`error ${error.code}: ${error.message}\n`);
    }
  }
  // Committed work and SynchronizationFailures are kept even when the flow failed.
  return closeCliRuntime(cli, io, code);
}

/** The `run` command for the `syncflow` program. */
export function runCommand(exit: (code: number) => void): Command {
  return withConnectionOptions(
    new Command('run')
      .description('Run a flow file against a sync server, on a local offline database kept between runs')
      .argument('<flow>', "the flow: a file (flows/syncAllAtStartup.flow.json) or a flow's name in the app's flows folder (syncAllAtStartup)"),
  )
    .option('--param <name=value>', 'a flow parameter; repeat for each. Objects by id (read from the local database), lists as ids separated by commas', collect, [])
    .option('-q, --quiet', 'print no steps (messages, progress and the result still print)')
    .option('--break <node>', 'pause before this node (a node id, or flow:node); repeat for more. At a pause, type c (continue), n (step over), s (step into) or q (stop)', collect, [])
    .addOption(new Option('--progress <style>', 'how a synchronization shows its progress').choices(['auto', 'bar', 'lines']).default('auto'))
    .addHelpText(
      'after',
      `
Exit codes: 0 the flow ended, 1 the flow failed (the error's code and message are printed),
2 the run could not start (arguments, flow file, parameters, local database), 130 stopped (Ctrl-C).

Example:
  syncflow run flows/syncAllAtStartup.flow.json --server http://127.0.0.1:4000 --user alice
  syncflow run syncAllAtStartup --config syncflow.config.ts --server http://127.0.0.1:4000 --user alice
  syncflow run flows/editTaskAndSync.flow.json --server http://127.0.0.1:4000 --user alice \\
    --param task=5eed0000-0000-4000-8000-00000000000a --param "title=New title"`,
    )
    .action((file: string, options: RunCliOptions) => interruptible(exit, (io) => runFlowFile(file, options, io)));
}

/**
 * The step debugger on the command line: at each pause it prints where and the variables, then
 * reads a command (c continue, n step over, s step into, q stop). The end of the input continues.
 */
function commandLineDebugger(breakpoints: string[], input: NodeJS.ReadableStream, io: CliIo, stop: () => void): { debug: FlowDebugger; close(): void } {
  const debug = new FlowDebugger({ breakpoints });
  const lines = createInterface({ input, terminal: false });
  const queued: string[] = [];
  let waiting: ((line: string | null) => void) | null = null;
  let ended = false;
  lines.on('line', (line) => (waiting ? (waiting(line), (waiting = null)) : queued.push(line)));
  lines.on('close', () => {
    ended = true;
    waiting?.(null);
    waiting = null;
  });
  const nextLine = (): Promise<string | null> =>
    queued.length ? Promise.resolve(queued.shift()!) : ended ? Promise.resolve(null) : new Promise((resolve) => (waiting = resolve));
  const show = (at: PausedStep) => {
    io.out.write(`paused at ${at.depth > 0 ? `${at.flow}:` : ''}${at.nodeId} (${at.reason})\n`);
    for (const [name, value] of Object.entries(at.variables)) io.out.write(`  $${name} = ${JSON.stringify(value)}\n`);
  };
  debug.onPause((at) => {
    if (!at) return;
    show(at);
    void (async () => {
      for (;;) {
        io.out.write('debug [c]ontinue [n]ext [s]tep into [q]uit> ');
        const line = await nextLine();
        const command = (line ?? 'c').trim().toLowerCase();
        io.out.write(`${line === null ? 'c (end of input)' : command}\n`);
        if (command === 'c' || command === 'continue') return debug.continue();
        if (command === 'n' || command === 'next') return debug.stepOver();
        if (command === 's' || command === 'step') return debug.stepInto();
        if (command === 'q' || command === 'quit') {
          lines.close();
          return stop();
        }
        io.out.write(`unknown command "${command}"\n`);
      }
    })();
  });
  return { debug, close: () => lines.close() };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `name=value` options as a record; the value may contain `=`. */
export function parseParamOptions(params: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const problems: Problem[] = [];
  for (const param of params) {
    const at = param.indexOf('=');
    const name = at < 0 ? '' : param.slice(0, at).trim();
    if (!name) {
      problems.push({ path: '--param', message: `"${param}" is not name=value` });
      continue;
    }
    if (Object.hasOwn(out, name)) problems.push({ path: `--param ${name}`, message: 'is given more than once' });
    out[name] = param.slice(at + 1);
  }
  if (problems.length) throw new ValidationError(problems);
  return out;
}

/** A flow file as given, or a flow's name: `<name>.flow.json` in the app config's flows folder. */
async function flowPath(arg: string, config?: string): Promise<string> {
  if (arg.endsWith('.json') || /[\\/]/.test(arg) || existsSync(arg)) return arg;
  return join((await cliApp(config)).flowsDir, `${arg}.flow.json`);
}

async function readFlowJson(path: string): Promise<unknown> {
  try {
    await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SyncflowError('not_found', `No flow file ${path}`);
    if (code === 'EISDIR') throw new SyncflowError('validation_failed', `${path} is a directory, not a flow file`);
    throw e;
  }
  return readFlowFile(path);
}

/** Widths that line up the root flow's steps. */
function columnWidths(flow: CompiledFlow): { id: number; kind: number; label: number } {
  const nodes = [...flow.nodes.values()];
  const max = (texts: string[], least: number) => Math.max(least, ...texts.map((t) => t.length));
  return {
    id: max(nodes.map((n) => n.id), 8),
    kind: max(nodes.map((n) => (n.type === 'activity' ? n.activity.type : n.type)), 8),
    label: max(nodes.map((n) => n.caption ?? ''), 0),
  };
}

/** The result as JSON (objects keep `$entity`, which names their entity); empty is `empty`. */
export function formatResult(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  return typeof value === 'object' ? JSON.stringify(value, null, 2) : JSON.stringify(value);
}
