import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/server/storage/openStorage.ts';
import type { Storage } from '../../src/server/storage/Storage.ts';
import { startPgBouncer, type RunningPgBouncer } from '../support/pgbouncer.ts';
import { serverTests } from './serverTests.ts';
import { POSTGRES_URL, postgresTarget } from './support.ts';

/**
 * The whole server suite once more, through PgBouncer in transaction pooling mode: a server
 * connection may change between any two transactions, so nothing may rest on session state.
 */
let bouncer: RunningPgBouncer;
beforeAll(async () => {
  bouncer = await startPgBouncer({ target: POSTGRES_URL, poolSize: 8 });
});
afterAll(async () => {
  await bouncer.stop();
});

describe('storage through PgBouncer', () => {
  it('keeps each schema apart although server connections are shared between transactions', async () => {
    const a = await openStorage({ url: bouncer.url, schemaName: `sfb_iso_a_${process.pid}`, pooled: true, poolSize: 3 });
    const b = await openStorage({ url: bouncer.url, schemaName: `sfb_iso_b_${process.pid}`, pooled: true, poolSize: 3 });
    try {
      await Promise.all([
        ...Array.from({ length: 20 }, (_, i) => a.query(`INSERT INTO sf_users (id, token_hash) VALUES ($1, $2)`, [`a${i}`, `ha${i}`])),
        ...Array.from({ length: 20 }, (_, i) => b.transaction((tx) => tx.query(`INSERT INTO sf_users (id, token_hash) VALUES ($1, $2)`, [`b${i}`, `hb${i}`]))),
      ]);
      const ids = async (s: Storage) => (await s.query<{ id: string }>('SELECT id FROM sf_users ORDER BY id')).rows.map((r) => r.id);
      expect((await ids(a)).every((id) => id.startsWith('a'))).toBe(true);
      expect((await ids(b)).every((id) => id.startsWith('b'))).toBe(true);
      expect((await ids(a)).length).toBe(20);
    } finally {
      for (const s of [a, b]) {
        await s.query(`DROP SCHEMA ${s.schemaName} CASCADE`);
        await s.close();
      }
    }
  });

  it('refuses the pooled option and a pool size without a PostgreSQL URL', async () => {
    await expect(openStorage({ pooled: true })).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(openStorage({ url: bouncer.url, poolSize: 0 })).rejects.toMatchObject({ code: 'validation_failed' });
  });
});

serverTests(
  postgresTarget({ name: 'PostgreSQL through PgBouncer (transaction pooling)', url: () => bouncer.url, pooled: true, poolSize: 4 }),
);
