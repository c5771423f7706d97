/**
 * Sync profiles and the sync journal.
 *
 * 1. A profile that downloads 1 of the 3 demo entities (Task) moves only that entity's bytes:
 *    N Projects, N Tasks and N Attachments on the server; a device's first all-objects
 *    Synchronize is the reference; the profile's first run (full for Task, since the profile
 *    has no checkpoint yet) on the same device is measured beside it and beside a floor: one
 *    plain /api/download walk of Task over HTTP. Printed: bytes and objects per run, the
 *    profile/full-sync bytes ratio (1 of 3 entities; Task rows are the widest, so a little over 1/3) and the profile/floor bytes ratio (~1).
 * 2. The journal's cost per sync: a no-op Synchronize (unsynchronized, nothing pending) is timed
 *    with the journal (as shipped) and the journal's own write (append of the same entry) is
 *    timed alone; printed with the bytes of one entry as stored (its JSON).
 *
 * In process: a demo sync server over embedded PGlite, a device on fake-indexeddb whose fetch
 * counts the bytes of every answer body. Medians over the repetitions.
 *
 *   npx tsx bench/profiles.bench.ts [--quick] [--reps n]
 */
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { demoSchema } from '../src/demo/schema.ts';
import { createRuntime } from '../src/runtime/Runtime.ts';
import { createDemoSyncServer, demoUsers } from '../src/server/demo.ts';
import { openStorage } from '../src/server/index.ts';
import { SyncClient } from '../src/transport/SyncClient.ts';
import type { ChangeRequest } from '../src/transport/wire.ts';
import { benchArgs } from './support/args.ts';
import { formatRatio, median } from './support/stats.ts';

const args = benchArgs();
const N = args.quick ? 500 : 3_000;
const REPS = args.reps ?? (args.quick ? 5 : 15);
const token = demoUsers.find((u) => u.id === 'alice')!.token;

const storage = await openStorage({});
const server = await createDemoSyncServer(await storage.withSchema(`bench_profiles_${process.pid}`));
const url = await server.listen({ port: 0 });

// ---------------------------------------------------------------- seed N of each entity
const seeder = new SyncClient({ baseUrl: url, token, deviceId: 'bench-seeder' });
const changes: ChangeRequest[] = [];
const projectIds = Array.from({ length: N }, () => crypto.randomUUID());
const taskIds = Array.from({ length: N }, () => crypto.randomUUID());
for (const [i, id] of projectIds.entries()) changes.push({ changeId: crypto.randomUUID(), entity: 'Project', id, kind: 'create', data: { name: `Project ${i} ${'p'.repeat(40)}` } });
for (const [i, id] of taskIds.entries()) changes.push({ changeId: crypto.randomUUID(), entity: 'Task', id, kind: 'create', data: { title: `Task ${i} ${'t'.repeat(40)}`, project: projectIds[i] } });
for (const [i, task] of taskIds.entries()) changes.push({ changeId: crypto.randomUUID(), entity: 'Attachment', id: crypto.randomUUID(), kind: 'create', data: { name: `file-${i}-${'a'.repeat(40)}.txt`, task } });
for (let i = 0; i < changes.length; i += 1000) await seeder.upload(changes.slice(i, i + 1000));

// ---------------------------------------------------------------- a counting device
let received = 0;
const countingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const body = await res.arrayBuffer();
  received += body.byteLength;
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
};
async function device(name: string) {
  return createRuntime({
    schema: demoSchema,
    serverUrl: url,
    token,
    dbName: `bench-profiles-${process.pid}-${name}`,
    indexedDB,
    IDBKeyRange,
    fetch: countingFetch,
    profiles: { definitions: [{ name: 'tasks', direction: 'download', entities: { include: ['Task'] }, globalExclusions: false, excludedSteps: ['OnlyCoreModules'] }] },
  });
}

// ---------------------------------------------------------------- 1. bytes of a 1-of-3 profile
const full: number[] = [];
const profile: number[] = [];
const floor: number[] = [];
const profileObjects: number[] = [];
for (let r = 0; r < Math.max(3, Math.ceil(REPS / 3)); r++) {
  const runtime = await device(`bytes-${r}`);
  received = 0;
  await runtime.synchronize({ mode: 'all' });
  full.push(received);
  received = 0;
  const result = await runtime.profiles.run('tasks');
  if (result.outcome !== 'done') throw new Error(`profile run ${result.outcome}: ${JSON.stringify(result.refusal ?? result.error)}`);
  profile.push(received);
  profileObjects.push(result.downloaded);
  const entry = await runtime.journal.last({ kind: 'profile' });
  if (entry!.counts.some((c) => c.entity !== 'Task')) throw new Error('the profile moved another entity');
  runtime.close();

  received = 0;
  let cursor: string | null = null;
  do {
    const res: Response = await countingFetch(`${url}/api/download`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-device-id': 'bench-floor' },
      body: JSON.stringify({ entity: 'Task', cursor, limit: 1000 }),
    });
    cursor = ((await res.json()) as { cursor: string | null }).cursor;
  } while (cursor);
  floor.push(received);
}

// ---------------------------------------------------------------- 2. journal cost per sync
const runtime = await device('journal');
await runtime.synchronize({ mode: 'all' });
const syncMs: number[] = [];
const appendMs: number[] = [];
for (let r = 0; r < REPS + 1; r++) {
  let t = performance.now();
  await runtime.synchronize({ mode: 'unsynchronized' });
  const s = performance.now() - t;
  const { seq: _seq, ...entry } = (await runtime.journal.last())!;
  t = performance.now();
  await runtime.journal.append(entry);
  const a = performance.now() - t;
  if (r > 0) {
    syncMs.push(s);
    appendMs.push(a);
  }
}
const lastEntry = await runtime.journal.last({ kind: 'synchronize', name: 'all' });
const entryBytes = new TextEncoder().encode(JSON.stringify(lastEntry)).length;
runtime.close();

console.log(`profiles bench: ${N} Projects, ${N} Tasks, ${N} Attachments; medians`);
console.log(`  full Synchronize (all):          ${median(full)} bytes received`);
console.log(`  profile 'tasks' (Task only):     ${median(profile)} bytes received, ${median(profileObjects)} objects`);
console.log(`  floor (plain /api/download Task): ${median(floor)} bytes received`);
console.log(`  profile / full sync bytes: ${formatRatio(median(profile) / median(full))} (1 of 3 entities by count; Task rows are the widest, so a little over 1/3)`);
console.log(`  profile / floor bytes:     ${formatRatio(median(profile) / median(floor))} (~1x: only Task's bytes move)`);
console.log(`  no-op Synchronize with its journal entry: ${median(syncMs).toFixed(2)} ms; the journal write alone: ${median(appendMs).toFixed(2)} ms (${formatRatio(median(appendMs) / median(syncMs))} of the sync)`);
console.log(`  one entry stored (all-objects Synchronize of 3 entities): ${entryBytes} bytes`);

await server.close();
await storage.close();
