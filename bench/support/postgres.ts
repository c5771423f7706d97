import pg from 'pg';

/** The machine's PostgreSQL (trust auth), as the tests use it; override with SYNCFLOW_BENCH_DATABASE_URL. */
export const BENCH_DATABASE_URL =
  process.env.SYNCFLOW_BENCH_DATABASE_URL ?? process.env.SYNCFLOW_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const PREFIX = 'sfbench_';

/**
 * A SQL schema of its own for one benchmark run, on the shared database: `sfbench_<pid>_<name>`.
 * The server process creates its tables (openStorage migrates); `drop()` removes everything.
 * Schemas left behind by a bench process that died are dropped when the next one starts.
 */
export interface BenchSchema {
  name: string;
  /** A pool whose connections have `search_path` set to the schema. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

export async function createBenchSchema(label: string): Promise<BenchSchema> {
  await dropStaleSchemas();
  const name = `${PREFIX}${process.pid}_${label}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);
  const admin = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    await admin.query(`CREATE SCHEMA ${name}`);
  } finally {
    await admin.end();
  }
  const pool = new pg.Pool({ connectionString: BENCH_DATABASE_URL, options: `-c search_path=${name}`, max: 4 });
  pool.on('error', () => {});
  // One drop, whoever asks first (Ctrl-C's cleanup, or the bench's finally while it runs): the
  // others wait for it, so the process cannot exit half-way.
  let dropping: Promise<void> | null = null;
  const drop = () => (dropping ??= dropSchema());
  const dropSchema = async () => {
    await pool.end().catch(() => {});
    const c = new pg.Client({ connectionString: BENCH_DATABASE_URL });
    await c.connect();
    try {
      await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    } finally {
      await c.end();
    }
  };
  onExit(drop);
  return { name, pool, drop };
}

/** Drops `sfbench_<pid>_*` schemas whose process no longer runs. */
async function dropStaleSchemas(): Promise<void> {
  const c = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await c.connect();
  try {
    const { rows } = await c.query<{ name: string }>(`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1`, [`${PREFIX}%`]);
    for (const { name } of rows) {
      const pid = Number.parseInt(name.slice(PREFIX.length), 10);
      if (pid === process.pid || isAlive(pid)) continue;
      await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    }
  } finally {
    await c.end();
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isFinite(pid)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The PostgreSQL server's version string (for the machine info). */
export async function postgresVersion(): Promise<string> {
  const c = new pg.Client({ connectionString: BENCH_DATABASE_URL });
  await c.connect();
  try {
    const { rows } = await c.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return rows[0].v;
  } finally {
    await c.end();
  }
}

// Cleanups to run when the process is interrupted (Ctrl-C): drop schemas, stop child processes.
const cleanups: Array<() => Promise<unknown>> = [];
let hooked = false;

/** Registers a cleanup for SIGINT / SIGTERM (normal runs call their cleanups themselves). */
export function onExit(cleanup: () => Promise<unknown>): void {
  cleanups.push(cleanup);
  if (hooked) return;
  hooked = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      console.error(`\n${signal}: cleaning up…`);
      for (const c of cleanups.reverse()) await c().catch(() => {});
      process.exit(130);
    });
  }
}
