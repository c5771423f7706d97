/**
 * What the tests of the batch handlers (batchHandlers.ts, afterCommitBatch.ts) share: servers
 * whose storage counts statements and transactions, the log of a batch handler's calls, and the
 * differential test that applies generated batches by both upload paths from the same state.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncServerOptions } from '../../src/server/createSyncServer.ts';
import type { SyncObject } from '../../src/model/values.ts';
import type { Handlers } from '../../src/server/handlers.ts';
import { countingStorage, type StatementCount } from '../../src/server/storage/countingStorage.ts';
import { fuzzParameters } from '../support/fuzz.ts';
import { newWorld, seededChanges, statuses, storedRows, type GeneratedBatch, type World } from './generatedBatches.ts';
import { change, startTestServer, uuid, type Reply, type StorageTarget, type TestServer } from './support.ts';

/** What a batch handler was called with: the kinds of each call's items, in call order. */
export type CallLog = Array<{ entity: string; kinds: string[] }>;

export type UploadPath = NonNullable<SyncServerOptions['uploadPath']>;

/** A demo server whose storage counts statements and transactions; `cost` measures one run. */
export interface CountedServer {
  server: TestServer;
  count: StatementCount;
  cost<T>(run: () => Promise<T>): Promise<{ result: T; statements: number; transactions: number }>;
}

/** A demo server with `handlers` (and any other `options`) over a counting storage of `target`. */
export async function countedServer(target: StorageTarget, handlers: Handlers, uploadPath: UploadPath = 'auto', options: Partial<SyncServerOptions> = {}): Promise<CountedServer> {
  const counted = countingStorage(await target.open());
  const server = await startTestServer(counted.storage, { ...options, handlers, uploadPath });
  const cost = async <T>(run: () => Promise<T>): Promise<{ result: T; statements: number; transactions: number }> => {
    const before = { ...counted.count };
    const result = await run();
    return { result, statements: counted.count.statements - before.statements, transactions: counted.count.transactions - before.transactions };
  };
  return { server, count: counted.count, cost };
}

/** `n` task creates in `project`, titled by `title`. */
export const tasksOf = (n: number, project: string | null, title = (i: number) => `task ${i} of the batch`) =>
  Array.from({ length: n }, (_, i) => change('create', 'Task', uuid(), { title: title(i), project }));

/**
 * alice creates the projects Keep and Drop (`afterCreates` may check the log then), and deletes
 * both in one upload, on a server whose Project batch handler logs its calls in `log` and refuses
 * the delete of Keep: one call per delete, with its item alone; Keep stays, Drop is gone.
 */
export async function expectOneCallPerDelete(t: CountedServer, log: CallLog, afterCreates?: () => void): Promise<void> {
  const [keep, drop] = [uuid(), uuid()];
  await t.server.alice.upload([change('create', 'Project', keep, { name: 'Keep' }), change('create', 'Project', drop, { name: 'Drop' })]);
  afterCreates?.();
  log.length = 0;
  const r = await t.server.alice.upload([change('delete', 'Project', keep), change('delete', 'Project', drop)]);
  expect(statuses(r)).toEqual(['rejected: Keep stays', 'applied']);
  expect(log).toEqual([
    { entity: 'Project', kinds: ['delete'] },
    { entity: 'Project', kinds: ['delete'] },
  ]);
  expect((await t.server.alice.fetch('Project', [keep, drop])).body.objects.map((o: SyncObject) => o.id)).toEqual([keep]);
}

/**
 * Generated `batches`, applied by a server with `handlers` and one that goes change by change,
 * each from the same seeded world: the same outcome per change (and whatever `alsoAlike` checks)
 * and the same stored rows. The handlers see the current case's world; `log` records the calls
 * of the set-based server's, so that both ways are seen exercised with calls of several items:
 * kept set-based (one transaction), and handed over.
 */
export function againstChangeByChange(
  target: StorageTarget,
  o: {
    handlers: (world: { current: World | null }, log: CallLog) => Handlers;
    batches: fc.Arbitrary<GeneratedBatch>;
    options?: Partial<SyncServerOptions>;
    alsoAlike?: (fast: Reply, inOrder: Reply) => void;
  },
): void {
  describe('against the change-by-change path', () => {
    let fast: CountedServer;
    let inOrder: CountedServer;
    const world: { current: World | null } = { current: null };
    const fastLog: CallLog = [];
    beforeAll(async () => {
      fast = await countedServer(target, o.handlers(world, fastLog), 'auto', o.options);
      inOrder = await countedServer(target, o.handlers(world, []), 'inOrder', o.options);
    });
    afterAll(async () => {
      await fast?.server.close();
      await inOrder?.server.close();
    });

    it('gives exactly its results for generated batches', async () => {
      const seen = { setBased: 0, fallback: 0 };
      await fc.assert(
        fc.asyncProperty(o.batches, async (plan) => {
          const ids = newWorld(8);
          world.current = ids;
          const changes = await seededChanges(ids, [fast.server, inOrder.server], plan);
          fastLog.length = 0;
          const a = await fast.cost(() => fast.server[plan.user].upload(changes));
          const b = await inOrder.server[plan.user].upload(changes);
          expect(a.result.status).toBe(200);
          expect(b.status).toBe(200);
          expect(statuses(a.result)).toEqual(statuses(b));
          o.alsoAlike?.(a.result, b);
          expect(await storedRows(fast.server, ids)).toEqual(await storedRows(inOrder.server, ids));
          if (fastLog.some((c) => c.kinds.length > 1)) seen[a.transactions === 1 ? 'setBased' : 'fallback']++;
        }),
        fuzzParameters({ runs: 40, soakRuns: 1000 }),
      );
      // Both ways were exercised with calls of several items: kept set-based, and handed over.
      expect(seen.setBased).toBeGreaterThan(0);
      expect(seen.fallback).toBeGreaterThan(0);
    });
  });
}
