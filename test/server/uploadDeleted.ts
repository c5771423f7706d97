import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoAccess } from '../../src/demo/server.ts';
import { demoSchema } from '../../src/demo/schema.ts';
import { AccessPolicy } from '../../src/server/access.ts';
import { tickClock } from '../../src/server/clock.ts';
import type { BatchHandlerContext, Handlers } from '../../src/server/handlers.ts';
import { ObjectTx } from '../../src/server/ObjectTx.ts';
import { otherObjects } from '../../src/server/otherObjects.ts';
import { referrersOf, type ServerContext } from '../../src/server/ServerContext.ts';
import type { ChangeRequest, ObjectRef } from '../../src/transport/wire.ts';
import { fuzzParameters } from '../support/fuzz.ts';
import { newWorld, objectRef, seededChanges, statuses, storedRows, worldBatches, type Pick, type World } from './generatedBatches.ts';
import { change, startTestServer, uuid, type StorageTarget, type TestServer } from './support.ts';

/**
 * Test handlers on the demo schema that do what a task's title (or a project's name) tells them,
 * as whitespace-separated words:
 * - `remove:<Entity>:<id>` deletes that object after the change is written (afterCommit; for
 *   projects afterCommitBatch), `early:<Entity>:<id>` before it (beforeCommit, tasks);
 * - `bump:<Entity>:<id>` updates that object after the change is written (a project's name
 *   becomes "bumped", a task is marked done);
 * - `replace` then creates a task titled "replacement";
 * - `refuse` then refuses the change with `refusal` (its writes, the deletes included, are undone).
 * Deletes run no handler of their own; a device's delete of a task or project runs none of these.
 */
export function commandHandlers(refusal: string): Handlers {
  return {
    Task: {
      async beforeCommit(task, ctx) {
        if (ctx.kind === 'delete') return;
        await obey(task.title, ctx, 'early');
      },
      async afterCommit(task, ctx) {
        if (ctx.kind === 'delete') return;
        if ((await obey(task.title, ctx, 'after')) === 'refuse') ctx.reject(refusal);
      },
    },
    Project: {
      async afterCommitBatch(items, ctx) {
        for (const item of items) {
          if (item.kind === 'delete') continue;
          if ((await obey(item.object.name, ctx, 'after')) === 'refuse') item.reject(refusal);
        }
      },
    },
  };
}

export const deletingHandlers = commandHandlers('refused after deleting');

/** Runs the commands of `text` of one stage (`early`: before commit); answers 'refuse' when the text says so. */
async function obey(text: unknown, ctx: BatchHandlerContext, stage: 'early' | 'after'): Promise<'refuse' | null> {
  let refuse = false;
  for (const word of String(text ?? '').split(/\s+/)) {
    const [command, entity, id] = word.split(':');
    if (stage === 'early') {
      if (command === 'early' && entity && id) await ctx.delete(entity, id);
    } else if (command === 'remove' && entity && id) await ctx.delete(entity, id);
    else if (command === 'bump' && entity && id) await ctx.update(entity, id, entity === 'Project' ? { name: 'bumped' } : { done: true });
    else if (word === 'replace') await ctx.create('Task', { title: 'replacement' });
    else if (word === 'refuse') refuse = true;
  }
  return refuse ? 'refuse' : null;
}

export const ref = (entity: string, id: string): ObjectRef => ({ entity, id });
export const byKey = (a: ObjectRef, b: ObjectRef) => `${a.entity}:${a.id}`.localeCompare(`${b.entity}:${b.id}`);

/**
 * The upload answer's `deleted` (objects the upload removed besides the device's own deletes,
 * only those the user could read), on both upload paths; run on every storage target.
 */
export function uploadDeletedTests(target: StorageTarget): void {
  describe(`deleted objects in the upload answer on ${target.name}`, () => {
    let fast: TestServer;
    let inOrder: TestServer;
    beforeAll(async () => {
      fast = await startTestServer(await target.open(), { handlers: deletingHandlers });
      inOrder = await startTestServer(await target.open(), { handlers: deletingHandlers, uploadPath: 'inOrder' });
    });
    afterAll(async () => {
      await fast?.close();
      await inOrder?.close();
      await target.cleanup();
    });

    /** alice's project with a task that has an attachment, and two more tasks. */
    const aliceData = async (server: TestServer) => {
      const ids = { project: uuid(), child: uuid(), attachment: uuid(), other: uuid(), third: uuid() };
      const r = await server.alice.upload([
        change('create', 'Project', ids.project, { name: 'Apollo' }),
        change('create', 'Task', ids.child, { title: 'child', project: ids.project }),
        change('create', 'Attachment', ids.attachment, { name: 'notes.txt', task: ids.child }),
        change('create', 'Task', ids.other, { title: 'other' }),
        change('create', 'Task', ids.third, { title: 'third' }),
      ]);
      expect(statuses(r)).toEqual(['applied', 'applied', 'applied', 'applied', 'applied']);
      return ids;
    };

    it("names the objects a handler deleted, and those that required them, but not the upload's own deletes", async () => {
      for (const server of [fast, inOrder]) {
        const ids = await aliceData(server);
        const r = await server.alice.upload([
          change('update', 'Task', ids.other, { title: `remove:Task:${ids.child}` }),
          change('delete', 'Task', ids.third),
        ]);
        expect(r.status).toBe(200);
        expect(statuses(r)).toEqual(['applied', 'applied']);
        // The attachment required the task: deleted with it. Sorted by entity and id.
        expect(r.body.deleted).toEqual([ref('Attachment', ids.attachment), ref('Task', ids.child)]);
        expect(r.body).not.toHaveProperty('written');
        expect((await server.alice.fetch('Task', [ids.child, ids.third])).body.missing.sort()).toEqual([ids.child, ids.third].sort());
        expect((await server.alice.fetch('Attachment', [ids.attachment])).body.missing).toEqual([ids.attachment]);

        // Nothing removed besides its own changes: no deleted at all.
        const plain = await server.alice.upload([change('update', 'Task', ids.other, { title: 'plain' })]);
        expect(plain.body).not.toHaveProperty('deleted');
      }
    });

    it('names a project a handler deleted in deleted and the tasks that lost their reference to it in written', async () => {
      for (const server of [fast, inOrder]) {
        const ids = await aliceData(server);
        const r = await server.alice.upload([change('create', 'Task', uuid(), { title: `remove:Project:${ids.project}` })]);
        expect(statuses(r)).toEqual(['applied']);
        expect(r.body.deleted).toEqual([ref('Project', ids.project)]);
        expect(r.body.written).toEqual([ref('Task', ids.child)]);
      }
    });

    it("names objects of the upload's own creates and updates that a later change's handler deleted", async () => {
      for (const server of [fast, inOrder]) {
        const ids = await aliceData(server);
        const fresh = uuid();
        const r = await server.alice.upload([
          change('create', 'Task', fresh, { title: 'made here' }),
          change('update', 'Task', ids.third, { done: true }),
          change('update', 'Task', ids.other, { title: `remove:Task:${fresh} remove:Task:${ids.third}` }),
        ]);
        expect(statuses(r)).toEqual(['applied', 'applied', 'applied']);
        // Their answers are read again as the upload commits them: gone.
        expect(r.body.results[0].object).toBeNull();
        expect(r.body.results[1].object).toBeNull();
        expect(r.body.deleted).toEqual([ref('Task', fresh), ref('Task', ids.third)].sort(byKey));
      }
    });

    it("never names an object the user could not read, though a handler deleted it; a manager's upload names it", async () => {
      for (const server of [fast, inOrder]) {
        const bobs = { task: uuid(), attachment: uuid() };
        await server.bob.upload([
          change('create', 'Task', bobs.task, { title: 'bob private' }),
          change('create', 'Attachment', bobs.attachment, { name: 'private.txt', task: bobs.task }),
        ]);
        const r = await server.alice.upload([change('create', 'Task', uuid(), { title: `remove:Task:${bobs.task}` })]);
        expect(statuses(r)).toEqual(['applied']);
        expect(r.body).not.toHaveProperty('deleted');
        expect(r.body).not.toHaveProperty('written');
        expect(r.text).not.toContain(bobs.attachment);
        // It is gone all the same (handlers are server code, not access-checked).
        expect((await server.bob.fetch('Task', [bobs.task])).body.missing).toEqual([bobs.task]);

        // carol (a manager) reads every task and attachment: her upload names them.
        const again = { task: uuid(), attachment: uuid() };
        await server.bob.upload([
          change('create', 'Task', again.task, { title: 'bob private' }),
          change('create', 'Attachment', again.attachment, { name: 'private.txt', task: again.task }),
        ]);
        const c = await server.carol.upload([change('create', 'Task', uuid(), { title: `remove:Task:${again.task}` })]);
        expect(c.body.deleted).toEqual([ref('Attachment', again.attachment), ref('Task', again.task)]);
      }
    });

    it('names nothing of a delete that its refused change undid', async () => {
      for (const server of [fast, inOrder]) {
        const ids = await aliceData(server);
        const r = await server.alice.upload([
          change('create', 'Task', uuid(), { title: `remove:Task:${ids.child} refuse` }),
          change('create', 'Project', uuid(), { name: `remove:Task:${ids.other} refuse` }),
          change('create', 'Task', uuid(), { title: 'fine' }),
        ]);
        expect(statuses(r)).toEqual(['rejected: refused after deleting', 'rejected: refused after deleting', 'applied']);
        expect(r.body).not.toHaveProperty('deleted');
        const { objects } = (await server.alice.fetch('Task', [ids.child, ids.other])).body;
        expect(objects).toHaveLength(2);
      }
    });

    it("names a before-commit handler's deletes and an after-commit batch handler's", async () => {
      for (const server of [fast, inOrder]) {
        const ids = await aliceData(server);
        const r = await server.alice.upload([
          change('create', 'Task', uuid(), { title: `early:Task:${ids.child}` }),
          change('update', 'Project', ids.project, { name: `remove:Task:${ids.other}` }),
        ]);
        expect(statuses(r)).toEqual(['applied', 'applied']);
        expect(r.body.deleted).toEqual([ref('Attachment', ids.attachment), ref('Task', ids.child), ref('Task', ids.other)].sort(byKey));
      }
    });

    it('refuses (invalid, not a 500) an update whose own before-commit handler deleted its object, and names nothing', async () => {
      for (const server of [fast, inOrder]) {
        const ids = await aliceData(server);
        const r = await server.alice.upload([change('update', 'Task', ids.other, { title: `early:Task:${ids.other}` }), change('create', 'Task', uuid(), { title: 'fine' })]);
        expect(r.status).toBe(200);
        expect(statuses(r)).toEqual([`invalid: Task ${ids.other} was deleted by a before-commit handler of its own change`, 'applied']);
        expect(r.body).not.toHaveProperty('deleted');
        expect((await server.alice.fetch('Task', [ids.other])).body.objects[0]).toMatchObject({ title: 'other' });
      }
    });

    it('answers a replayed upload (its answer lost) with the same results, naming the same objects again', async () => {
      for (const server of [fast, inOrder]) {
        const ids = await aliceData(server);
        const batch = [change('update', 'Task', ids.other, { title: `remove:Task:${ids.child}` }), change('delete', 'Task', ids.third)];
        const first = await server.alice.upload(batch);
        expect(first.body.deleted).toEqual([ref('Attachment', ids.attachment), ref('Task', ids.child)]);
        const counts = await server.counts();
        const again = await server.alice.upload(batch);
        expect(again.status).toBe(200);
        expect(again.body.results).toEqual(first.body.results);
        // The claims keep what the changes touched: a device whose first answer was lost removes them now.
        expect(again.body.deleted).toEqual(first.body.deleted);
        expect(await server.counts()).toEqual(counts);

        // A replay with one new change: the replayed changes' deletes and the new change's.
        const extra = uuid();
        await server.alice.upload([change('create', 'Task', extra, { title: 'extra' })]);
        const mixed = await server.alice.upload([...batch, change('create', 'Task', uuid(), { title: `remove:Task:${extra}` })]);
        expect(mixed.body.results.slice(0, 2)).toEqual(first.body.results);
        expect([...mixed.body.deleted].sort(byKey)).toEqual([ref('Attachment', ids.attachment), ref('Task', ids.child), ref('Task', extra)].sort(byKey));
      }
    });

    it("gives another user's replay of the same upload nothing of alice's, and refuses malformed bodies with a 400", async () => {
      for (const server of [fast, inOrder]) {
        const ids = await aliceData(server);
        const batch = [change('update', 'Task', ids.other, { title: `remove:Task:${ids.child}` })];
        const counts = await server.counts();
        // bob sends alice's upload (same change ids): his own claims; he may not change her task, so no handler runs.
        const bob = await server.bob.upload(batch);
        expect(bob.status).toBe(200);
        expect(statuses(bob)).toEqual([`inaccessible: Task ${ids.other} was not found or is not accessible`]);
        expect(bob.body).not.toHaveProperty('deleted');
        expect(bob.body).not.toHaveProperty('written');
        expect((await server.alice.fetch('Task', [ids.child])).body.objects).toHaveLength(1);

        const before = await server.counts();
        expect(before.objects).toBe(counts.objects);
        for (const body of [
          { changes: batch, deleted: [ref('Task', ids.child)] },
          { changes: [{ ...batch[0], id: 'not-a-uuid' }] },
          { changes: [{ ...batch[0], entity: 'Nope' }] },
          { changes: 'remove everything' },
          { changes: [{ ...batch[0], data: `remove:Task:${ids.child}` }] },
          '{"changes": [',
        ]) {
          const r = await server.alice.call('POST', '/api/upload', body);
          expect(r.status).toBe(400);
          expect(r.body.error.code).toBeTypeOf('string');
          expect(r.body).not.toHaveProperty('deleted');
        }
        expect(await server.counts()).toEqual(before);
        expect((await server.alice.fetch('Task', [ids.child])).body.objects).toHaveLength(1);
      }
    });

    it('counts an object removed and inserted again in one transaction as written, not deleted', async () => {
      // Not reachable through /api/upload (a tombstone refuses a create of its id), so checked on the transaction itself.
      const ids = await aliceData(fast);
      const ctx: ServerContext = {
        schema: demoSchema,
        storage: fast.storage,
        access: AccessPolicy.compile(demoSchema, demoAccess),
        handlers: {},
        referrers: referrersOf(demoSchema),
      };
      const alice = { id: 'alice', roles: ['user'] };
      const answer = await fast.storage.transaction(async (tx) => {
        const otx = new ObjectTx(ctx, tx, await tickClock(tx), alice);
        await otx.remove('Task', ids.other);
        await otx.insert('Task', ids.other, 'alice', { title: 'back again' });
        await otx.remove('Task', ids.third);
        return otherObjects(ctx, tx, alice, [], otx.written(), otx.removed());
      });
      expect(answer).toEqual({ written: [ref('Task', ids.other)], deleted: [ref('Task', ids.third)] });
    });

    // Generated batches whose handlers delete objects of the world (alice's, bob's private task,
    // projects, new objects), applied by both paths from the same state: the same answers, and
    // `deleted` exactly as an oracle reads it from the tombstones.
    it('names exactly the readable objects the upload removed besides its own deletes, alike on both paths, for generated batches', async () => {
      const seen = { named: 0, hidden: 0 };
      await fc.assert(
        fc.asyncProperty(batches, async (plan) => {
          const ids = newWorld();
          const changes = await seededChanges(ids, [fast, inOrder], plan);
          const tombstonesBefore = await tombstones(fast, ids);
          const [a, b] = [await fast[plan.user].upload(changes), await inOrder[plan.user].upload(changes)];
          if (a.status !== 200 || b.status !== 200) console.log(JSON.stringify({ ids, changes, a: a.body, b: b.body }, null, 1));
          expect(a.status).toBe(200);
          expect(b.status).toBe(200);
          expect(statuses(a)).toEqual(statuses(b));
          expect(a.body.deleted).toEqual(b.body.deleted);
          // A replacement task a handler creates gets a new random id on each server.
          const known = (refs?: ObjectRef[]) => refs?.map((r) => (ids.all().includes(r.id) ? r : { entity: r.entity, id: 'created by a handler' })).sort(byKey);
          expect(known(a.body.written)).toEqual(known(b.body.written));
          expect(await storedRows(fast, ids)).toEqual(await storedRows(inOrder, ids));
          const { expected, hidden } = await expectedDeleted(fast, ids, plan.user, changes, tombstonesBefore);
          expect(a.body.deleted ?? []).toEqual(expected);
          if (a.body.deleted) expect(a.body.deleted.length).toBeGreaterThan(0); // absent rather than empty
          seen.named += expected.length ? 1 : 0;
          seen.hidden += hidden ? 1 : 0;
        }),
        fuzzParameters({ runs: 40, soakRuns: 1000 }),
      );
      // The generated cases did exercise both: objects named, and objects removed that the user could not read.
      expect(seen.named).toBeGreaterThan(3);
      expect(seen.hidden).toBeGreaterThan(0);
    });
  });
}

type Tombstone = { entity: string; id: string; owner: string; data: Record<string, unknown>; changed: string };

/** The world's tombstones, keyed entity:id. */
async function tombstones(server: TestServer, ids: World): Promise<Map<string, Tombstone>> {
  const { rows } = await server.storage.query<Tombstone>(
    `SELECT d.entity, d.id::text AS id, d.owner, d.data, d.changed_date::text AS changed FROM sf_deleted d
      WHERE d.id::text = ANY($1) AND NOT EXISTS (SELECT 1 FROM sf_objects o WHERE o.entity = d.entity AND o.id = d.id)`,
    [ids.all()],
  );
  return new Map(rows.map((r) => [`${r.entity}:${r.id}`, r]));
}

/**
 * The oracle, from the tombstones and the access rules' definition: objects gone after the
 * upload whose tombstone it wrote, not the subject of one of its delete changes, readable by the
 * user when removed (projects: everyone; tasks: owner, assignee, managers).
 */
async function expectedDeleted(
  server: TestServer,
  ids: World,
  user: string,
  changes: ChangeRequest[],
  before: Map<string, Tombstone>,
): Promise<{ expected: ObjectRef[]; hidden: number }> {
  const ownDeletes = new Set(changes.filter((c) => c.kind === 'delete').map((c) => `${c.entity}:${c.id}`));
  const readable = (t: Tombstone) => t.entity === 'Project' || t.owner === user || user === 'carol' || t.data.assignee === user;
  const removed = [...(await tombstones(server, ids))].filter(([k, t]) => before.get(k)?.changed !== t.changed && !ownDeletes.has(k)).map(([, t]) => t);
  return {
    expected: removed.filter(readable).map((t) => ref(t.entity, t.id)).sort(byKey),
    hidden: removed.filter((t) => !readable(t)).length,
  };
}

/** A title or name: plain, or commands deleting objects of the world (then refusing, or creating a replacement). */
const command = fc.constantFrom<Pick>(
  () => 'plain',
  (w) => `remove:Task:${w.aliceTask}`,
  (w) => `remove:Task:${w.bobTask}`,
  (w) => `remove:Project:${w.aliceProject}`,
  (w) => `remove:Project:${w.bobProject}`,
  (w) => `remove:Task:${w.fresh[0]}`,
  (w) => `early:Task:${w.aliceTask}`,
  (w) => `early:Project:${w.bobProject}`,
  (w) => `remove:Task:${w.bobTask} refuse`,
  (w) => `remove:Task:${w.aliceTask} replace`,
);
const taskData = fc.record({ title: command, done: fc.boolean(), project: fc.option(objectRef, { nil: undefined }) }, { requiredKeys: [] });
const projectData = fc.record({ name: command, archived: fc.boolean() }, { requiredKeys: [] });
const batches = worldBatches(taskData, projectData);
