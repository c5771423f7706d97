/**
 * The sync server of a benchmark, in a process of its own (started by serverProcess.ts):
 * the demo app (schema, users, access rules, handlers) over PostgreSQL in the bench's schema,
 * without the demo data. Tells its parent the URL over IPC; stops on 'stop' or SIGTERM.
 */
import { createDemoSyncServer } from '../../src/server/demo.ts';
import { openStorage } from '../../src/server/storage/openStorage.ts';
import { countingStorage } from '../../src/server/storage/countingStorage.ts';

const url = process.env.SYNCFLOW_BENCH_SERVER_DB;
const schemaName = process.env.SYNCFLOW_BENCH_SERVER_SCHEMA;
if (!url || !schemaName) throw new Error('serverMain: SYNCFLOW_BENCH_SERVER_DB and SYNCFLOW_BENCH_SERVER_SCHEMA are required');

// Statements are counted for the write-path bench ('sql-count' over IPC answers the totals).
const { storage, count } = countingStorage(await openStorage({ url, schemaName }));
// cors: the memory bench's Chromium page runs on another origin.
const server = await createDemoSyncServer(storage, { cors: true });
const listening = await server.listen({ port: 0 });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.close();
  await storage.close();
  process.exit(0);
};
process.on('message', (m) => {
  if (m === 'stop') void stop();
  if (m === 'sql-count') process.send!({ sqlCount: { ...count } });
});
process.once('SIGTERM', () => void stop());
process.once('disconnect', () => void stop());
process.send!({ url: listening });
