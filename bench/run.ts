/**
 * `npm run bench`: runs every bench/*.bench.ts in sequence, each in its own Node process (its
 * own heap, GC and RSS), then regenerates bench/RESULTS.md from the figures of a full run.
 *
 *   npm run bench                      every benchmark, full sizes; rewrites bench/RESULTS.md
 *   npm run bench -- download memory   only files whose name contains one of the filters
 *   npm run bench -- --quick           smaller sizes (a smoke run; RESULTS.md is left alone)
 *   npm run bench -- --reps 3          repetitions per measurement (where the bench repeats)
 *   npm run bench -- --profile         CPU profiles of the bench process and its sync servers
 *                                      in bench/results/profiles/ (see support/profileSummary.ts)
 *   npm run bench -- memory --variants=runtime,floor   other options go to the bench files ('=' form)
 *   npm run bench -- --list            list the benchmarks
 *   npm run bench -- --report          only rebuild bench/RESULTS.md from bench/results/*.json
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { formatValue, RESULTS_DIR, verdict, type BenchResult } from './support/results.ts';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const RESULTS_MD = join(BENCH_DIR, 'RESULTS.md');

const program = new Command('bench')
  .description('Run the syncflow benchmarks (each file in its own process)')
  .argument('[filters...]', 'run only bench files whose name contains one of these')
  .option('--quick', 'smaller sizes, for a smoke run')
  .option('--reps <n>', 'repetitions per measurement')
  .option('--profile', 'write CPU profiles to bench/results/profiles/')
  .option('--list', 'list the benchmarks and exit')
  .option('--report', 'only regenerate bench/RESULTS.md from bench/results/*.json')
  .allowUnknownOption(true)
  .parse();

const options = program.opts<{ quick?: boolean; reps?: string; profile?: boolean; list?: boolean; report?: boolean }>();
// Positional words are filters; options the runner does not know go to every bench file as they
// are (give them their value with '=', e.g. --variants=runtime,floor: a separate word is a filter).
const argv = process.argv.slice(2);
const RUNNER_OPTIONS = ['--quick', '--reps', '--profile', '--list', '--report'];
const filters = argv.filter((a, i) => !a.startsWith('-') && argv[i - 1] !== '--reps');
const passThrough = argv.filter((a) => a.startsWith('-') && !RUNNER_OPTIONS.includes(a.split('=')[0]));

const all = readdirSync(BENCH_DIR).filter((f) => f.endsWith('.bench.ts')).sort();
const selected = filters.length ? all.filter((f) => filters.some((x) => f.includes(x))) : all;

if (options.list) {
  for (const f of all) console.log(f.replace(/\.bench\.ts$/, ''));
  process.exit(0);
}
if (options.report) {
  writeResultsMarkdown(all.map((f) => f.replace(/\.bench\.ts$/, '')), new Map());
  process.exit(0);
}
if (!selected.length) {
  console.error(`No bench file matches ${filters.join(', ')} (have: ${all.join(', ')})`);
  process.exit(2);
}

const profileDir = options.profile ? join(RESULTS_DIR, 'profiles') : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const benchFlags = [...(options.quick ? ['--quick'] : []), ...(options.reps ? ['--reps', options.reps] : []), ...passThrough];

// Ctrl-C reaches the bench process through the terminal: let it clean up (drop its schema), then stop.
let interrupted = false;
process.on('SIGINT', () => {
  interrupted = true;
});
const started = new Date();
const outcomes = new Map<string, { code: number; seconds: number }>();
for (const file of selected) {
  const name = file.replace(/\.bench\.ts$/, '');
  console.log(`\n=== ${name} ${'='.repeat(Math.max(0, 70 - name.length))}`);
  const t0 = performance.now();
  // One folder per bench: Node writes one profile per thread (tsx's loader runs in a worker).
  const profiles = profileDir && join(profileDir, name);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', ...(profiles ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : []), join(BENCH_DIR, file), ...benchFlags],
      { stdio: 'inherit', env: { ...process.env, ...(profiles ? { SYNCFLOW_BENCH_PROFILE_DIR: profiles } : {}) } },
    );
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  const seconds = (performance.now() - t0) / 1000;
  outcomes.set(name, { code, seconds });
  console.log(`=== ${name}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${seconds.toFixed(0)} s`);
  if (interrupted) break;
}

console.log('\nSummary');
for (const [name, o] of outcomes) console.log(`  ${name.padEnd(20)} ${o.code === 0 ? 'ok    ' : 'FAILED'} ${o.seconds.toFixed(0).padStart(5)} s`);
if (profileDir) console.log(`CPU profiles in ${profileDir}/<bench>/ (the largest file of a folder is the main thread; npx tsx bench/support/profileSummary.ts <file>)`);

const full = !filters.length && !options.quick && !options.reps && !interrupted;
if (full) writeResultsMarkdown(selected.map((f) => f.replace(/\.bench\.ts$/, '')), outcomes, started);
else console.log('bench/RESULTS.md is only rewritten by a full run (no filter, no --quick, no --reps).');
process.exit([...outcomes.values()].some((o) => o.code !== 0) ? 1 : 0);

/** bench/RESULTS.md: each benchmark's table from its JSON, with date and machine. */
function writeResultsMarkdown(names: string[], runOutcomes: Map<string, { code: number; seconds: number }>, since?: Date): void {
  const results: BenchResult[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const path = join(RESULTS_DIR, `${name}.json`);
    const r = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as BenchResult) : null;
    // A run that failed leaves an older JSON behind: do not present it as this run's.
    if (!r || r.quick || (since && new Date(r.date) < since) || runOutcomes.get(name)?.code) missing.push(name);
    else results.push(r);
  }
  const first = results[0];
  const lines: string[] = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (a full run: every benchmark, full sizes). Each figure is beside its floor measured in the',
    'same run; timings are medians of the repetitions. What each benchmark measures and how: [README.md](README.md).',
    '',
  ];
  if (first) {
    const m = first.machine;
    lines.push(
      `- Date: ${first.date.slice(0, 16).replace('T', ' ')} UTC`,
      `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; load average at the start ${m.loadAverage.join(' / ')}`,
      `- Node ${m.node}; PostgreSQL ${results.find((r) => r.machine.postgres)?.machine.postgres ?? '?'}${results.find((r) => r.machine.chromium) ? `; ${results.find((r) => r.machine.chromium)!.machine.chromium}` : ''}`,
      '',
    );
  }
  for (const r of results) {
    lines.push(`## ${r.title}`, '', `\`bench/${r.name}.bench.ts\` — ${new Date(r.date).toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${r.machine.loadAverage.join(' / ')}`, '');
    lines.push('| Measure | Value | Samples | Verdict |', '|---|---:|---|---|');
    for (const metric of r.metrics) {
      const samples = metric.samples && metric.samples.length > 1 ? metric.samples.map((s) => formatValue({ ...metric, value: s })).join(', ') : '';
      lines.push(`| ${metric.label.replace(/^\s+/, '&nbsp;&nbsp;↳ ').replaceAll('|', '\\|')} | ${formatValue(metric)} | ${samples} | ${verdict(metric)} |`);
    }
    lines.push('');
    for (const note of r.notes) lines.push(`- ${note}`);
    lines.push('');
  }
  if (missing.length) lines.push(`Not in this run (failed or not run): ${missing.join(', ')}.`, '');
  writeFileSync(RESULTS_MD, lines.join('\n'));
  console.log(`wrote ${basename(BENCH_DIR)}/RESULTS.md`);
}
