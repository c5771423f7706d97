/**
 * GET /api/failures in pages over real HTTP, on PGlite and PostgreSQL: 2,500 failures come back
 * complete, in order, none twice, whatever the page size; forged cursors and limits are a 400;
 * SyncClient.failures fetches every page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncClient } from '../../src/transport/SyncClient.ts';
import { MAX_FAILURES_PAGE } from '../../src/transport/wire.ts';
import { change, pgliteTarget, postgresTarget, startTestServer, uuid, type ApiClient, type StorageTarget, type TestServer } from './support.ts';

const TOTAL = 2_500;

for (const target of [pgliteTarget(), postgresTarget()] as StorageTarget[]) {
  describe(`failures paging on ${target.name}`, () => {
    let t: TestServer;
    let recorded: string[];
    beforeAll(async () => {
      t = await startTestServer(await target.open());
      // Every change of an upload shares one createdDate: pages must split them by their order of record.
      recorded = [];
      for (let done = 0; done < TOTAL; done += 1_000) {
        const changes = Array.from({ length: Math.min(1_000, TOTAL - done) }, (_, i) =>
          change('create', 'Task', uuid(), { title: `forbidden ${done + i}` }),
        );
        const r = await t.alice.upload(changes);
        expect(r.status).toBe(200);
        recorded.push(...r.body.results.map((x: any) => x.failure.id));
      }
      await t.bob.upload([change('create', 'Task', uuid(), { title: 'forbidden for bob' })]);
    }, 300_000);
    afterAll(async () => {
      await t?.close();
      await target.cleanup();
    });

    const pages = async (who: ApiClient, query: string, from: string | null = null) => {
      const out: any[] = [];
      const sizes: number[] = [];
      let cursor: string | null = from;
      do {
        const r: any = await who.call('GET', `/api/failures?${query}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(r.status, r.text).toBe(200);
        out.push(...r.body.failures);
        sizes.push(r.body.failures.length);
        cursor = r.body.nextCursor;
      } while (cursor);
      return { failures: out, sizes };
    };

    it('answers every failure once, oldest first, in pages of the asked size', async () => {
      const { failures, sizes } = await pages(t.alice, 'status=open&limit=300');
      expect(sizes).toEqual([300, 300, 300, 300, 300, 300, 300, 300, 100]);
      expect(failures.map((f) => f.id)).toEqual(recorded);
      expect(new Set(failures.map((f) => f.id)).size).toBe(TOTAL);
      expect(failures.every((f) => f.user === 'alice')).toBe(true);
    });

    it('pages by 500 by default and at most by 1,000', async () => {
      const first = await t.alice.call('GET', '/api/failures');
      expect(first.body.failures).toHaveLength(500);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const { sizes } = await pages(t.alice, `limit=${MAX_FAILURES_PAGE}`);
      expect(sizes).toEqual([1_000, 1_000, 500]);
      const over = await t.alice.call('GET', `/api/failures?limit=${MAX_FAILURES_PAGE + 1}`);
      expect(over.status).toBe(400);
      expect(over.body.error.problems[0].path).toBe('query.limit');
    });

    it('neither skips nor repeats a failure when others leave the list between pages', async () => {
      const first = await t.alice.call('GET', '/api/failures?limit=700');
      // Dismiss some failures on the first page and some ahead: those ahead must not come back.
      const dismissed = [recorded[10], recorded[699], recorded[700], recorded[1_500]];
      for (const id of dismissed) expect((await t.alice.dismiss(id)).status).toBe(200);
      const rest = await pages(t.alice, 'limit=700', first.body.nextCursor);
      const seen = [...first.body.failures.map((f: any) => f.id), ...rest.failures.map((f) => f.id)];
      expect(seen).toEqual(recorded.filter((id) => id !== recorded[700] && id !== recorded[1_500]));
      const gone = await pages(t.alice, 'status=dismissed&limit=3');
      expect(gone.failures.map((f) => f.id)).toEqual(dismissed);
    });

    it('refuses forged cursors and limits with a 400 naming the field', async () => {
      const real = (await t.alice.call('GET', '/api/failures?limit=1')).body.nextCursor as string;
      const download = (await t.alice.call('POST', '/api/download', { entity: 'Task', limit: 1 })).body.cursor as string;
      const b64 = (s: string) => Buffer.from(s).toString('base64url');
      const forged = [
        'not-a-cursor!',
        'x'.repeat(300),
        download,
        real.slice(0, -2),
        b64('f1|2025-02-30T10:00:00.000000Z|1'),
        b64('f1|2025-01-01T10:00:00.000000Z|-1'),
        b64("f1|2025-01-01T10:00:00.000000Z|1' OR '1'='1"),
        b64('f1|2025-01-01T10:00:00.000000Z|99999999999999999999'),
        b64('f2|2025-01-01T10:00:00.000000Z|1'),
      ];
      for (const cursor of forged) {
        const r = await t.alice.call('GET', `/api/failures?cursor=${encodeURIComponent(cursor)}`);
        expect(r.status, cursor).toBe(400);
        expect(r.body.error.problems[0].path).toBe('query.cursor');
      }
      for (const limit of ['0', '-1', '1.5', 'ten', '', '99999999']) {
        const r = await t.alice.call('GET', `/api/failures?limit=${limit}`);
        expect(r.status, limit).toBe(400);
        expect(r.body.error.problems[0].path).toBe('query.limit');
      }
    });

    it("never shows another user's failures, whatever cursor they pass", async () => {
      const real = (await t.alice.call('GET', '/api/failures?limit=5')).body.nextCursor;
      const bob = await t.bob.call('GET', `/api/failures?cursor=${real}`);
      expect(bob.status).toBe(200);
      expect(bob.body.failures.every((f: any) => f.user === 'bob')).toBe(true);
    });

    it('lets SyncClient.failures fetch every page', async () => {
      const client = new SyncClient({ baseUrl: t.url, token: 'alice-token', deviceId: 'alice-phone' });
      const all = await client.failures('open');
      expect(all.failures).toHaveLength(TOTAL - 4);
      expect(new Set(all.failures.map((f) => f.id)).size).toBe(TOTAL - 4);
      expect(all.nextCursor).toBeNull();
      const page = await client.failuresPage({ status: 'dismissed', limit: 2 });
      expect(page.failures).toHaveLength(2);
      expect((await client.failuresPage({ status: 'dismissed', limit: 2, cursor: page.nextCursor })).nextCursor).toBeNull();
    });
  });
}
