/**
 * Issue 12: the write path. 10,000 creates and 10,000 updates of Task objects, uploaded
 *
 * - protocol: the runtime's real path — local Session creates/changes committed (not timed), then
 *   runtime.synchronize({ mode: 'unsynchronized' }) (timed; its uploading state reported apart)
 *   against the demo sync server in another process on the machine's PostgreSQL;
 * - api: the same changes POSTed straight to /api/upload, 1,000 per request (the server alone);
 * - floor: the same rows POSTed as JSON, 1,000 per request, to a minimal HTTP endpoint that writes
 *   each request with one set-based statement (support/uploadFloor.ts) — the issue's headline floor;
 * - client floor: the device's unavoidable work by hand over the same Dexie tables (read the queued
 *   changes and rows 1,000 at a time, POST them to the same endpoint, which answers the written
 *   rows, then clear the queue entries and bulkPut the rows in one transaction per 1,000),
 *   pipelined as the runtime is (support/clientFloor.ts);
 * - rows: the least local work of any device, alone — bulkPut of the N answered rows into the
 *   runtime's own Task table (its indexes), 1,000 per transaction (support/rowFloor.ts). Beside the
 *   floor it shows what share of the target the device's storage takes before anything else.
 *
 * The server counts the SQL statements it sends (support/countingStorage.ts): statements per
 * change are printed for each variant.
 */
import { benchArgs } from './support/args.ts';
import { onlyEntities, openDevice, tokenOf, type BenchDevice } from './support/device.ts';
import { timePhases } from './support/phases.ts';
import { BENCH_DATABASE_URL, createBenchSchema, postgresVersion } from './support/postgres.ts';
import { machineInfo, ratio, report, timing, type Metric } from './support/results.ts';
import { benchId, seedObjects } from './support/seed.ts';
import { sqlCounter, startServerProcess } from './support/serverProcess.ts';
import { formatMs, interleave, median, timeIt } from './support/stats.ts';
import { uploadByHand } from './support/clientFloor.ts';
import { startUploadFloor } from './support/uploadFloor.ts';
import { putRowsByHand } from './support/rowFloor.ts';

const args = benchArgs();
const N = args.quick ? 2_000 : 10_000;
const REPS = args.reps ?? (args.quick ? 2 : 3);
const WARMUP = 1;
const USER = 'alice';
const BATCH = 1000;
const TARGET = { max: 3, description: '<= 3x the set-based floor (issue 12)' };

console.log(`upload: ${N.toLocaleString('en-US')} creates and ${N.toLocaleString('en-US')} updates, ${REPS} repetitions (+${WARMUP} warm-up), interleaved`);
const schema = await createBenchSchema('upload');
const server = await startServerProcess({ databaseUrl: BENCH_DATABASE_URL, schemaName: schema.name });
const floor = await startUploadFloor(schema.pool, USER);
let updater: BenchDevice | undefined;
try {
  // The updates work on N seeded tasks the updating device holds.
  await seedObjects(schema.pool, { owner: USER, projects: 10, tasks: N });
  updater = await openDevice(server.url, { user: USER, syncConfig: onlyEntities('Project', 'Task') });
  await updater.runtime.synchronize({ mode: 'all' });
  const taskIds = Array.from({ length: N }, (_, i) => benchId('Task', i + 1));

  let serial = 0;
  const newTitle = (round: number, k: number) => `Task ${k} written in round ${round} of the upload bench (${++serial})`;
  const { count: countSql, statements, clockHeld } = sqlCounter(server, N, WARMUP);
  const phases = { createUpload: [] as number[], updateUpload: [] as number[], createRefresh: [] as number[], updateRefresh: [] as number[] };
  const uploadDirect = async (kind: 'create' | 'update', rows: Array<{ id: string; data: Record<string, unknown> }>) => {
    for (let i = 0; i < rows.length; i += BATCH) {
      const changes = rows.slice(i, i + BATCH).map((r) => ({ changeId: crypto.randomUUID(), entity: 'Task', id: r.id, kind, data: r.data }));
      const res = await fetch(`${server.url}/api/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokenOf(USER)}`, 'content-type': 'application/json', 'x-device-id': 'bench' },
        body: JSON.stringify({ changes }),
      });
      const body = (await res.json()) as { results: Array<{ status: string }> };
      if (!res.ok || body.results.some((r) => r.status !== 'applied')) throw new Error(`api ${kind}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    }
  };
  // A Task row as the device stores an answered object (system attributes, members, the tag).
  const answeredRow = (id: string, title: string, createdDate: string, changedDate: string) => ({
    id, owner: USER, createdDate, changedDate, title, done: false, priority: 'normal', estimate: 1.5, words: 11, due: null, assignee: null, project: null, $tag: '',
  });
  const createRows = (round: number) =>
    Array.from({ length: N }, (_, k) => ({ id: crypto.randomUUID(), data: { title: newTitle(round, k), done: false, priority: 'normal', estimate: 1.5, words: 11, due: null, assignee: null, project: null } }));

  const samples = await interleave(
    [
      {
        name: 'create.protocol',
        async run(round) {
          const device = await openDevice(server.url, { user: USER, syncConfig: onlyEntities('Project', 'Task') });
          try {
            const session = device.runtime.session();
            const created = Array.from({ length: N }, (_, k) => session.create('Task', { title: newTitle(round, k), done: false, priority: 'normal', estimate: 1.5 }));
            await session.commit(created);
            const { result, total, phases: p } = await countSql('create.protocol', round, () => timePhases(device.runtime, () => device.runtime.synchronize({ mode: 'unsynchronized' })));
            if (result.uploaded !== N) throw new Error(`protocol uploaded ${result.uploaded}, expected ${N}`);
            if (round >= WARMUP) {
              phases.createUpload.push(p.uploading ?? 0);
              phases.createRefresh.push(p.refreshing ?? 0);
            }
            return total;
          } finally {
            await device.dispose();
          }
        },
      },
      {
        name: 'create.api',
        run: async (round) => {
          const rows = createRows(round);
          return countSql('create.api', round, () => timeIt(() => uploadDirect('create', rows)));
        },
      },
      {
        name: 'create.floor',
        run: async (round) => {
          const rows = createRows(round);
          return timeIt(() => floor.send('create', rows, BATCH));
        },
      },
      {
        name: 'create.client',
        async run(round) {
          const device = await openDevice(server.url, { user: USER, syncConfig: onlyEntities('Project', 'Task') });
          try {
            const session = device.runtime.session();
            await session.commit(Array.from({ length: N }, (_, k) => session.create('Task', { title: newTitle(round, k), done: false, priority: 'normal', estimate: 1.5 })));
            let uploaded = 0;
            const ms = await timeIt(async () => void (uploaded = await uploadByHand(device.dbName, floor, 'create', 'Task', BATCH)));
            if (uploaded !== N || (await device.runtime.store.pendingCount()) !== 0) throw new Error(`client floor uploaded ${uploaded} creates, expected ${N}`);
            return ms;
          } finally {
            await device.dispose();
          }
        },
      },
      {
        name: 'create.rows',
        async run(round) {
          const device = await openDevice(server.url, { user: USER, syncConfig: onlyEntities('Project', 'Task') });
          try {
            const stamp = new Date().toISOString().replace('Z', '000Z');
            const rows = Array.from({ length: N }, (_, k) => answeredRow(crypto.randomUUID(), newTitle(round, k), stamp, stamp));
            return await putRowsByHand(device.dbName, 'Task', rows, { batch: BATCH });
          } finally {
            await device.dispose();
          }
        },
      },
      {
        name: 'update.protocol',
        async run(round) {
          const { runtime } = updater!;
          const objects = await runtime.store.getMany('Task', taskIds);
          const session = runtime.session();
          await session.commit(objects.map((o, k) => session.change(o!, { title: newTitle(round, k) })));
          const { result, total, phases: p } = await countSql('update.protocol', round, () => timePhases(runtime, () => runtime.synchronize({ mode: 'unsynchronized' })));
          if (result.uploaded !== N) throw new Error(`protocol uploaded ${result.uploaded} updates, expected ${N}`);
          if (round >= WARMUP) {
            phases.updateUpload.push(p.uploading ?? 0);
            phases.updateRefresh.push(p.refreshing ?? 0);
          }
          return total;
        },
      },
      {
        name: 'update.api',
        run: async (round) => {
          const rows = taskIds.map((id, k) => ({ id, data: { title: newTitle(round, k) } }));
          return countSql('update.api', round, () => timeIt(() => uploadDirect('update', rows)));
        },
      },
      {
        name: 'update.floor',
        run: async (round) => {
          const rows = taskIds.map((id, k) => ({ id, data: { title: newTitle(round, k) } }));
          return timeIt(() => floor.send('update', rows, BATCH));
        },
      },
      {
        name: 'update.client',
        async run(round) {
          const { runtime, dbName } = updater!;
          const objects = await runtime.store.getMany('Task', taskIds);
          const session = runtime.session();
          await session.commit(objects.map((o, k) => session.change(o!, { title: newTitle(round, k) })));
          let uploaded = 0;
          const ms = await timeIt(async () => void (uploaded = await uploadByHand(dbName, floor, 'update', 'Task', BATCH)));
          if (uploaded !== N || (await runtime.store.pendingCount()) !== 0) throw new Error(`client floor uploaded ${uploaded} updates, expected ${N}`);
          return ms;
        },
      },
      {
        name: 'update.rows',
        async run(round) {
          const device = await openDevice(server.url, { user: USER, syncConfig: onlyEntities('Project', 'Task') });
          try {
            const created = '2026-01-01T00:00:00.000000Z';
            const stamp = new Date().toISOString().replace('Z', '000Z');
            const prepare = taskIds.map((id, k) => answeredRow(id, newTitle(round, k), created, created));
            const rows = taskIds.map((id, k) => answeredRow(id, newTitle(round + 1, k), created, stamp));
            return await putRowsByHand(device.dbName, 'Task', rows, { batch: BATCH, prepare });
          } finally {
            await device.dispose();
          }
        },
      },
    ],
    {
      repetitions: REPS,
      warmup: WARMUP,
      onSample: (name, rep, ms) => console.log(`  ${rep < 0 ? 'warm-up' : `rep ${rep + 1}`}  ${name.padEnd(16)} ${formatMs(ms).padStart(9)}  (${((ms / N) * 1000).toFixed(1)} µs/change)`),
    },
  );

  const m = (name: string) => samples.get(name)!;
  const perChange = (ms: number) => `${((ms / N) * 1000).toFixed(1)} µs per change`;
  const metrics: Metric[] = [];
  for (const kind of ['create', 'update'] as const) {
    const upload = kind === 'create' ? phases.createUpload : phases.updateUpload;
    const refresh = kind === 'create' ? phases.createRefresh : phases.updateRefresh;
    const floorMs = m(`${kind}.floor`).median;
    const clientMs = m(`${kind}.client`).median;
    metrics.push(
      timing(`${kind}.protocol`, `${kind}s: runtime.synchronize({ mode: 'unsynchronized' }) (${perChange(m(`${kind}.protocol`).median)})`, m(`${kind}.protocol`).samples, m(`${kind}.protocol`).median),
      timing(`${kind}.protocol.upload`, `  of which the uploading state (${perChange(median(upload))})`, upload, median(upload)),
      timing(`${kind}.protocol.refresh`, `  of which the refreshing state (${perChange(median(refresh))})`, refresh, median(refresh)),
      timing(`${kind}.api`, `${kind}s: POST /api/upload, ${BATCH} per request (${perChange(m(`${kind}.api`).median)})`, m(`${kind}.api`).samples, m(`${kind}.api`).median),
      timing(`${kind}.floor`, `${kind}s: floor, one set-based statement per ${BATCH} over HTTP (${perChange(floorMs)})`, m(`${kind}.floor`).samples, floorMs),
      timing(`${kind}.client`, `${kind}s: client floor, the device's work by hand + the same endpoint (${perChange(clientMs)})`, m(`${kind}.client`).samples, clientMs),
      ratio(`ratio.${kind}.upload/floor`, `${kind}s: uploading state / floor`, median(upload) / floorMs, TARGET),
      ratio(`ratio.${kind}.upload/client`, `${kind}s: uploading state / client floor`, median(upload) / clientMs),
      ratio(`ratio.${kind}.client/floor`, `${kind}s: client floor / floor (what the device's own work adds)`, clientMs / floorMs),
      ratio(`ratio.${kind}.api/floor`, `${kind}s: /api/upload / floor`, m(`${kind}.api`).median / floorMs),
      timing(`${kind}.rows`, `${kind}s: the device's least work, bulkPut of the answered rows alone (${perChange(m(`${kind}.rows`).median)})`, m(`${kind}.rows`).samples, m(`${kind}.rows`).median),
      ratio(`ratio.${kind}.rows/floor`, `${kind}s: storing the answered rows alone / floor`, m(`${kind}.rows`).median / floorMs),
      { key: `sql.${kind}.protocol`, label: `${kind}s: SQL statements per change, synchronize (upload + refresh)`, unit: 'statements', value: median(statements[`${kind}.protocol`] ?? []) },
      { key: `sql.${kind}.api`, label: `${kind}s: SQL statements per change, /api/upload`, unit: 'statements', value: median(statements[`${kind}.api`] ?? []) },
      { key: `clock.${kind}.api`, label: `${kind}s: write clock held per ${BATCH}-change request (median)`, unit: 'ms', value: median(clockHeld[`${kind}.api`] ?? []) },
    );
  }
  report({
    name: 'upload',
    title: `Upload of ${N.toLocaleString('en-US')} creates and ${N.toLocaleString('en-US')} updates beside a set-based floor (issue 12)`,
    date: new Date().toISOString(),
    quick: args.quick,
    machine: machineInfo({ postgres: await postgresVersion() }),
    params: { changes: N, batch: BATCH, repetitions: REPS, warmup: WARMUP, user: USER, storage: 'PostgreSQL (separate server process)' },
    metrics,
    notes: [
      'Medians of interleaved repetitions. The local commit of the changes is not timed; synchronize also refreshes the uploaded objects (refreshing state).',
      'The floor writes the same rows into the same sf_objects table with one statement per request, without auth, access rules, handlers or idempotency.',
      "'Storing the answered rows alone' is a bulkPut of the N rows into a fresh device's Task table (1,000 per transaction, fake-indexeddb): a share of the target no device can avoid.",
      "The client floor does the device's unavoidable work by hand over the same Dexie tables (fake-indexeddb): read the queue and rows per 1,000, POST to the floor endpoint (which answers the written rows), delete the queue entries and bulkPut the answered rows in one transaction per 1,000, pipelined. No validation, change-tracking seq, sort, failures or refresh.",
      "The demo Task has a before-commit handler (word count); the server runs it for every change, the floor does not. 'SQL statements per change' counts every statement the server sends, BEGIN and COMMIT included.",
    ],
  });
} finally {
  await updater?.dispose();
  await floor.close();
  await server.stop();
  await schema.drop();
}
