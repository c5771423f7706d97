/**
 * Named syncs: `runtime.syncs.reSync('tasks')` of 100 records changed on the server, on a device
 * storing 1,000 Tasks beside one storing 100,000 (quick: 1,000 and 10,000). The incremental run
 * must cost the same whatever the store holds (time ratio <= 1.5), and the bytes it transfers
 * must follow the change, not the store (bytes ratio ~1).
 *
 * Per size: a sync server in its own process on its own PostgreSQL schema, N Tasks seeded by SQL
 * (owned by the bench user, plus 100 Projects they refer to, not synced), and a device
 * (createRuntime on fake-indexeddb) whose fetch counts what it receives. The device defines a
 * sync down over Task and runs its first reSync (full: timed, reported, not the figure). Then,
 * each round and for each size: 100 Tasks spread over the store are updated on the server through
 * the protocol by another SyncClient of the same user (not timed: the server stamps them with its
 * own clock, in commit order), then `reSync('tasks')` is timed with its bytes and objects, then the
 * floor fetches the same 100 rows.
 *
 * Floor: plain fetch of /api/download with `since` + JSON.parse + one Dexie bulkPut, into a
 * database with the runtime's tables and indexes holding the same N rows (floors.ts layout).
 */
import type Dexie from 'dexie';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { demoSchema } from '../src/demo/schema.ts';
import type { SyncState } from '../src/model/syncState.ts';
import type { SyncObject } from '../src/model/values.ts';
import { createRuntime, type Runtime } from '../src/runtime/Runtime.ts';
import { SyncClient } from '../src/transport/SyncClient.ts';
import type { ChangeRequest, DownloadResponse } from '../src/transport/wire.ts';
import { benchArgs } from './support/args.ts';
import { deleteDatabase, tokenOf } from './support/device.ts';
import { httpFetch, openFloorDb } from './support/floors.ts';
import { BENCH_DATABASE_URL, createBenchSchema, postgresVersion, type BenchSchema } from './support/postgres.ts';
import { machineInfo, ratio, report, timing, type Metric } from './support/results.ts';
import { benchId, seedObjects } from './support/seed.ts';
import { startServerProcess, type ServerProcess } from './support/serverProcess.ts';
import { collectGarbage, formatMs, formatRatio, median, timeIt, type Samples } from './support/stats.ts';

const args = benchArgs();
const SIZES = args.quick ? [1_000, 10_000] : [1_000, 100_000];
const CHANGED = 100;
const PROJECTS = 100;
const REPS = args.reps ?? (args.quick ? 9 : 21);
const WARMUP = 1;
const USER = 'alice';
const SYNC = 'tasks';
const TIME_TARGET = { max: 1.5, description: '<= 1.5x: flat, the cost follows the change, not the store' };
const BYTES_TARGET = { max: 1.05, description: '~1.0x: bytes follow the change, not the store' };

// ---------------------------------------------------------------- a device that counts its traffic

/** What the device's fetch saw: requests, body bytes each way, wall time inside fetch + body read. */
interface Traffic {
  requests: number;
  bytesIn: number;
  bytesOut: number;
  httpMs: number;
}

const noTraffic = (): Traffic => ({ requests: 0, bytesIn: 0, bytesOut: 0, httpMs: 0 });

interface CountingDevice {
  runtime: Runtime;
  traffic: Traffic;
  /** Objects the download step reported received (its onProgress `done`), since the last reset. */
  received: number;
  reset(): void;
  dispose(): Promise<void>;
}

let devices = 0;

/**
 * bench/support/device.ts's device plus a fetch that buffers each answer to count its body bytes
 * (no compression: the body is what crossed the wire) and the runtime's onProgress for objects.
 */
async function openCountingDevice(serverUrl: string, user: string): Promise<CountingDevice> {
  const dbName = `bench-resync-${process.pid}-${++devices}`;
  const device = { traffic: noTraffic(), received: 0 } as CountingDevice;
  const countingFetch: typeof fetch = async (input, init) => {
    const start = performance.now();
    const res = await fetch(input, init);
    const body = await res.arrayBuffer();
    const t = device.traffic;
    t.httpMs += performance.now() - start;
    t.requests++;
    t.bytesIn += body.byteLength;
    t.bytesOut += typeof init?.body === 'string' ? Buffer.byteLength(init.body) : 0;
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  device.runtime = await createRuntime({
    schema: demoSchema,
    serverUrl,
    token: tokenOf(user),
    dbName,
    indexedDB,
    IDBKeyRange,
    fetch: countingFetch,
    onProgress: (p) => {
      if (p.phase === 'download') device.received = Math.max(device.received, p.done);
    },
  });
  device.reset = () => {
    device.traffic = noTraffic();
    device.received = 0;
  };
  device.dispose = async () => {
    device.runtime.close();
    await deleteDatabase(dbName);
  };
  return device;
}

// ---------------------------------------------------------------- the floor

/**
 * The hand-written incremental fetch: /api/download with `since` (pages of 1,000, no count),
 * JSON.parse, one bulkPut per page. Answers the objects, the new `since` and the body bytes.
 */
async function floorFetch(serverUrl: string, token: string, db: Dexie, since: string): Promise<{ n: number; since: string; bytes: number }> {
  const table = db.table('Task');
  let cursor: string | null = null;
  let n = 0;
  let bytes = 0;
  let max = since;
  do {
    const res = await fetch(`${serverUrl}/api/download`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-device-id': 'bench-floor' },
      body: JSON.stringify({ entity: 'Task', since, cursor, limit: 1000 }),
    });
    if (!res.ok) throw new Error(`download ${res.status}: ${await res.text()}`);
    const text = await res.text();
    bytes += text.length; // ASCII JSON
    const page = JSON.parse(text) as DownloadResponse;
    if (page.objects.length) await table.bulkPut(page.objects);
    n += page.objects.length;
    cursor = page.cursor;
    if (page.maxChangedDate && page.maxChangedDate > max) max = page.maxChangedDate;
  } while (cursor);
  return { n, since: max, bytes };
}

// ---------------------------------------------------------------- setup

interface Setup {
  size: number;
  schema: BenchSchema;
  server: ServerProcess;
  device: CountingDevice;
  /** Another client of the same user: the one that changes records on the server. */
  writer: SyncClient;
  floor: { db: Dexie; dispose(): Promise<void>; since: string; bytes: number[]; n: number[] };
  first: { ms: number; traffic: Traffic; received: number };
  samples: { bytes: number[]; bytesOut: number[]; objects: number[]; requests: number[]; httpMs: number[]; localMs: number[] };
}

const n = (x: number) => x.toLocaleString('en-US');
const kib = (bytes: number) => Math.round((bytes / 1024) * 100) / 100;
console.log(`resync: reSync of ${CHANGED} changed records among ${SIZES.map(n).join(' vs ')} stored, ${REPS} repetitions (+${WARMUP} warm-up)`);

const setups: Setup[] = [];
try {
  for (const size of SIZES) {
    const schema = await createBenchSchema(`resync_${size}`);
    const server = await startServerProcess({ databaseUrl: BENCH_DATABASE_URL, schemaName: schema.name });
    const setup = { size, schema, server, samples: { bytes: [], bytesOut: [], objects: [], requests: [], httpMs: [], localMs: [] } } as unknown as Setup;
    setups.push(setup);
    await seedObjects(schema.pool, { owner: USER, projects: PROJECTS, tasks: size });

    setup.device = await openCountingDevice(server.url, USER);
    const { runtime } = setup.device;
    await runtime.syncs.defineSyncDown({ entity: 'Task' }, { name: SYNC });
    setup.device.reset();
    let state: SyncState | undefined;
    const ms = await timeIt(async () => (state = await runtime.syncs.reSync(SYNC)));
    if (state!.status !== 'done') throw new Error(`first reSync ended ${state!.status}: ${JSON.stringify(state!.error)}`);
    const stored = await runtime.store.count('Task');
    if (stored !== size || setup.device.received !== size) throw new Error(`first reSync: ${stored} stored, ${setup.device.received} received, expected ${size}`);
    setup.first = { ms, traffic: setup.device.traffic, received: setup.device.received };

    // The floor's database holds the same N rows (filled over HTTP, not timed).
    const floorDb = await openFloorDb();
    const filled = await httpFetch(server.url, tokenOf(USER), floorDb.db, 'Task');
    if (filled !== size) throw new Error(`floor fill: ${filled} rows, expected ${size}`);
    setup.floor = { ...floorDb, since: state!.maxTimeStamp!, bytes: [], n: [] };

    setup.writer = new SyncClient({ baseUrl: server.url, token: tokenOf(USER), deviceId: `bench-writer-${size}` });
    console.log(
      `  ${n(size)}: seeded; first reSync (full) ${formatMs(ms)}, ${n(setup.first.received)} objects, ` +
        `${(setup.first.traffic.bytesIn / 2 ** 20).toFixed(1)} MiB in ${n(setup.first.traffic.requests)} request${setup.first.traffic.requests === 1 ? '' : 's'}`,
    );
  }

  /** The ids changed in a round: spread over the whole store, a different set each round. */
  const idsOf = (setup: Setup, round: number) => {
    const step = Math.floor(setup.size / CHANGED);
    return Array.from({ length: CHANGED }, (_, k) => benchId('Task', 1 + ((k * step + round) % setup.size)));
  };
  const titleOf = (round: number, k: number) => `Task changed in round ${String(round).padStart(3, '0')} (${String(k).padStart(3, '0')})`;

  /** 100 updates through the protocol as the same user from another device (the server stamps them). */
  const changeOnServer = async (setup: Setup, round: number) => {
    const changes: ChangeRequest[] = idsOf(setup, round).map((id, k) => ({
      changeId: `bench-resync-${setup.size}-${round}-${k}`,
      entity: 'Task',
      id,
      kind: 'update',
      data: { title: titleOf(round, k), done: round % 2 === 0 },
    }));
    const { results } = await setup.writer.upload(changes);
    const failed = results.filter((r) => r.status !== 'applied');
    if (failed.length) throw new Error(`${failed.length} server changes failed: ${JSON.stringify(failed[0])}`);
  };

  /** Times reSync('tasks') of the round's changes and checks it did the whole work. */
  const timeResync = async (setup: Setup, round: number) => {
    const { device } = setup;
    device.reset();
    let state: SyncState | undefined;
    const ms = await timeIt(async () => (state = await device.runtime.syncs.reSync(SYNC)));
    if (state!.status !== 'done') throw new Error(`reSync ended ${state!.status}: ${JSON.stringify(state!.error)}`);
    if (device.received !== CHANGED || state!.totalSize !== CHANGED) {
      throw new Error(`reSync received ${device.received} objects (server counted ${state!.totalSize}), expected ${CHANGED}`);
    }
    // Each changed record is stored with its new title.
    const objects = await device.runtime.store.getMany('Task', idsOf(setup, round));
    const stale = objects.filter((o, k) => o?.title !== titleOf(round, k)).length;
    if (stale) throw new Error(`${stale} changed records are not up to date after reSync`);
    if (round >= WARMUP) {
      setup.samples.bytes.push(device.traffic.bytesIn);
      setup.samples.bytesOut.push(device.traffic.bytesOut);
      setup.samples.objects.push(device.received);
      setup.samples.requests.push(device.traffic.requests);
      setup.samples.httpMs.push(device.traffic.httpMs);
    }
    if (round >= WARMUP) setup.samples.localMs.push(ms - device.traffic.httpMs);
    return ms;
  };

  /** Times the floor's fetch of the same changed rows (everything after its last maxChangedDate). */
  const timeFloor = async (setup: Setup, round: number) => {
    let out: { n: number; since: string; bytes: number } | undefined;
    const ms = await timeIt(async () => (out = await floorFetch(setup.server.url, tokenOf(USER), setup.floor.db, setup.floor.since)));
    if (out!.n !== CHANGED) throw new Error(`floor fetched ${out!.n} objects, expected ${CHANGED}`);
    setup.floor.since = out!.since;
    if (round >= WARMUP) {
      setup.floor.bytes.push(out!.bytes);
      setup.floor.n.push(out!.n);
    }
    return ms;
  };

  // Rounds: for each size, a GC (with --expose-gc), the server-side change (not timed), then
  // reSync and floor, in alternating order from round to round. Not stats.ts's interleave(): it
  // collects garbage right before each variant, and a variant timed right after a full GC pays
  // for the collector's aftermath (measured: the floor doubled, 8 → 20 ms, while reSync, timed
  // after the untimed change, did not), so the two would not be measured alike.
  const samples = new Map<string, Samples>();
  const sampleOf = (name: string) => samples.get(name) ?? samples.set(name, { name, samples: [], median: Number.NaN }).get(name)!;
  for (let round = 0; round < WARMUP + REPS; round++) {
    for (const setup of setups) {
      collectGarbage();
      await changeOnServer(setup, round);
      const order = round % 2 === 0 ? (['resync', 'floor'] as const) : (['floor', 'resync'] as const);
      for (const variant of order) {
        const ms = variant === 'resync' ? await timeResync(setup, round) : await timeFloor(setup, round);
        if (round >= WARMUP) sampleOf(`${variant}.${setup.size}`).samples.push(ms);
        const rep = round < WARMUP ? 'warm-up' : `rep ${round - WARMUP + 1}`;
        console.log(`  ${rep.padEnd(7)}  ${variant.padEnd(6)} among ${n(setup.size).padStart(7)}  ${formatMs(ms).padStart(8)}`);
      }
    }
  }
  for (const s of samples.values()) s.median = median(s.samples);

  // ---------------------------------------------------------------- figures
  const [small, large] = setups.map((setup) => ({
    setup,
    resync: samples.get(`resync.${setup.size}`)!,
    floor: samples.get(`floor.${setup.size}`)!,
    bytes: median(setup.samples.bytes),
    objects: median(setup.samples.objects),
    requests: median(setup.samples.requests),
    httpMs: median(setup.samples.httpMs),
    localMs: median(setup.samples.localMs),
    floorBytes: median(setup.floor.bytes),
  }));
  const timeRatio = large.resync.median / small.resync.median;
  const bytesRatio = large.bytes / small.bytes;
  const floorRatio = large.floor.median / small.floor.median;

  // Side by side (report() below prints the same figures one per line and writes the JSON).
  const rows: Array<[string, string, string, string]> = [
    ['', `${n(small.setup.size)} stored`, `${n(large.setup.size)} stored`, 'large / small'],
    ['first reSync (full; not the figure)', formatMs(small.setup.first.ms), formatMs(large.setup.first.ms), formatRatio(large.setup.first.ms / small.setup.first.ms)],
    [`reSync of ${CHANGED} changed (median)`, formatMs(small.resync.median), formatMs(large.resync.median), formatRatio(timeRatio)],
    ['  of which in fetch (HTTP + server)', formatMs(small.httpMs), formatMs(large.httpMs), formatRatio(large.httpMs / small.httpMs)],
    ['  of which outside fetch (device)', formatMs(small.localMs), formatMs(large.localMs), formatRatio(large.localMs / small.localMs)],
    ['  bytes received', n(small.bytes), n(large.bytes), formatRatio(bytesRatio)],
    ['  objects downloaded', n(small.objects), n(large.objects), formatRatio(large.objects / small.objects)],
    ['  requests', n(small.requests), n(large.requests), ''],
    ['floor: fetch since + parse + bulkPut', formatMs(small.floor.median), formatMs(large.floor.median), formatRatio(floorRatio)],
    ['  floor bytes received', n(small.floorBytes), n(large.floorBytes), formatRatio(large.floorBytes / small.floorBytes)],
    ['reSync / floor', formatRatio(small.resync.median / small.floor.median), formatRatio(large.resync.median / large.floor.median), ''],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log('');
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   '));
  console.log(`time  ${n(large.setup.size)} / ${n(small.setup.size)}: ${formatRatio(timeRatio)}  ${timeRatio <= TIME_TARGET.max ? 'PASS' : 'OVER TARGET'} (target ${TIME_TARGET.description})`);
  console.log(`bytes ${n(large.setup.size)} / ${n(small.setup.size)}: ${formatRatio(bytesRatio)}  ${bytesRatio <= BYTES_TARGET.max ? 'PASS' : 'OVER TARGET'} (target ${BYTES_TARGET.description})`);

  const metrics: Metric[] = [];
  for (const s of [small, large]) {
    const size = s.setup.size;
    const among = `among ${n(size)}`;
    metrics.push(
      { key: `first.${size}`, label: `first reSync (full) of ${n(size)}`, unit: 'ms', value: s.setup.first.ms },
      { key: `first.${size}.bytes`, label: '  received', unit: 'KiB', value: kib(s.setup.first.traffic.bytesIn) },
      timing(`resync.${size}`, `reSync of ${CHANGED} changed ${among}`, s.resync.samples, s.resync.median),
      timing(`resync.${size}.http`, '  of which in fetch (HTTP + server)', s.setup.samples.httpMs, s.httpMs),
      timing(`resync.${size}.local`, '  of which outside fetch (device: store, state, manager)', s.setup.samples.localMs, s.localMs),
      { key: `resync.${size}.bytes`, label: '  received (response bodies)', unit: 'KiB', value: kib(s.bytes), samples: s.setup.samples.bytes.map(kib) },
      { key: `resync.${size}.bytesOut`, label: '  sent (request bodies)', unit: 'KiB', value: kib(median(s.setup.samples.bytesOut)) },
      { key: `resync.${size}.objects`, label: '  objects downloaded', unit: 'count', value: s.objects },
      { key: `resync.${size}.requests`, label: '  requests', unit: 'count', value: s.requests },
      timing(`floor.${size}`, `floor: fetch since + JSON.parse + bulkPut, ${among}`, s.floor.samples, s.floor.median),
      { key: `floor.${size}.bytes`, label: '  received', unit: 'KiB', value: kib(s.floorBytes) },
      ratio(`ratio.resync/floor.${size}`, `reSync / floor, ${among}`, s.resync.median / s.floor.median),
    );
  }
  const vs = `${n(large.setup.size)} / ${n(small.setup.size)} stored`;
  metrics.push(
    ratio('ratio.time.large/small', `reSync time, ${vs}`, timeRatio, TIME_TARGET),
    ratio('ratio.bytes.large/small', `reSync bytes received, ${vs}`, bytesRatio, BYTES_TARGET),
    ratio('ratio.floor.large/small', `floor time, ${vs}`, floorRatio),
  );

  report({
    name: 'resync',
    title: `Named-sync reSync of ${CHANGED} changed records: ${SIZES.map(n).join(' vs ')} stored`,
    date: new Date().toISOString(),
    quick: args.quick,
    machine: machineInfo({ postgres: await postgresVersion() }),
    params: {
      sizes: SIZES,
      changed: CHANGED,
      projectsOnServer: PROJECTS,
      repetitions: REPS,
      warmup: WARMUP,
      user: USER,
      sync: { name: SYNC, target: { entity: 'Task' }, batchSize: 'default (1,000)' },
      storage: 'PostgreSQL (one server process and schema per size)',
    },
    metrics,
    notes: [
      'Medians of interleaved repetitions after a warm-up round: each round and size, a GC, the server-side change (not timed), then reSync and floor in alternating order.',
      `Each round, ${CHANGED} Tasks spread over the whole store (a different set each round) are updated (title, done) through POST /api/upload by another SyncClient of the same user, so the server stamps changedDate with its own clock in commit order.`,
      'Bytes are response body bytes seen by the device\'s fetch (no compression); objects are what the download step reported received; each reSync is checked to have stored all changed records.',
      'The floor writes into a Dexie database with the runtime\'s tables and indexes (minus $tag) holding the same N rows, so its bulkPut pays for the same store size; it sends no count and keeps no sync state.',
      '"In fetch" is the wall time inside the device\'s fetch (request, server, body); "outside fetch" is the rest of reSync on the device (sync state reads and writes, the manager, the batch transaction writing Task rows and $syncRows). The store-size growth, if any, shows in the latter: puts into larger fake-indexeddb trees (O(log n)).',
      'Both sizes live in the same bench process (fake-indexeddb keeps everything in the JS heap), so GC pressure from the large store hits both sizes alike.',
      'The first reSync (full) is reported for reference only: it is an all-objects download of the store.',
    ],
  });
} finally {
  for (const s of setups) {
    await s.device?.dispose();
    await s.floor?.dispose();
    await s.server.stop();
    await s.schema.drop();
  }
}
