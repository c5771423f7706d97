/**
 * Issue 12: write throughput as clients and server processes are added. 1, 2 and 4 sync server
 * processes over one PostgreSQL schema; 1 to 50 clients, each uploading 20 new Tasks per request
 * (POST /api/upload, one request after the other) for a fixed time; clients are spread over the
 * servers round-robin. Reports applied changes per second and the p50 / p99 request latency.
 *
 * Targets (issue 12): more clients raise throughput until the cores are busy; 2 processes >= 1.5x
 * one where 2 cores are free (the cores are printed: on a 2-core machine PostgreSQL and the
 * servers share them); p99 of a 20-change upload under 8 clients <= 4x its p50.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { benchArgs } from './support/args.ts';
import { tokenOf } from './support/device.ts';
import { BENCH_DATABASE_URL, createBenchSchema, postgresVersion } from './support/postgres.ts';
import { machineInfo, ratio, report, type Metric } from './support/results.ts';
import { startServerProcess, type ServerProcess } from './support/serverProcess.ts';

const args = benchArgs();
const PROCESSES = [1, 2, 4];
const CLIENTS = args.quick ? [1, 4, 8] : [1, 2, 4, 8, 16, 50];
const SECONDS = args.quick ? 2 : 5;
const CHANGES_PER_REQUEST = 20;
const USERS = ['alice', 'bob', 'carol'];

interface Run {
  processes: number;
  clients: number;
  changesPerSecond: number;
  p50: number;
  p99: number;
  requests: number;
  /** Median time an upload transaction held the write clock. */
  clockHeld: number;
  /** Share of the machine's CPU time busy during the run (every process: clients, servers, PostgreSQL, neighbours). */
  cpuBusy: number;
}

/** The machine's CPU time so far, busy and total (jiffies, all cores): `/proc/stat`'s first line. */
async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function drive(servers: ServerProcess[], clients: number, seconds: number): Promise<Omit<Run, 'processes' | 'clients'>> {
  const latencies: number[] = [];
  const before = await Promise.all(servers.map((s) => s.sqlCount()));
  const cpuBefore = await cpuTimes();
  let applied = 0;
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const url = servers[c % servers.length].url;
      const user = USERS[c % USERS.length];
      while (performance.now() < deadline) {
        const changes = Array.from({ length: CHANGES_PER_REQUEST }, (_, k) => ({
          changeId: crypto.randomUUID(),
          entity: 'Task',
          id: crypto.randomUUID(),
          kind: 'create',
          data: { title: `contention client ${c} change ${k}`, done: false },
        }));
        const t0 = performance.now();
        const res = await fetch(`${url}/api/upload`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokenOf(user)}`, 'content-type': 'application/json', 'x-device-id': `bench-${c}` },
          body: JSON.stringify({ changes }),
        });
        const body = (await res.json()) as { results?: Array<{ status: string }> };
        latencies.push(performance.now() - t0);
        if (!res.ok || !body.results) throw new Error(`upload answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
        applied += body.results.filter((r) => r.status === 'applied').length;
      }
    }),
  );
  const elapsed = performance.now() - start;
  const cpuAfter = await cpuTimes();
  latencies.sort((a, b) => a - b);
  const after = await Promise.all(servers.map((s) => s.sqlCount()));
  const held = after.flatMap((a, i) => a.clockHeldMs.slice(before[i].clockHeldMs.length)).sort((a, b) => a - b);
  return {
    changesPerSecond: (applied / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    requests: latencies.length,
    clockHeld: percentile(held, 50),
    cpuBusy: (cpuAfter.busy - cpuBefore.busy) / Math.max(1, cpuAfter.total - cpuBefore.total),
  };
}

console.log(`contention: ${PROCESSES.join('/')} server processes x ${CLIENTS.join('/')} clients, ${CHANGES_PER_REQUEST} creates per request, ${SECONDS} s each; ${os.cpus().length} cores`);
const schema = await createBenchSchema('contention');
const runs: Run[] = [];
try {
  const servers: ServerProcess[] = [];
  for (const processes of PROCESSES) {
    while (servers.length < processes) servers.push(await startServerProcess({ databaseUrl: BENCH_DATABASE_URL, schemaName: schema.name }));
    const active = servers.slice(0, processes);
    await drive(active, Math.max(...CLIENTS.filter((c) => c <= 8)), 1); // warm-up: JIT, pools, buffer cache
    for (const clients of CLIENTS) {
      const r = await drive(active, clients, SECONDS);
      runs.push({ processes, clients, ...r });
      console.log(
        `  ${processes} process(es) x ${String(clients).padStart(2)} clients: ${r.changesPerSecond.toFixed(0).padStart(6)} changes/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, clock held ${r.clockHeld.toFixed(2)} ms, CPU ${(r.cpuBusy * 100).toFixed(0)} % busy (${r.requests} requests)`,
      );
    }
  }
  for (const s of servers) await s.stop();

  const at = (processes: number, clients: number) => runs.find((r) => r.processes === processes && r.clients === clients)!;
  const metrics: Metric[] = runs.flatMap((r) => [
    { key: `rate.${r.processes}x${r.clients}`, label: `${r.processes} process(es) x ${r.clients} clients: applied changes/s`, unit: 'changes/s', value: r.changesPerSecond },
    { key: `p50.${r.processes}x${r.clients}`, label: `  p50 of a ${CHANGES_PER_REQUEST}-change upload`, unit: 'ms', value: r.p50 },
    { key: `p99.${r.processes}x${r.clients}`, label: `  p99`, unit: 'ms', value: r.p99 },
    { key: `clock.${r.processes}x${r.clients}`, label: `  write clock held per upload (median)`, unit: 'ms', value: r.clockHeld },
    { key: `cpu.${r.processes}x${r.clients}`, label: `  machine CPU busy (all ${os.cpus().length} cores)`, unit: '%', value: r.cpuBusy * 100 },
  ]);
  const best = (processes: number) => Math.max(...runs.filter((r) => r.processes === processes).map((r) => r.changesPerSecond));
  const eight = at(1, 8);
  metrics.push(
    ratio('ratio.2proc/1proc', 'best throughput, 2 processes / 1 process', best(2) / best(1)),
    ratio('ratio.4proc/1proc', 'best throughput, 4 processes / 1 process', best(4) / best(1)),
    ratio('ratio.8clients.p99/p50', `p99 / p50 of a ${CHANGES_PER_REQUEST}-change upload, 1 process x 8 clients`, eight.p99 / eight.p50, { max: 4, description: '<= 4x (issue 12)' }),
    ratio('ratio.clients.max/1', `best throughput / 1 client (1 process)`, best(1) / at(1, 1).changesPerSecond),
  );
  report({
    name: 'contention',
    title: `Write throughput as clients and server processes are added (issue 12)`,
    date: new Date().toISOString(),
    quick: args.quick,
    machine: machineInfo({ postgres: await postgresVersion() }),
    params: { processes: PROCESSES, clients: CLIENTS, seconds: SECONDS, changesPerRequest: CHANGES_PER_REQUEST, users: USERS, storage: 'PostgreSQL (separate server processes)' },
    metrics,
    notes: [
      `${os.cpus().length} cores: the clients (this process), every server process and PostgreSQL share them, so adding processes past the core count cannot add throughput.`,
      'Each client sends one request at a time; latency is measured from the request to its parsed answer.',
      "'Machine CPU busy' is /proc/stat over the run: every process on the machine, the bench's clients, the servers and PostgreSQL included. Where it is near 100 %, the cores are busy and more clients or processes cannot add throughput.",
    ],
  });
} finally {
  await schema.drop();
}
