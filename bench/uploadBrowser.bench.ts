/**
 * Issue 12's upload target where devices run: a browser with real IndexedDB. 10,000 creates and
 * 10,000 updates of Task objects (2,000 with --quick) uploaded from a page of real Chromium.
 *
 * upload.bench.ts measures the same in Node, where the device's store is fake-indexeddb: there
 * the device's own storage work, written by hand, is already several times the set-based floor,
 * so Node cannot tell whether the runtime meets "<= 3x the floor". Here the runtime is bundled
 * with esbuild into a page (support/browser/uploadPage.ts) served from its own origin, storing
 * into real IndexedDB on disk (a persistent profile), against the demo sync server in its own
 * process on the machine's PostgreSQL. One Chromium for the whole run.
 *
 * Interleaved, medians of the repetitions after a warm-up round:
 * - protocol: in the page, N creates committed through a Session (not timed), then
 *   runtime.synchronize({ mode: 'unsynchronized' }) (timed, its uploading state apart, as
 *   upload.bench.ts does); the same for N updates of synced objects;
 * - floor (the headline): the same rows POSTed from the page, 1,000 per request, to the set-based
 *   floor endpoint (support/uploadFloor.ts: one statement per request into the same sf_objects);
 *   beside it the same floor POSTed from Node (upload.bench.ts's floor);
 * - client floor: the device's unavoidable work by hand in the page over the same IndexedDB
 *   (read the queue and rows per 1,000, POST to the floor endpoint answering the written rows,
 *   clear the queue entries and bulkPut the rows in one transaction per 1,000, pipelined), as
 *   support/clientFloor.ts does in Node.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { benchArgs } from './support/args.ts';
import { bundle, CHROMIUM_ARGS, CHROMIUM_PATH, servePage } from './support/browser/chromium.ts';
import type { ClientFloorRun, PageSync } from './support/browser/uploadPage.ts';
import { tokenOf } from './support/device.ts';
import { BENCH_DATABASE_URL, createBenchSchema, postgresVersion } from './support/postgres.ts';
import { chromiumVersion, machineInfo, ratio, report, timing, type Metric } from './support/results.ts';
import { benchId, seedObjects } from './support/seed.ts';
import { sqlCounter, startServerProcess } from './support/serverProcess.ts';
import { formatMs, interleave, median, timeIt } from './support/stats.ts';
import { startUploadFloor } from './support/uploadFloor.ts';

const args = benchArgs();
const N = args.quick ? 2_000 : 10_000;
const REPS = args.reps ?? (args.quick ? 2 : 3);
const WARMUP = 1;
// The warm-up round (JIT, connections, PostgreSQL's buffers) uploads a fifth: a full-size one
// would add ~80 s to a run on 2 shared cores and its figures are thrown away.
const WARMUP_N = N / 5;
const sizeOf = (round: number) => (round < WARMUP ? WARMUP_N : N);
const USER = 'alice';
const BATCH = 1000;
const ENTITIES = ['Project', 'Task'];
const TARGET = { max: 3, description: '<= 3x the set-based floor (issue 12)' };

const uptime = () => {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`;
  }
};

const loadAtStart = uptime();
console.log(`uploadBrowser: ${N.toLocaleString('en-US')} creates and ${N.toLocaleString('en-US')} updates from Chromium's IndexedDB, ${REPS} repetitions (+${WARMUP} warm-up of ${WARMUP_N.toLocaleString('en-US')}), interleaved`);
console.log(`  ${loadAtStart}`);
const schema = await createBenchSchema('uploadBrowser');
const server = await startServerProcess({ databaseUrl: BENCH_DATABASE_URL, schemaName: schema.name });
const floor = await startUploadFloor(schema.pool, USER);
const profileDir = await mkdtemp(join(tmpdir(), 'syncflow-bench-upload-chromium-'));
const served = await servePage(await bundle('./uploadPage.ts'));
const context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
try {
  const tab = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  tab.on('pageerror', (e) => errors.push(e.message));
  await tab.goto(served.url);
  await tab.waitForFunction(() => typeof window.benchClientFloor === 'function');
  const checkPage = () => {
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  };
  const token = tokenOf(USER);
  const open = (dbName: string) => tab.evaluate((o) => window.benchOpen(o), { serverUrl: server.url, token, dbName, entities: ENTITIES });
  const close = (dbName: string, remove: boolean) => tab.evaluate((o) => window.benchClose(o), { dbName, remove });
  const sync = (dbName: string, mode: 'all' | 'unsynchronized') => tab.evaluate((o) => window.benchSynchronize(o), { dbName, mode });

  // The updates work on N seeded tasks the updating device holds.
  await seedObjects(schema.pool, { owner: USER, projects: 10, tasks: N });
  const taskIds = Array.from({ length: N }, (_, i) => benchId('Task', i + 1));
  const UPDATER = 'bench-upload-updater';
  await open(UPDATER);
  const first = await sync(UPDATER, 'all');
  if (first.downloaded < N) throw new Error(`the updating device downloaded ${first.downloaded} objects, expected at least ${N}`);
  console.log(`  the updating device downloaded ${first.downloaded.toLocaleString('en-US')} objects in ${formatMs(first.ms)}; server pid ${server.pid}, page at ${served.url}`);

  let serial = 0;
  const newTitle = (round: number, k: number) => `Task ${k} written in round ${round} of the upload bench (node ${++serial})`;
  const { count: countSql, statements, clockHeld } = sqlCounter(server, N, WARMUP);
  const phases = { createUpload: [] as number[], updateUpload: [] as number[], createRefresh: [] as number[], updateRefresh: [] as number[] };
  const checkSync = (what: string, s: PageSync, n: number) => {
    checkPage();
    if (s.uploaded !== n || s.pending !== 0) throw new Error(`${what}: uploaded ${s.uploaded}, ${s.pending} left queued, expected ${n} and 0`);
  };
  const clientParts: Record<string, ClientFloorRun[]> = {};
  // The local commits before each upload (not timed): most of a run's length besides the timings.
  const commitMs = { create: [] as number[], update: [] as number[] };
  const clientFloor = async (what: string, dbName: string, kind: 'create' | 'update', round: number) => {
    const r = await tab.evaluate((o) => window.benchClientFloor(o), { dbName, floorUrl: floor.url, kind, entity: 'Task', batch: BATCH });
    checkPage();
    if (r.uploaded !== sizeOf(round) || r.pending !== 0) throw new Error(`${what}: uploaded ${r.uploaded}, ${r.pending} left queued, expected ${sizeOf(round)} and 0`);
    if (round >= WARMUP) (clientParts[kind] ??= []).push(r);
    return r.ms;
  };
  const floorFromPage = async (kind: 'create' | 'update', round: number) => {
    const n = sizeOf(round);
    const r = await tab.evaluate((o) => window.benchFloorSend(o), { floorUrl: floor.url, kind, n, ids: kind === 'update' ? taskIds.slice(0, n) : undefined, round, batch: BATCH });
    checkPage();
    if (r.written !== n) throw new Error(`floor ${kind} from the page wrote ${r.written}, expected ${n}`);
    return r.ms;
  };

  const samples = await interleave(
    [
      {
        name: 'create.protocol',
        async run(round) {
          const dbName = `bench-upload-create-${round}`;
          await open(dbName);
          try {
            commitMs.create.push(await tab.evaluate((o) => window.benchCommitCreates(o), { dbName, n: sizeOf(round), round }));
            const s = await countSql('create.protocol', round, () => sync(dbName, 'unsynchronized'));
            checkSync('create protocol', s, sizeOf(round));
            if (round >= WARMUP) {
              phases.createUpload.push(s.phases.uploading ?? 0);
              phases.createRefresh.push(s.phases.refreshing ?? 0);
            }
            return s.ms;
          } finally {
            await close(dbName, true);
          }
        },
      },
      { name: 'create.floor', run: (round) => floorFromPage('create', round) },
      {
        name: 'create.floor.node',
        run: async (round) => {
          const rows = Array.from({ length: sizeOf(round) }, (_, k) => ({ id: crypto.randomUUID(), data: { title: newTitle(round, k), done: false, priority: 'normal', estimate: 1.5, words: 11, due: null, assignee: null, project: null } }));
          return timeIt(() => floor.send('create', rows, BATCH));
        },
      },
      {
        name: 'create.client',
        async run(round) {
          const dbName = `bench-upload-client-${round}`;
          await open(dbName);
          try {
            commitMs.create.push(await tab.evaluate((o) => window.benchCommitCreates(o), { dbName, n: sizeOf(round), round }));
            return await clientFloor('create client floor', dbName, 'create', round);
          } finally {
            await close(dbName, true);
          }
        },
      },
      {
        name: 'update.protocol',
        async run(round) {
          commitMs.update.push(await tab.evaluate((o) => window.benchCommitUpdates(o), { dbName: UPDATER, ids: taskIds.slice(0, sizeOf(round)), round }));
          const s = await countSql('update.protocol', round, () => sync(UPDATER, 'unsynchronized'));
          checkSync('update protocol', s, sizeOf(round));
          if (round >= WARMUP) {
            phases.updateUpload.push(s.phases.uploading ?? 0);
            phases.updateRefresh.push(s.phases.refreshing ?? 0);
          }
          return s.ms;
        },
      },
      { name: 'update.floor', run: (round) => floorFromPage('update', round) },
      {
        name: 'update.floor.node',
        run: async (round) => {
          const rows = taskIds.slice(0, sizeOf(round)).map((id, k) => ({ id, data: { title: newTitle(round, k) } }));
          return timeIt(() => floor.send('update', rows, BATCH));
        },
      },
      {
        name: 'update.client',
        async run(round) {
          commitMs.update.push(await tab.evaluate((o) => window.benchCommitUpdates(o), { dbName: UPDATER, ids: taskIds.slice(0, sizeOf(round)), round }));
          return clientFloor('update client floor', UPDATER, 'update', round);
        },
      },
    ],
    {
      repetitions: REPS,
      warmup: WARMUP,
      onSample: (name, rep, ms) => console.log(`  ${rep < 0 ? 'warm-up' : `rep ${rep + 1}`}  ${name.padEnd(18)} ${formatMs(ms).padStart(9)}  (${((ms / sizeOf(rep + WARMUP)) * 1000).toFixed(1)} µs/change)`),
    },
  );
  await close(UPDATER, true);
  const loadAtEnd = uptime();
  console.log(`  ${loadAtEnd}`);
  const fullCommits = (all: number[]) => all.filter((_, i) => i >= 2 * WARMUP); // two commits a round: protocol and client floor
  console.log(`  local commits (not timed), median: ${formatMs(median(fullCommits(commitMs.create)))} for ${N.toLocaleString('en-US')} creates, ${formatMs(median(fullCommits(commitMs.update)))} for ${N.toLocaleString('en-US')} updates`);

  const m = (name: string) => samples.get(name)!;
  const perChange = (ms: number) => `${((ms / N) * 1000).toFixed(1)} µs per change`;
  const metrics: Metric[] = [];
  for (const kind of ['create', 'update'] as const) {
    const upload = kind === 'create' ? phases.createUpload : phases.updateUpload;
    const refresh = kind === 'create' ? phases.createRefresh : phases.updateRefresh;
    const floorMs = m(`${kind}.floor`).median;
    const nodeFloorMs = m(`${kind}.floor.node`).median;
    const clientMs = m(`${kind}.client`).median;
    metrics.push(
      timing(`${kind}.protocol`, `${kind}s: runtime.synchronize({ mode: 'unsynchronized' }) in Chromium (${perChange(m(`${kind}.protocol`).median)})`, m(`${kind}.protocol`).samples, m(`${kind}.protocol`).median),
      timing(`${kind}.protocol.upload`, `  of which the uploading state (${perChange(median(upload))})`, upload, median(upload)),
      timing(`${kind}.protocol.refresh`, `  of which the refreshing state (${perChange(median(refresh))})`, refresh, median(refresh)),
      timing(`${kind}.floor`, `${kind}s: floor, one set-based statement per ${BATCH}, POSTed from the page (${perChange(floorMs)})`, m(`${kind}.floor`).samples, floorMs),
      timing(`${kind}.floor.node`, `${kind}s: the same floor POSTed from Node (${perChange(nodeFloorMs)})`, m(`${kind}.floor.node`).samples, nodeFloorMs),
      timing(`${kind}.client`, `${kind}s: client floor, the device's work by hand in the page + the same endpoint (${perChange(clientMs)})`, m(`${kind}.client`).samples, clientMs),
      ...(['readMs', 'postMs', 'writeMs'] as const).map((part) => {
        const values = (clientParts[kind] ?? []).map((r) => r[part]);
        const what = { readMs: 'reading the queue and rows', postMs: 'the POSTs (request to answer)', writeMs: 'the write transactions' }[part];
        return timing(`${kind}.client.${part}`, `  of which ${what}, summed over batches (parts overlap)`, values, median(values));
      }),
      ratio(`ratio.${kind}.upload/floor`, `${kind}s: uploading state / floor (from the page)`, median(upload) / floorMs, TARGET),
      ratio(`ratio.${kind}.upload/floor.node`, `${kind}s: uploading state / floor from Node`, median(upload) / nodeFloorMs),
      ratio(`ratio.${kind}.upload/client`, `${kind}s: uploading state / client floor`, median(upload) / clientMs),
      ratio(`ratio.${kind}.client/floor`, `${kind}s: client floor / floor (what the device's own IndexedDB work adds)`, clientMs / floorMs),
      { key: `sql.${kind}.protocol`, label: `${kind}s: SQL statements per change, synchronize (upload + refresh)`, unit: 'statements', value: median(statements[`${kind}.protocol`] ?? []) },
      { key: `clock.${kind}.protocol`, label: `${kind}s: write clock held per upload request (median)`, unit: 'ms', value: median(clockHeld[`${kind}.protocol`] ?? []) },
    );
  }
  report({
    name: 'uploadBrowser',
    title: `Upload of ${N.toLocaleString('en-US')} creates and ${N.toLocaleString('en-US')} updates from Chromium's IndexedDB beside a set-based floor (issue 12)`,
    date: new Date().toISOString(),
    quick: args.quick,
    machine: machineInfo({ postgres: await postgresVersion(), chromium: chromiumVersion(CHROMIUM_PATH) }),
    params: { changes: N, batch: BATCH, repetitions: REPS, warmup: WARMUP, warmupChanges: WARMUP_N, user: USER, storage: 'PostgreSQL (separate server process)', client: 'Chromium, persistent profile (IndexedDB on disk)', loadAtStart, loadAtEnd, commitMs: { create: median(fullCommits(commitMs.create)), update: median(fullCommits(commitMs.update)) } },
    metrics,
    notes: [
      `Medians of interleaved repetitions after a warm-up round of ${WARMUP_N.toLocaleString('en-US')} changes. Times are taken in the page (performance.now()); the local commit of the changes is not timed; synchronize also refreshes the uploaded objects (refreshing state).`,
      "The headline floor is POSTed from the page (the browser's fetch and JSON.stringify, 1,000 rows per request, one after the other); the same floor POSTed from Node is printed beside it. Both write the same rows into the same sf_objects with one statement per request, without auth, access rules, handlers or idempotency.",
      "The client floor does the device's unavoidable work by hand in the page over the same IndexedDB (on disk): read the queue and rows per 1,000, POST to the floor endpoint (which answers the written rows), delete the queue entries and bulkPut the answered rows in one transaction per 1,000, pipelined. No validation, change-tracking seq, sort, failures or refresh.",
      "The demo Task has a before-commit handler (word count); the server runs it for every change, the floor does not. 'SQL statements per change' counts every statement the server sends, BEGIN and COMMIT included.",
    ],
  });
} finally {
  await context.close().catch(() => {});
  await served.close();
  await rm(profileDir, { recursive: true, force: true });
  await floor.close();
  await server.stop();
  await schema.drop();
}
