import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onExit } from './postgres.ts';
import type { StatementCount } from '../../src/server/storage/countingStorage.ts';
import { readProcessMemory, resetPeak, type ProcessMemory } from './processMemory.ts';

/** A sync server running in a child process (its own heap, GC and RSS). */
export interface ServerProcess {
  url: string;
  pid: number;
  memory(): ProcessMemory | null;
  /** Resets the process's peak RSS (VmHWM), see processMemory.ts. */
  resetPeak(): boolean;
  /** Statements the server has sent to the database so far (see countingStorage.ts). */
  sqlCount(): Promise<StatementCount>;
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./serverMain.ts', import.meta.url));
let started = 0;

/**
 * Starts the demo app's sync server over PostgreSQL schema `schemaName` (tables are created
 * by the server's own migration) in a separate Node process, and waits until it listens.
 */
export async function startServerProcess(options: { databaseUrl: string; schemaName: string }): Promise<ServerProcess> {
  // `npm run bench -- --profile` profiles the server too (a folder per server: one file per thread).
  const profileRoot = process.env.SYNCFLOW_BENCH_PROFILE_DIR;
  const profileDir = profileRoot && join(profileRoot, `server-${++started}`);
  const child: ChildProcess = fork(MAIN, [], {
    execArgv: ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    env: { ...process.env, SYNCFLOW_BENCH_SERVER_DB: options.databaseUrl, SYNCFLOW_BENCH_SERVER_SCHEMA: options.schemaName },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the sync server process exited (code ${code}) before listening`)));
  });
  const pid = child.pid!;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send('stop');
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  onExit(stop);
  const sqlCount = () =>
    new Promise<StatementCount>((resolve) => {
      const onMessage = (m: unknown) => {
        const count = (m as { sqlCount?: StatementCount }).sqlCount;
        if (!count) return;
        child.off('message', onMessage);
        resolve(count);
      };
      child.on('message', onMessage);
      child.send('sql-count');
    });
  return { url, pid, memory: () => readProcessMemory(pid), resetPeak: () => resetPeak(pid), sqlCount, stop };
}

/**
 * Counts the SQL statements the server sends (per change: `/ changes`) and the write clock's
 * holds during each measured run, by variant name; warm-up rounds are not counted.
 */
export function sqlCounter(server: Pick<ServerProcess, 'sqlCount'>, changes: number, warmup: number) {
  const statements: Record<string, number[]> = {};
  // How long each upload transaction held the cluster-wide write clock (see clock.ts).
  const clockHeld: Record<string, number[]> = {};
  const count = async <T>(name: string, round: number, run: () => Promise<T>): Promise<T> => {
    const before = await server.sqlCount();
    const out = await run();
    const after = await server.sqlCount();
    if (round >= warmup) {
      (statements[name] ??= []).push((after.statements - before.statements) / changes);
      (clockHeld[name] ??= []).push(...after.clockHeldMs.slice(before.clockHeldMs.length));
    }
    return out;
  };
  return { count, statements, clockHeld };
}
