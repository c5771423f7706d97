/**
 * Issue 4: all-objects synchronization — runtime.synchronize({ mode: 'all' }) on a new device —
 * of 100k objects over three entities (10k Project, 80k Task, 10k Attachment), beside its
 * floors measured in the same run. Target: at most 1.25x the floor.
 *
 * Attachments are seeded WITHOUT file contents (no sf_files rows): nobody has a file to fetch.
 * Download rows of a file entity say so (`$file: null`), so the protocol's files phase should
 * cost nothing; it is reported on its own to show it.
 */
import { benchArgs } from './support/args.ts';
import { openDevice, tokenOf } from './support/device.ts';
import { floorVariants } from './support/floors.ts';
import { timePhases } from './support/phases.ts';
import { BENCH_DATABASE_URL, createBenchSchema, postgresVersion } from './support/postgres.ts';
import { machineInfo, ratio, report, timing, type Metric } from './support/results.ts';
import { seedObjects } from './support/seed.ts';
import { startServerProcess } from './support/serverProcess.ts';
import { formatMs, formatRate, interleave, median, timeIt } from './support/stats.ts';

const args = benchArgs();
const scale = args.quick ? 0.1 : 1;
const COUNTS = { Project: 10_000 * scale, Task: 80_000 * scale, Attachment: 10_000 * scale };
const TOTAL = COUNTS.Project + COUNTS.Task + COUNTS.Attachment;
const ENTITIES = ['Project', 'Task', 'Attachment'] as const; // the schema's order: targets first
const REPS = args.reps ?? (args.quick ? 2 : 5);
const WARMUP = 1;
const USER = 'alice';
const TARGET = { max: 1.25, description: '<= 1.25x' };

console.log(`allObjects: ${TOTAL.toLocaleString('en-US')} objects (${ENTITIES.map((e) => `${COUNTS[e].toLocaleString('en-US')} ${e}`).join(', ')}), ${REPS} repetitions (+${WARMUP} warm-up)`);
const schema = await createBenchSchema('allobjects');
const server = await startServerProcess({ databaseUrl: BENCH_DATABASE_URL, schemaName: schema.name });
try {
  const seeded = await seedObjects(schema.pool, { owner: USER, projects: COUNTS.Project, tasks: COUNTS.Task, attachments: COUNTS.Attachment });
  console.log(`  seeded in ${seeded.seconds.toFixed(1)} s; server pid ${server.pid} at ${server.url}`);

  const phases = { downloading: [] as number[], downloadingFiles: [] as number[], resync: [] as number[] };
  const floorParts = { sql: [] as number[], put: [] as number[] };
  const samples = await interleave(
    [
      {
        name: 'protocol',
        async run(round) {
          const device = await openDevice(server.url, { user: USER });
          try {
            const { result, total, phases: p } = await timePhases(device.runtime, () => device.runtime.synchronize({ mode: 'all' }));
            if (result.downloaded !== TOTAL) throw new Error(`protocol downloaded ${result.downloaded}, expected ${TOTAL}`);
            if (round >= WARMUP) {
              phases.downloading.push(p.downloading ?? 0);
              phases.downloadingFiles.push(p.downloadingFiles ?? 0);
            }
            // A second all-objects sync of the same device: what a user pays each time afterwards.
            const again = await timeIt(() => device.runtime.synchronize({ mode: 'all' }));
            if (round >= WARMUP) phases.resync.push(again);
            return total;
          } finally {
            await device.dispose();
          }
        },
      },
      ...floorVariants({ pool: schema.pool, serverUrl: server.url, token: tokenOf(USER), user: USER, counts: COUNTS, warmup: WARMUP, parts: floorParts }),
    ],
    {
      repetitions: REPS,
      warmup: WARMUP,
      onSample: (name, rep, ms) => console.log(`  ${rep < 0 ? 'warm-up' : `rep ${rep + 1}`}  ${name.padEnd(14)} ${formatMs(ms).padStart(9)}  (${formatRate(TOTAL, ms)})`),
    },
  );

  const protocol = samples.get('protocol')!;
  const floorSql = samples.get('floor.sql+put')!;
  const floorHttp = samples.get('floor.http')!;
  const objectsPhase = median(phases.downloading);
  const metrics: Metric[] = [
    timing('protocol', `protocol: runtime.synchronize({ mode: 'all' }), new device`, protocol.samples, protocol.median),
    timing('protocol.downloading', '  of which objects (downloading state)', phases.downloading, objectsPhase),
    timing('protocol.files', `  of which files (${COUNTS.Attachment.toLocaleString('en-US')} attachments, none with contents)`, phases.downloadingFiles, median(phases.downloadingFiles)),
    timing('protocol.resync', 'protocol: a second all-objects sync of the same device', phases.resync, median(phases.resync)),
    timing('floor.sql+put', 'floor: SQL read + Dexie bulkPut (1,000/txn)', floorSql.samples, floorSql.median),
    timing('floor.sql', '  time in SQL reads (overlaps the puts)', floorParts.sql, median(floorParts.sql)),
    timing('floor.put', '  time in Dexie bulkPut', floorParts.put, median(floorParts.put)),
    timing('floor.http', 'floor: HTTP fetch + JSON.parse + bulkPut (1,000/txn)', floorHttp.samples, floorHttp.median),
    ratio('ratio.protocol/floor.sql+put', 'all-objects / floor (SQL + Dexie)', protocol.median / floorSql.median, TARGET),
    ratio('ratio.protocol/floor.http', 'all-objects / floor (HTTP fetch)', protocol.median / floorHttp.median, TARGET),
    ratio('ratio.objects/floor.sql+put', '  objects phase only / floor (SQL + Dexie)', objectsPhase / floorSql.median),
    ratio('ratio.objects/floor.http', '  objects phase only / floor (HTTP fetch)', objectsPhase / floorHttp.median),
  ];
  report({
    name: 'allObjects',
    title: `All-objects sync of ${TOTAL.toLocaleString('en-US')} objects over 3 entities (issue 4)`,
    date: new Date().toISOString(),
    quick: args.quick,
    machine: machineInfo({ postgres: await postgresVersion() }),
    params: { counts: COUNTS, attachmentFiles: 'none (no sf_files rows)', repetitions: REPS, warmup: WARMUP, user: USER, batch: 1000, storage: 'PostgreSQL (separate server process)' },
    metrics,
    notes: [
      'Medians of interleaved repetitions; client on fake-indexeddb in this process, sync server in its own process on PostgreSQL.',
      'Attachments have no file contents; download rows say so ($file: null), so neither the floors nor the protocol fetch files.',
    ],
  });
} finally {
  await server.stop();
  await schema.drop();
}
