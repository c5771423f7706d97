import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countingStorage, type StatementCount } from '../../src/server/storage/countingStorage.ts';
import { fuzzParameters } from '../support/fuzz.ts';
import { newWorld, objectRef, seededChanges, statuses, storedRows, worldBatches } from './generatedBatches.ts';
import { change, startTestServer, uuid, type StorageTarget, type TestServer } from './support.ts';

/**
 * The write path's two ways of applying an upload (issue 12): set-based for a whole batch
 * (uploadBatch.ts) and change by change (uploadInOrder.ts). Run on every storage target.
 */
export function uploadPathTests(target: StorageTarget): void {
  describe(`upload paths on ${target.name}`, () => {
    let fast: TestServer;
    let inOrder: TestServer;
    let count: StatementCount;
    beforeAll(async () => {
      const counted = countingStorage(await target.open());
      count = counted.count;
      fast = await startTestServer(counted.storage);
      inOrder = await startTestServer(await target.open(), { uploadPath: 'inOrder' });
    });
    afterAll(async () => {
      await fast?.close();
      await inOrder?.close();
      await target.cleanup();
    });

    const statementsFor = async (run: () => Promise<unknown>) => {
      const before = count.statements;
      await run();
      return count.statements - before;
    };
    const tasks = (n: number, project: string | null = null) =>
      Array.from({ length: n }, (_, i) => change('create', 'Task', uuid(), { title: `task number ${i} of the batch`, project }));

    it('writes a batch of creates or updates with the same few statements whatever its size', async () => {
      const project = uuid();
      await fast.alice.upload([change('create', 'Project', project, { name: 'Batch' })]);
      const small = tasks(50, project);
      const large = tasks(500, project);
      const smallCost = await statementsFor(() => fast.alice.upload(small));
      const largeCost = await statementsFor(async () => {
        const r = await fast.alice.upload(large);
        expect(r.body.results.every((x: any) => x.status === 'applied')).toBe(true);
        // the before-commit handler ran on each (words), the object comes back as stored
        expect(r.body.results[499].object).toMatchObject({ id: large[499].id, words: 6, project, owner: 'alice' });
      });
      expect(largeCost).toBe(smallCost);
      expect(largeCost).toBeLessThanOrEqual(12);

      const updates = large.map((c, i) => change('update', 'Task', c.id, { title: `renamed ${i}` }));
      const updateCost = await statementsFor(async () => {
        const r = await fast.alice.upload(updates);
        expect(r.body.results.every((x: any) => x.status === 'applied' && x.object.words === 2)).toBe(true);
      });
      expect(updateCost).toBeLessThanOrEqual(12);
      expect((await fast.alice.fetch('Task', [large[7].id])).body.objects[0]).toMatchObject({ title: 'renamed 7', words: 2 });
    });

    it('answers a repeated batch from the stored results and writes nothing', async () => {
      const batch = tasks(20);
      const first = await fast.alice.upload(batch);
      const counts = await fast.counts();
      const again = await fast.alice.upload(batch);
      expect(again.body).toEqual(first.body);
      expect(await fast.counts()).toEqual(counts);
    });

    it('keeps only refusals in the claims, and answers an applied change again with its object as it is now', async () => {
      const [kept, renamed, gone] = tasks(3);
      const refused = change('create', 'Task', uuid(), { title: 'a forbidden title' });
      const batch = [kept, renamed, gone, refused];
      for (const server of [fast, inOrder]) {
        const copy = batch.map((c) => ({ ...c, changeId: uuid() }));
        const first = await server.alice.upload(copy);
        expect(first.body.results.map((r: any) => r.status)).toEqual(['applied', 'applied', 'applied', 'failed']);
        // An applied change's claim keeps no copy of the object (the set-based path's largest write).
        const { rows: claims } = await server.storage.query<{ change_id: string; result: unknown }>(
          `SELECT change_id, result FROM sf_applied WHERE user_id = 'alice' AND change_id = ANY($1::text[])`,
          [copy.map((c) => c.changeId)],
        );
        const stored = new Map(claims.map((r) => [r.change_id, r.result]));
        expect(copy.map((c) => stored.get(c.changeId))).toEqual([null, null, null, first.body.results[3]]);

        await server.alice.upload([change('update', 'Task', copy[1].id, { title: 'renamed since' })]);
        await server.alice.upload([change('delete', 'Task', copy[2].id)]);
        const counts = await server.counts();
        const again = await server.alice.upload(copy);
        expect(await server.counts()).toEqual(counts); // nothing applied twice, no second failure
        const now = (await server.alice.fetch('Task', [copy[0].id, copy[1].id])).body.objects;
        expect(again.body.results).toEqual([
          first.body.results[0], // unchanged since
          { changeId: copy[1].changeId, status: 'applied', object: now.find((o: any) => o.id === copy[1].id) },
          { changeId: copy[2].changeId, status: 'applied', object: null }, // deleted since
          first.body.results[3],
        ]);
        expect(again.body.results[1].object).toMatchObject({ title: 'renamed since', words: 2 });
        // Another user sending the same change ids gets nothing of alice's: the claims are per user.
        const bob = await server.bob.upload([{ ...copy[0], id: uuid() }]);
        expect(bob.body.results[0]).toMatchObject({ status: 'applied', object: { owner: 'bob' } });
      }
    });

    it("answers each object as the upload commits it, though a later change's handler or delete wrote it after its own change", async () => {
      for (const server of [fast, inOrder]) {
        // A later change's afterCommit handler: a new task revives its archived project (the demo's handlers).
        const project = uuid();
        await server.alice.upload([change('create', 'Project', project, { name: 'revived later' })]);
        const r = await server.alice.upload([change('update', 'Project', project, { archived: true }), change('create', 'Task', uuid(), { title: 'revives it', project })]);
        expect(r.body.results.map((x: any) => x.status)).toEqual(['applied', 'applied']);
        const [stored] = (await server.alice.fetch('Project', [project])).body.objects;
        expect(stored.archived).toBe(false);
        expect(r.body.results[0].object).toEqual(stored);

        // A later delete clears the reference an earlier-answered object holds.
        const target = uuid();
        const task = uuid();
        await server.alice.upload([change('create', 'Project', target, { name: 'deleted later' }), change('create', 'Task', task, { title: 'refers to it', project: target })]);
        const d = await server.alice.upload([change('update', 'Task', task, { title: 'renamed before the delete' }), change('delete', 'Project', target)]);
        expect(d.body.results.map((x: any) => x.status)).toEqual(['applied', 'applied']);
        const [now] = (await server.alice.fetch('Task', [task])).body.objects;
        expect(now).toMatchObject({ title: 'renamed before the delete', project: null });
        expect(d.body.results[0].object).toEqual(now);
      }
    });

    it('names the other objects an upload wrote (handlers, cleared references) in written, never its own', async () => {
      for (const server of [fast, inOrder]) {
        const project = uuid();
        const task = uuid();
        await server.alice.upload([change('create', 'Project', project, { name: 'archived', archived: true })]);
        // The task's afterCommit revives the project: written. The task itself is answered, not listed.
        const r = await server.alice.upload([change('create', 'Task', task, { title: 'revives', project })]);
        expect(r.body.written).toEqual([{ entity: 'Project', id: project }]);
        // Nothing written besides the upload's own objects: no written at all.
        const plain = await server.alice.upload([change('update', 'Task', task, { title: 'renamed' })]);
        expect(plain.body).not.toHaveProperty('written');
        // A delete clears the references of tasks not in the upload: alice's task is named; bob's
        // private task (alice may not read it) is cleared too, but its id is not alice's business.
        const bobs = uuid();
        expect((await server.bob.upload([change('create', 'Task', bobs, { title: 'private, in alice project', project })])).body.results[0].status).toBe('applied');
        const del = await server.alice.upload([change('delete', 'Project', project)]);
        expect(del.body.written).toEqual([{ entity: 'Task', id: task }]);
        expect((await server.bob.fetch('Task', [bobs])).body.objects[0]).toMatchObject({ project: null });
        // A repeated upload writes nothing.
        expect((await server.alice.upload(r.body.results.map((x: any) => change('create', 'Task', task, { title: 'revives', project }, x.changeId)))).body).not.toHaveProperty('written');
      }
    });

    it('takes the change-by-change path when a handler refuses after writing, keeping nothing of the refused change', async () => {
      const refusing = await startTestServer(await target.open(), {
        handlers: {
          Task: {
            async beforeCommit(task, ctx) {
              if (task.title === 'write then refuse') {
                await ctx.create('Project', { name: 'written by the handler' });
                ctx.reject('refused after writing');
              }
            },
          },
        },
      });
      try {
        const ok = change('create', 'Task', uuid(), { title: 'fine' });
        const bad = change('create', 'Task', uuid(), { title: 'write then refuse' });
        const r = await refusing.alice.upload([ok, bad]);
        expect(r.body.results.map((x: any) => x.status)).toEqual(['applied', 'failed']);
        expect(r.body.results[1].failure).toMatchObject({ reason: 'rejected', message: 'refused after writing' });
        const projects = await refusing.alice.all('Project');
        expect(projects.filter((p) => p.name === 'written by the handler')).toEqual([]);
      } finally {
        await refusing.close();
      }
    });

    // Generated batches over a small world, applied by both paths from the same state: the same
    // outcome per change, the same stored rows, the same failures.
    it('gives exactly the results of the change-by-change path for generated batches', async () => {
      await fc.assert(
        fc.asyncProperty(batches, async (plan) => {
          const ids = newWorld();
          const changes = await seededChanges(ids, [fast, inOrder], plan);
          const [a, b] = [await fast[plan.user].upload(changes), await inOrder[plan.user].upload(changes)];
          expect(a.status).toBe(200);
          expect(b.status).toBe(200);
          expect(statuses(a)).toEqual(statuses(b));
          expect(await storedRows(fast, ids)).toEqual(await storedRows(inOrder, ids));
        }),
        fuzzParameters({ runs: 30, soakRuns: 1000 }),
      );
    });
  });
}

const title = fc.constantFrom('plan the week', 'a forbidden title', '', 'x'.repeat(501), 'one two three');
const taskData = fc.record(
  { title, done: fc.boolean(), project: fc.option(objectRef, { nil: undefined }), priority: fc.constantFrom('low', 'high', 'urgent') },
  { requiredKeys: [] },
);
const projectData = fc.record({ name: fc.constantFrom('P', '', 'Renamed'), archived: fc.boolean() }, { requiredKeys: [] });
const batches = worldBatches(taskData, projectData);
