import { createHash } from 'node:crypto';
import type { Schema } from '../model/schema.ts';
import { sqlLiteral } from './SqlParams.ts';
import { MIGRATION_LOCK } from './storage/migrate.ts';
import type { Storage } from './storage/Storage.ts';

/**
 * One partial expression index per association, so that deleting an object finds the objects
 * referring to it without scanning their entity. Idempotent; processes starting together take turns.
 */
export async function ensureReferenceIndexes(storage: Storage, schema: Schema): Promise<void> {
  const wanted: string[] = [];
  for (const def of Object.values(schema.entities)) {
    for (const association of Object.keys(def.associations)) {
      const name = `sf_ref_${createHash('sha256').update(`${def.name}.${association}`).digest('hex').slice(0, 20)}`;
      wanted.push(
        `CREATE INDEX IF NOT EXISTS ${name} ON sf_objects ((data->>${sqlLiteral(association)})) WHERE entity = ${sqlLiteral(def.name)}`,
      );
    }
  }
  if (!wanted.length) return;
  await storage.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    for (const statement of wanted) await tx.query(statement);
  });
}
