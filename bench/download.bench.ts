/**
 * Issue 3: download of 100k objects through the protocol into the local store, beside its
 * floors measured in the same run.
 *
 * - protocol: the runtime's real path — createRuntime (fake-indexeddb) + synchronize({ mode: 'all' })
 *   with a sync configuration that downloads Task only — over HTTP from a sync server running in
 *   another process on the machine's PostgreSQL.
 * - floor (SQL + Dexie): the same rows read with plain SQL (keyset pages of 1,000), each page
 *   written with a plain Dexie bulkPut (one transaction per 1,000 rows) while the next is read,
 *   into the runtime's table layout minus its $tag index (support/floorStores.ts).
 * - floor (HTTP): the same download pages fetched from the same server with plain fetch +
 *   JSON.parse, each bulkPut as it arrives (next page prefetched).
 */
import { benchArgs } from './support/args.ts';
import { onlyEntities, openDevice, tokenOf } from './support/device.ts';
import { floorVariants } from './support/floors.ts';
import { BENCH_DATABASE_URL, createBenchSchema, postgresVersion } from './support/postgres.ts';
import { machineInfo, ratio, report, timing, type Metric } from './support/results.ts';
import { seedObjects } from './support/seed.ts';
import { timePhases } from './support/phases.ts';
import { startServerProcess } from './support/serverProcess.ts';
import { formatMs, formatRate, interleave, median } from './support/stats.ts';

const args = benchArgs();
const TASKS = args.quick ? 10_000 : 100_000;
const PROJECTS = 100;
const REPS = args.reps ?? (args.quick ? 2 : 5);
const WARMUP = 1;
const USER = 'alice';

console.log(`download: ${TASKS.toLocaleString('en-US')} Task objects, ${REPS} repetitions (+${WARMUP} warm-up), interleaved`);
const schema = await createBenchSchema('download');
const server = await startServerProcess({ databaseUrl: BENCH_DATABASE_URL, schemaName: schema.name });
try {
  const seeded = await seedObjects(schema.pool, { owner: USER, projects: PROJECTS, tasks: TASKS });
  console.log(`  seeded in ${seeded.seconds.toFixed(1)} s; server pid ${server.pid} at ${server.url}`);

  const parts = { sql: [] as number[], put: [] as number[], cleanup: [] as number[] };
  const samples = await interleave(
    [
      {
        name: 'protocol',
        async run(round) {
          const device = await openDevice(server.url, { user: USER, syncConfig: onlyEntities('Task') });
          try {
            const { result, total, afterLastBatch } = await timePhases(device.runtime, () => device.runtime.synchronize({ mode: 'all' }));
            if (result.downloaded !== TASKS) throw new Error(`protocol downloaded ${result.downloaded}, expected ${TASKS}`);
            if ((await device.runtime.store.count('Task')) !== TASKS) throw new Error('protocol: wrong local count');
            if (round >= WARMUP) parts.cleanup.push(afterLastBatch);
            return total;
          } finally {
            await device.dispose();
          }
        },
      },
      ...floorVariants({ pool: schema.pool, serverUrl: server.url, token: tokenOf(USER), user: USER, counts: { Task: TASKS }, warmup: WARMUP, parts }),
    ],
    {
      repetitions: REPS,
      warmup: WARMUP,
      onSample: (name, rep, ms) => console.log(`  ${rep < 0 ? 'warm-up' : `rep ${rep + 1}`}  ${name.padEnd(14)} ${formatMs(ms).padStart(9)}  (${formatRate(TASKS, ms)})`),
    },
  );

  const protocol = samples.get('protocol')!;
  const floorSql = samples.get('floor.sql+put')!;
  const floorHttp = samples.get('floor.http')!;
  const metrics: Metric[] = [
    timing('protocol', `protocol: runtime.synchronize({ mode: 'all' }), Task only`, protocol.samples, protocol.median),
    timing('protocol.cleanup', '  of which the all-objects cleanup after the last batch', parts.cleanup, median(parts.cleanup)),
    timing('floor.sql+put', 'floor: SQL read + Dexie bulkPut (1,000/txn)', floorSql.samples, floorSql.median),
    timing('floor.sql', '  time in SQL reads (overlaps the puts)', parts.sql, median(parts.sql)),
    timing('floor.put', '  time in Dexie bulkPut', parts.put, median(parts.put)),
    timing('floor.http', 'floor: HTTP fetch + JSON.parse + bulkPut (1,000/txn)', floorHttp.samples, floorHttp.median),
    ratio('ratio.protocol/floor.sql+put', 'protocol / floor (SQL + Dexie)', protocol.median / floorSql.median),
    ratio('ratio.protocol/floor.http', 'protocol / floor (HTTP fetch)', protocol.median / floorHttp.median),
  ];
  report({
    name: 'download',
    title: `Download of ${TASKS.toLocaleString('en-US')} objects into the local store (issue 3)`,
    date: new Date().toISOString(),
    quick: args.quick,
    machine: machineInfo({ postgres: await postgresVersion() }),
    params: { tasks: TASKS, projectsOnServer: PROJECTS, repetitions: REPS, warmup: WARMUP, user: USER, batch: 1000, storage: 'PostgreSQL (separate server process)' },
    metrics,
    notes: [
      'Medians of interleaved repetitions; the client runs on fake-indexeddb in this process, the sync server in its own process.',
      `Protocol rate ${formatRate(TASKS, protocol.median)}; the floors' tables have the runtime's indexes except $tag (the all-objects cleanup's own bookkeeping).`,
      'The cleanup (LocalStore.removeUntagged, from the last batch stored to the end of the downloading state) must stay near 0: it once walked the $tag index with notEqual, quadratic on fake-indexeddb (~30 minutes for 100k rows).',
    ],
  });
} finally {
  await server.stop();
  await schema.drop();
}
