import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countingStorage, type StatementCount } from '../../src/server/storage/countingStorage.ts';
import { fuzzParameters } from '../support/fuzz.ts';
import { changeTemplate, newWorld, objectRef, seedWorld, shaped, statuses, type Pick } from './generatedBatches.ts';
import { change, startTestServer, uuid, type StorageTarget, type TestServer } from './support.ts';
import { byKey, commandHandlers, ref } from './uploadDeleted.ts';

/** The command handlers of uploadDeleted.ts (remove, early, bump, replace, refuse), refusing 'refused after writing'. */
export const replayHandlers = commandHandlers('refused after writing');

/**
 * A replayed upload (its answer lost, the same change ids sent again) names the other objects its
 * changes wrote or deleted, as they are now, from the refs their claims kept (sf_applied.others).
 * Run on every storage target.
 */
export function replayOthersTests(target: StorageTarget): void {
  describe(`other objects named by a replayed upload on ${target.name}`, () => {
    let fast: TestServer;
    let inOrder: TestServer;
    /** With the demo's own handlers, their statements counted: a plain upload costs what it did. */
    let countedFast: TestServer;
    let countedInOrder: TestServer;
    let fastCount: StatementCount;
    let inOrderCount: StatementCount;
    beforeAll(async () => {
      fast = await startTestServer(await target.open(), { handlers: replayHandlers });
      inOrder = await startTestServer(await target.open(), { handlers: replayHandlers, uploadPath: 'inOrder' });
      const a = countingStorage(await target.open());
      const b = countingStorage(await target.open());
      fastCount = a.count;
      inOrderCount = b.count;
      countedFast = await startTestServer(a.storage);
      countedInOrder = await startTestServer(b.storage, { uploadPath: 'inOrder' });
    });
    afterAll(async () => {
      for (const s of [fast, inOrder, countedFast, countedInOrder]) await s?.close();
      await target.cleanup();
    });

    /** alice's project with a task of it that has an attachment, and another task. */
    const aliceData = async (server: TestServer) => {
      const ids = { project: uuid(), child: uuid(), attachment: uuid(), other: uuid() };
      const r = await server.alice.upload([
        change('create', 'Project', ids.project, { name: 'Apollo' }),
        change('create', 'Task', ids.child, { title: 'child', project: ids.project }),
        change('create', 'Attachment', ids.attachment, { name: 'notes.txt', task: ids.child }),
        change('create', 'Task', ids.other, { title: 'other' }),
      ]);
      expect(statuses(r)).toEqual(['applied', 'applied', 'applied', 'applied']);
      return ids;
    };
    const claims = async (server: TestServer, user: string, changeIds: string[]) => {
      const { rows } = await server.storage.query<{ change_id: string; others: unknown }>(
        `SELECT change_id, others FROM sf_applied WHERE user_id = $1 AND change_id = ANY($2::text[])`,
        [user, changeIds],
      );
      const byId = new Map(rows.map((r) => [r.change_id, r.others]));
      return changeIds.map((id) => byId.get(id));
    };

    it('names the child a handler deleted in deleted and the parent it updated in written, again on a replay after a lost answer', async () => {
      for (const server of [fast, inOrder]) {
        const ids = await aliceData(server);
        const batch = [change('update', 'Task', ids.other, { title: `remove:Task:${ids.child} bump:Project:${ids.project}` })];
        const first = await server.alice.upload(batch);
        expect(statuses(first)).toEqual(['applied']);
        expect(first.body.deleted).toEqual([ref('Attachment', ids.attachment), ref('Task', ids.child)]);
        expect(first.body.written).toEqual([ref('Project', ids.project)]);
        // The claim keeps the refs; a plain change's claim keeps none.
        const [kept] = await claims(server, 'alice', [batch[0].changeId]);
        expect((kept as string[][]).map(([e, id]) => ref(e, id)).sort(byKey)).toEqual(
          [ref('Attachment', ids.attachment), ref('Project', ids.project), ref('Task', ids.child)].sort(byKey),
        );
        const plain = change('update', 'Task', ids.other, { title: 'plain' });
        expect((await server.alice.upload([plain])).body).not.toHaveProperty('written');
        expect(await claims(server, 'alice', [plain.changeId])).toEqual([null]);

        // The first answer is lost: the device sends the same change ids again.
        const counts = await server.counts();
        const again = await server.alice.upload(batch);
        expect(again.status).toBe(200);
        expect(again.body.deleted).toEqual(first.body.deleted);
        expect(again.body.written).toEqual(first.body.written);
        expect(await server.counts()).toEqual(counts); // nothing applied twice

        // A replay with a new change: both named.
        const extra = uuid();
        await server.alice.upload([change('create', 'Task', extra, { title: 'extra' })]);
        const mixed = await server.alice.upload([...batch, change('create', 'Task', uuid(), { title: `remove:Task:${extra}` })]);
        expect(mixed.body.deleted).toEqual([ref('Attachment', ids.attachment), ref('Task', ids.child), ref('Task', extra)].sort(byKey));
        expect(mixed.body.written).toEqual([ref('Project', ids.project)]);
      }
    });

    it('names them as they are now: a parent deleted since in deleted, a task the user may no longer read not at all', async () => {
      for (const server of [fast, inOrder]) {
        const ids = await aliceData(server);
        const assigned = uuid();
        await server.bob.upload([change('create', 'Task', assigned, { title: 'bob, assigned to alice', assignee: 'alice' })]);
        const batch = [change('update', 'Task', ids.other, { title: `bump:Project:${ids.project} bump:Task:${assigned}` })];
        const first = await server.alice.upload(batch);
        expect(first.body.written).toEqual([ref('Project', ids.project), ref('Task', assigned)].sort(byKey));

        await server.bob.upload([change('update', 'Task', assigned, { assignee: null })]);
        await server.alice.upload([change('delete', 'Project', ids.project)]);
        const again = await server.alice.upload(batch);
        expect(statuses(again)).toEqual(['applied']);
        expect(again.body.deleted).toEqual([ref('Project', ids.project)]);
        expect(again.body).not.toHaveProperty('written');
      }
    });

    it("gives another user sending alice's change ids nothing of hers", async () => {
      for (const server of [fast, inOrder]) {
        const ids = await aliceData(server);
        const batch = [
          change('update', 'Task', ids.other, { title: `remove:Task:${ids.child}` }),
          change('create', 'Task', uuid(), { title: `bump:Project:${ids.project}` }),
        ];
        const first = await server.alice.upload(batch);
        expect(first.body.deleted).toHaveLength(2);
        expect(first.body.written).toEqual([ref('Project', ids.project)]);
        // bob sends her first change: his own claim; he may not change her task, so no handler runs.
        const bob = await server.bob.upload([batch[0]]);
        expect(statuses(bob)).toEqual([`inaccessible: Task ${ids.other} was not found or is not accessible`]);
        expect(bob.body).not.toHaveProperty('deleted');
        expect(bob.body).not.toHaveProperty('written');
        // Her change id on a change of his own (a task he creates): applied for him, naming nothing of hers.
        const his = await server.bob.upload([{ ...batch[1], id: uuid(), data: { title: 'bob plain' } }]);
        expect(statuses(his)).toEqual(['applied']);
        expect(his.body).not.toHaveProperty('deleted');
        expect(his.body).not.toHaveProperty('written');
        for (const id of [ids.child, ids.attachment, ids.project]) expect(his.text).not.toContain(id);
        // alice's replay still names hers.
        const again = await server.alice.upload(batch);
        expect({ written: again.body.written, deleted: again.body.deleted }).toEqual({ written: first.body.written, deleted: first.body.deleted });
      }
    });

    it("keeps a batch handler call's writes once for all its items, and a replay of any one item names them", async () => {
      for (const server of [fast, inOrder]) {
        const projects = [uuid(), uuid(), uuid()];
        const task = uuid();
        await server.alice.upload([...projects.map((p, n) => change('create', 'Project', p, { name: `P${n}` })), change('create', 'Task', task, { title: 'bumped by projects' })]);
        const batch = projects.map((p) => change('update', 'Project', p, { name: `bump:Task:${task}` }));
        const first = await server.alice.upload(batch);
        expect(statuses(first)).toEqual(['applied', 'applied', 'applied']);
        expect(first.body.written).toEqual([ref('Task', task)]);
        const kept = await claims(server, 'alice', batch.map((c) => c.changeId));
        if (server === fast) {
          // One afterCommitBatch call for the three: its write kept on the first item's claim, which the others name.
          expect(kept).toEqual([[['Task', task]], [batch[0].changeId], [batch[0].changeId]]);
        } else {
          expect(kept).toEqual([[['Task', task]], [['Task', task]], [['Task', task]]]);
        }
        // The device replays the last item alone (e.g. a selected sync).
        const one = await server.alice.upload([batch[2]]);
        expect(one.body.written).toEqual([ref('Task', task)]);
      }
    });

    it('costs a plain upload the statements it cost before; a replay naming others costs one more than a plain replay', async () => {
      const cost = async (count: StatementCount, run: () => Promise<unknown>) => {
        const before = count.statements;
        await run();
        return count.statements - before;
      };
      // Measured before claims kept refs (set-based, change by change).
      const expected = {
        plainUpdate: [7, 10],
        tenCreates: [7, 55],
        refused: [8, 11],
        revivingProject: [12, 15],
        deletingProject: [13, 12],
        plainReplay: [5, 5],
        replayNamingOthers: [6, 6],
      };
      for (const [n, server, count] of [[0, countedFast, fastCount], [1, countedInOrder, inOrderCount]] as const) {
        const project = uuid();
        const task = uuid();
        await server.alice.upload([change('create', 'Project', project, { name: 'archived', archived: true })]);
        const reviving = [change('create', 'Task', task, { title: 'revives', project })];
        const measured = {
          // The demo's Task afterCommit revives the archived project: written.
          revivingProject: await cost(count, () => server.alice.upload(reviving)),
          plainUpdate: await cost(count, () => server.alice.upload([change('update', 'Task', task, { title: 'plain' })])),
          tenCreates: await cost(count, () => server.alice.upload(Array.from({ length: 10 }, () => change('create', 'Task', uuid(), { title: 'x y' })))),
          refused: await cost(count, () => server.alice.upload([change('create', 'Task', uuid(), { title: 'a forbidden title' })])),
          plainReplay: 0,
          replayNamingOthers: await cost(count, async () => expect((await server.alice.upload(reviving)).body.written).toEqual([ref('Project', project)])),
          deletingProject: await cost(count, () => server.alice.upload([change('delete', 'Project', project)])),
        };
        const plain = [change('create', 'Task', uuid(), { title: 'again' })];
        await server.alice.upload(plain);
        measured.plainReplay = await cost(count, () => server.alice.upload(plain));
        expect(measured).toEqual(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, v[n]])));
        const [revivingClaim] = await claims(server, 'alice', [reviving[0].changeId]);
        expect(revivingClaim).toEqual([['Project', project]]);
      }
    });

    // Generated batches whose handlers delete and update objects of the world, each sent twice
    // (the first answer "lost") on both paths: the replay names what the first answer named.
    it("answers a replay with the first answer's written and deleted when nothing changed in between, on both paths", async () => {
      const seen = { named: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(batchArbitrary, async (plan) => {
          const ids = newWorld();
          await seedWorld(fast, ids);
          await seedWorld(inOrder, ids);
          const changes = shaped(plan.changes.map((c) => c(ids)), plan.deviceShaped);
          for (const server of [fast, inOrder]) {
            const first = await server[plan.user].upload(changes);
            expect(first.status).toBe(200);
            const counts = await server.counts();
            const again = await server[plan.user].upload(changes);
            expect(again.status).toBe(200);
            expect(statuses(again)).toEqual(statuses(first));
            expect({ written: again.body.written, deleted: again.body.deleted }).toEqual({ written: first.body.written, deleted: first.body.deleted });
            expect(await server.counts()).toEqual(counts);
            if (first.body.written || first.body.deleted) seen.named++;
            if (statuses(first).some((s) => s.startsWith('rejected'))) seen.refused++;
          }
        }),
        fuzzParameters({ runs: 30, soakRuns: 1000 }),
      );
      expect(seen.named).toBeGreaterThan(3);
      expect(seen.refused).toBeGreaterThan(0);
    });
  });
}

/** A title or name: plain, or commands deleting or updating objects of the world (then maybe refusing). */
const command = fc.constantFrom<Pick>(
  () => 'plain',
  (w) => `remove:Task:${w.aliceTask}`,
  (w) => `remove:Task:${w.bobTask}`,
  (w) => `remove:Project:${w.aliceProject}`,
  (w) => `remove:Task:${w.fresh[0]}`,
  (w) => `early:Task:${w.aliceTask}`,
  (w) => `bump:Project:${w.aliceProject}`,
  (w) => `bump:Project:${w.bobProject}`,
  (w) => `bump:Task:${w.aliceTask}`,
  (w) => `bump:Task:${w.bobTask}`,
  (w) => `bump:Task:${w.fresh[1]}`,
  (w) => `bump:Project:${w.aliceProject} remove:Task:${w.aliceTask}`,
  (w) => `bump:Task:${w.bobTask} refuse`,
  (w) => `remove:Task:${w.aliceTask} refuse`,
);
const taskData = fc.record({ title: command, done: fc.boolean(), project: fc.option(objectRef, { nil: undefined }) }, { requiredKeys: [] });
const projectData = fc.record({ name: command, archived: fc.boolean() }, { requiredKeys: [] });
const oneChange = fc.oneof(
  fc.record({ kind: fc.constantFrom('create', 'update', 'delete'), entity: fc.constant('Task'), id: objectRef, data: taskData }),
  fc.record({ kind: fc.constantFrom('create', 'update', 'delete'), entity: fc.constant('Project'), id: objectRef, data: projectData }),
).map(changeTemplate);
/** Three in four batches shaped as a device sends them (the set-based path's), the others as generated. */
const batchArbitrary = fc.record({
  user: fc.constantFrom('alice' as const, 'bob' as const, 'carol' as const),
  changes: fc.array(oneChange, { minLength: 1, maxLength: 8 }),
  deviceShaped: fc.nat(3).map((n) => n > 0),
});
