import type { Storage } from './Storage.ts';

/** Key of the advisory lock that serializes migrations of every syncflow schema in a database. */
export const MIGRATION_LOCK = 7_310_512_097;

/**
 * Schema versions, applied in order, each once. Statements use `{s}` for the schema name:
 * migrations qualify names explicitly, because a search_path naming a schema that did not
 * exist when the connection started is not something to rely on.
 */
const MIGRATIONS: ReadonlyArray<readonly string[]> = [
  [
    `CREATE TABLE IF NOT EXISTS {s}.sf_objects (
       entity text NOT NULL,
       id uuid NOT NULL,
       owner text NOT NULL,
       created_date timestamptz NOT NULL,
       changed_date timestamptz NOT NULL,
       data jsonb NOT NULL DEFAULT '{}'::jsonb,
       PRIMARY KEY (entity, id))`,
    // The download order and cursor: (changed_date, id) within an entity.
    `CREATE INDEX IF NOT EXISTS sf_objects_changed ON {s}.sf_objects (entity, changed_date, id)`,
    // Tombstones: tell "deleted on the server" from "never existed / not accessible".
    `CREATE TABLE IF NOT EXISTS {s}.sf_deleted (
       entity text NOT NULL,
       id uuid NOT NULL,
       owner text NOT NULL,
       created_date timestamptz NOT NULL,
       changed_date timestamptz NOT NULL,
       data jsonb NOT NULL,
       PRIMARY KEY (entity, id))`,
    `CREATE TABLE IF NOT EXISTS {s}.sf_files (
       entity text NOT NULL,
       id uuid NOT NULL,
       content bytea NOT NULL,
       content_type text NOT NULL,
       size bigint NOT NULL,
       PRIMARY KEY (entity, id))`,
    `CREATE TABLE IF NOT EXISTS {s}.sf_users (
       id text PRIMARY KEY,
       token_hash text NOT NULL UNIQUE,
       roles text[] NOT NULL DEFAULT '{}')`,
    `CREATE TABLE IF NOT EXISTS {s}.sf_applied (
       user_id text NOT NULL,
       change_id text NOT NULL,
       result jsonb NOT NULL,
       applied_date timestamptz NOT NULL,
       PRIMARY KEY (user_id, change_id))`,
    `CREATE TABLE IF NOT EXISTS {s}.sf_failures (
       id uuid PRIMARY KEY,
       seq bigint GENERATED ALWAYS AS IDENTITY,
       user_id text NOT NULL,
       device text NOT NULL,
       entity text NOT NULL,
       object_id uuid NOT NULL,
       change_id text NOT NULL,
       kind text NOT NULL,
       data jsonb NOT NULL,
       reason text NOT NULL,
       message text NOT NULL,
       status text NOT NULL DEFAULT 'open',
       created_date timestamptz NOT NULL,
       resolved_date timestamptz,
       result jsonb)`,
    `CREATE INDEX IF NOT EXISTS sf_failures_user ON {s}.sf_failures (user_id, status, created_date, seq)`,
    // One row; its lock serializes writers so that commit order equals changedDate order.
    `CREATE TABLE IF NOT EXISTS {s}.sf_clock (
       one boolean PRIMARY KEY DEFAULT true CHECK (one),
       t timestamptz NOT NULL)`,
    `INSERT INTO {s}.sf_clock (one, t) VALUES (true, 'epoch') ON CONFLICT (one) DO NOTHING`,
  ],
  [
    // Every bearer token: issued ones (syncflow token issue) and configured ones (the app's users list, no
    // expiry). Only the sha256 of a token is kept; a revocation is a row update every process sees at once.
    `CREATE TABLE IF NOT EXISTS {s}.sf_tokens (
       id uuid PRIMARY KEY,
       token_hash text NOT NULL UNIQUE,
       user_id text NOT NULL REFERENCES {s}.sf_users (id) ON DELETE CASCADE,
       source text NOT NULL CHECK (source IN ('configured', 'issued')),
       created_date timestamptz NOT NULL DEFAULT now(),
       expires_date timestamptz,
       revoked_date timestamptz)`,
    `CREATE INDEX IF NOT EXISTS sf_tokens_user ON {s}.sf_tokens (user_id, created_date)`,
    // The tokens configured before this table existed stay valid.
    `INSERT INTO {s}.sf_tokens (id, token_hash, user_id, source)
       SELECT gen_random_uuid(), u.token_hash, u.id, 'configured' FROM {s}.sf_users u
       ON CONFLICT (token_hash) DO NOTHING`,
    // Failed sign-ins per client address in a fixed window (shared by every server process).
    `CREATE TABLE IF NOT EXISTS {s}.sf_signin_failures (
       address text PRIMARY KEY,
       window_start timestamptz NOT NULL,
       failures integer NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS sf_signin_failures_window ON {s}.sf_signin_failures (window_start)`,
  ],
  [
    // Resumable file uploads (docs/protocol.md, "Resumable file uploads"): a session per upload id,
    // its chunks staged apart from sf_files until the last one arrives and they are swapped in at once.
    `CREATE TABLE IF NOT EXISTS {s}.sf_file_uploads (
       upload_id uuid PRIMARY KEY,
       user_id text NOT NULL,
       entity text NOT NULL,
       id uuid NOT NULL,
       content_type text NOT NULL,
       size bigint NOT NULL,
       received bigint NOT NULL DEFAULT 0,
       completed boolean NOT NULL DEFAULT false,
       created_date timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS {s}.sf_file_chunks (
       upload_id uuid NOT NULL REFERENCES {s}.sf_file_uploads (upload_id) ON DELETE CASCADE,
       start bigint NOT NULL,
       data bytea NOT NULL,
       PRIMARY KEY (upload_id, start))`,
  ],
  [
    // The other objects a change's handlers (or its delete's cascades) touched, so that a replay
    // (its answer lost) names them again: null when there were none (see OthersByChange).
    `ALTER TABLE {s}.sf_applied ADD COLUMN IF NOT EXISTS others jsonb`,
  ],
];

/**
 * Creates the schema and its tables, idempotently. Several processes may start at once:
 * a transaction-scoped advisory lock makes them take turns.
 */
export async function migrate(storage: Storage): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(storage);
    } catch (e) {
      // `CREATE ... IF NOT EXISTS` is not safe against a concurrent create even under the lock
      // when the transaction's catalog snapshot predates the lock (a pooled connection sets
      // search_path, naming the schema, before it): the other process created it; go again.
      const state = (e as { code?: unknown })?.code;
      if (attempt >= 3 || !['23505', '42P06', '42P07'].includes(String(state))) throw e;
    }
  }
}

async function migrateOnce(storage: Storage): Promise<void> {
  const s = storage.schemaName;
  await storage.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.sf_migrations (version integer PRIMARY KEY, applied_date timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await tx.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.sf_migrations`);
    const done = rows[0]?.v ?? 0;
    for (let version = done + 1; version <= MIGRATIONS.length; version++) {
      for (const statement of MIGRATIONS[version - 1]) await tx.query(statement.replaceAll('{s}', s));
      await tx.query(`INSERT INTO ${s}.sf_migrations (version) VALUES ($1)`, [version]);
    }
  });
}
