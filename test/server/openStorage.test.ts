import { describe, expect, it } from 'vitest';
import { openStorage } from '../../src/server/storage/openStorage.ts';
import { POSTGRES_URL } from './support.ts';

describe('openStorage', () => {
  it('refuses a URL that is not PostgreSQL and an unsafe schema name', async () => {
    await expect(openStorage({ url: 'mysql://localhost/x' })).rejects.toMatchObject({ code: 'validation_failed', problems: [{ path: 'url' }] });
    await expect(openStorage({ url: POSTGRES_URL, schemaName: 'Robert"; DROP' })).rejects.toMatchObject({ problems: [{ path: 'schemaName' }] });
  });

  it('keeps the schema of a PostgreSQL view on every pooled connection', async () => {
    const name = `sfo_${process.pid}_${Date.now().toString(36)}`;
    const storage = await openStorage({ url: POSTGRES_URL, schemaName: name });
    try {
      const schemas = await Promise.all(
        Array.from({ length: 12 }, () => storage.transaction(async (tx) => (await tx.query<{ s: string }>('SELECT current_schema() AS s')).rows[0].s)),
      );
      expect(new Set(schemas)).toEqual(new Set([name]));
      await expect(storage.transaction(async (tx) => {
        await tx.query("INSERT INTO sf_users (id, token_hash) VALUES ('x', 'h')");
        throw new Error('roll me back');
      })).rejects.toThrow('roll me back');
      expect((await storage.query('SELECT * FROM sf_users')).rows).toEqual([]);
    } finally {
      await storage.query(`DROP SCHEMA ${name} CASCADE`);
      await storage.close();
    }
  });
});
