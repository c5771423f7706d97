/**
 * Issue 4: unsynchronized sync — runtime.synchronize({ mode: 'unsynchronized' }) — of 1,000
 * objects changed locally, on a device storing 10k objects beside one storing 100k. Its cost
 * must follow the number of changes, not the size of the store.
 *
 * Two sync servers (separate processes, one PostgreSQL schema each) and two devices are set up
 * first; each device downloads everything, then rounds alternate between the sizes: change
 * 1,000 Tasks spread over the store through a Session, commit (not timed), synchronize (timed).
 */
import { benchArgs } from './support/args.ts';
import { onlyEntities, openDevice, type BenchDevice } from './support/device.ts';
import { timePhases } from './support/phases.ts';
import { BENCH_DATABASE_URL, createBenchSchema, postgresVersion, type BenchSchema } from './support/postgres.ts';
import { machineInfo, ratio, report, timing, type Metric } from './support/results.ts';
import { benchId, seedObjects } from './support/seed.ts';
import { startServerProcess, type ServerProcess } from './support/serverProcess.ts';
import { formatMs, interleave, median, timeIt } from './support/stats.ts';

const args = benchArgs();
const SIZES = args.quick ? [5_000, 20_000] : [10_000, 100_000];
const CHANGED = 1000;
const PROJECTS = 100;
const REPS = args.reps ?? (args.quick ? 2 : 5);
const WARMUP = 1;
const USER = 'alice';
const TARGET = { max: 1.25, description: '<= 1.25x, i.e. flat within noise' };

interface Setup {
  size: number;
  schema: BenchSchema;
  server: ServerProcess;
  device: BenchDevice;
  phases: { uploading: number[]; refreshing: number[] };
}

console.log(`unsynchronized: ${CHANGED.toLocaleString('en-US')} changed objects among ${SIZES.map((s) => s.toLocaleString('en-US')).join(' vs ')}, ${REPS} repetitions (+${WARMUP} warm-up)`);
const setups: Setup[] = [];
try {
  for (const size of SIZES) {
    const schema = await createBenchSchema(`unsync_${size}`);
    const server = await startServerProcess({ databaseUrl: BENCH_DATABASE_URL, schemaName: schema.name });
    const setup: Setup = { size, schema, server, device: null!, phases: { uploading: [], refreshing: [] } };
    setups.push(setup);
    await seedObjects(schema.pool, { owner: USER, projects: PROJECTS, tasks: size - PROJECTS });
    setup.device = await openDevice(server.url, { user: USER, syncConfig: onlyEntities('Project', 'Task') });
    const ms = await timeIt(() => setup.device.runtime.synchronize({ mode: 'all' }));
    console.log(`  ${size.toLocaleString('en-US')}: seeded, device downloaded everything in ${formatMs(ms)}`);
  }

  const changeSome = async (setup: Setup, round: number) => {
    const tasks = setup.size - PROJECTS;
    const step = Math.floor(tasks / CHANGED);
    // Spread over the whole store, a different set each round.
    const ids = Array.from({ length: CHANGED }, (_, k) => benchId('Task', 1 + ((k * step + round) % tasks)));
    const { runtime } = setup.device;
    const objects = await runtime.store.getMany('Task', ids);
    const session = runtime.session();
    const changed = objects.map((o, k) => session.change(o!, { title: `Task changed in round ${round} (${k})`, done: !o!.done }));
    await session.commit(changed);
    const pending = await runtime.store.pendingCount();
    if (pending !== CHANGED) throw new Error(`${pending} pending changes, expected ${CHANGED}`);
  };

  const samples = await interleave(
    setups.map((setup) => ({
      name: String(setup.size),
      async run(round: number) {
        await changeSome(setup, round);
        const { runtime } = setup.device;
        const { result, total, phases } = await timePhases(runtime, () => runtime.synchronize({ mode: 'unsynchronized' }));
        if (result.uploaded !== CHANGED || result.downloaded !== CHANGED) {
          throw new Error(`uploaded ${result.uploaded}, refreshed ${result.downloaded}, expected ${CHANGED}`);
        }
        if ((await runtime.store.pendingCount()) !== 0) throw new Error('changes left pending');
        if (round >= WARMUP) {
          setup.phases.uploading.push(phases.uploading ?? 0);
          setup.phases.refreshing.push(phases.refreshing ?? 0);
        }
        return total;
      },
    })),
    {
      repetitions: REPS,
      warmup: WARMUP,
      onSample: (name, rep, ms) => console.log(`  ${rep < 0 ? 'warm-up' : `rep ${rep + 1}`}  among ${Number(name).toLocaleString('en-US').padStart(7)}  ${formatMs(ms).padStart(9)}`),
    },
  );

  const [small, large] = setups.map((s) => ({ setup: s, samples: samples.get(String(s.size))! }));
  const metrics: Metric[] = [];
  for (const { setup, samples: s } of [small, large]) {
    const n = setup.size.toLocaleString('en-US');
    metrics.push(
      timing(`unsynchronized.${setup.size}`, `unsynchronized sync, 1,000 changed among ${n}`, s.samples, s.median),
      timing(`unsynchronized.${setup.size}.upload`, '  of which upload (uploading state)', setup.phases.uploading, median(setup.phases.uploading)),
      timing(`unsynchronized.${setup.size}.refresh`, '  of which refresh (refreshing state)', setup.phases.refreshing, median(setup.phases.refreshing)),
    );
  }
  metrics.push(
    ratio(
      'ratio.large/small',
      `${large.setup.size.toLocaleString('en-US')} stored / ${small.setup.size.toLocaleString('en-US')} stored`,
      large.samples.median / small.samples.median,
      TARGET,
    ),
  );
  report({
    name: 'unsynchronized',
    title: `Unsynchronized sync of ${CHANGED.toLocaleString('en-US')} changes: ${SIZES.map((s) => s.toLocaleString('en-US')).join(' vs ')} stored (issue 4)`,
    date: new Date().toISOString(),
    quick: args.quick,
    machine: machineInfo({ postgres: await postgresVersion() }),
    params: { sizes: SIZES, changed: CHANGED, repetitions: REPS, warmup: WARMUP, user: USER, storage: 'PostgreSQL (separate server processes)' },
    metrics,
    notes: [
      'Medians of interleaved repetitions (the two sizes alternate); the local commit of the 1,000 changes is not timed.',
      'Changed objects are spread over the whole store, a different set each round; each is 2 members (title, done), so the server runs the Task before-commit handler on each.',
    ],
  });
} finally {
  for (const s of setups) {
    await s.device?.dispose();
    await s.server.stop();
    await s.schema.drop();
  }
}
