import { afterAll, describe, expect, it } from 'vitest';
import { SchemaError } from '../../src/errors.ts';
import { demoSchema } from '../../src/demo/schema.ts';
import { wordCount } from '../../src/demo/server.ts';
import type { SyncObject } from '../../src/model/values.ts';
import { checkHandlers, type BeforeCommitItem, type Handlers } from '../../src/server/handlers.ts';
import { handlerBatches, statuses, type World } from './generatedBatches.ts';
import { againstChangeByChange, countedServer, expectOneCallPerDelete, tasksOf, type CallLog } from './handlerHarness.ts';
import { change, startTestServer, uuid, type StorageTarget } from './support.ts';

/**
 * Task's calculated attributes from a lookup: `estimate` is its project's name length, `words`
 * its title's word count; a task of an archived project is refused. One getMany per call.
 */
function lookupHandlers(log: CallLog): Handlers {
  return {
    Task: {
      async beforeCommitBatch(items, ctx) {
        log.push({ entity: 'Task', kinds: items.map((i) => i.kind) });
        const live = items.filter((i) => i.kind !== 'delete');
        const projects = await ctx.getMany('Project', live.flatMap((i) => (typeof i.object.project === 'string' ? [i.object.project] : [])));
        for (const item of live) {
          const project = projects.get(String(item.object.project));
          if (project?.archived) item.reject(`Project ${project.name} is archived`);
          else item.set({ words: wordCount(item.object.title), estimate: project ? String(project.name).length : 0 });
        }
      },
    },
  };
}

/** The batch form of before-commit handlers (issue 12), on every storage target. */
export function batchHandlerTests(target: StorageTarget): void {
  describe(`beforeCommitBatch on ${target.name}`, () => {
    afterAll(async () => {
      await target.cleanup();
    });

    it('is called once for a batch of 1,000 creates: one lookup statement, a calculated attribute on each', async () => {
      const log: CallLog = [];
      const batch = await countedServer(target, lookupHandlers(log));
      // The same lookup per object: one ctx.get per task.
      const perObject = await countedServer(target, {
        Task: {
          async beforeCommit(task, ctx) {
            const project = typeof task.project === 'string' ? await ctx.get('Project', task.project) : null;
            if (project?.archived) ctx.reject(`Project ${project.name} is archived`);
            return { words: wordCount(task.title), estimate: project ? String(project.name).length : 0 };
          },
        },
      });
      try {
        const costs: Record<string, number> = {};
        for (const [name, t] of [['batch', batch], ['perObject', perObject]] as const) {
          const project = uuid();
          await t.server.alice.upload([change('create', 'Project', project, { name: 'Lookup' })]);
          const small = await t.cost(() => t.server.alice.upload(tasksOf(10, project)));
          const large = await t.cost(() => t.server.alice.upload(tasksOf(1000, project)));
          expect(large.result.status).toBe(200);
          expect(large.transactions).toBe(1);
          expect(large.result.body.results.every((r: any) => r.status === 'applied')).toBe(true);
          expect(large.result.body.results[999].object).toMatchObject({ words: 5, estimate: 6, project, owner: 'alice' });
          expect(small.result.body.results[9].object).toMatchObject({ words: 5, estimate: 6 });
          costs[`${name}10`] = small.statements;
          costs[`${name}1000`] = large.statements;
        }
        // One call per upload with every item, and one statement for its lookup whatever the size.
        expect(log.map((c) => c.kinds.length)).toEqual([10, 1000]);
        expect(costs.batch1000).toBe(costs.batch10);
        expect(costs.batch1000).toBeLessThanOrEqual(13);
        expect(costs.perObject1000 - costs.perObject10).toBe(990);
        console.info(`1,000 task creates with a lookup per task: ${costs.perObject1000} statements with beforeCommit (ctx.get each), ${costs.batch1000} with beforeCommitBatch (one getMany)`);
      } finally {
        await batch.server.close();
        await perObject.server.close();
      }
    });

    it('fails only the items it refuses, with their stored failures, in the one call', async () => {
      const log: CallLog = [];
      const t = await countedServer(target, lookupHandlers(log));
      try {
        const [open, archived] = [uuid(), uuid()];
        await t.server.alice.upload([change('create', 'Project', open, { name: 'Open' }), change('create', 'Project', archived, { name: 'Old', archived: true })]);
        const batch = [...tasksOf(3, open), ...tasksOf(2, archived), ...tasksOf(2, null)];
        const failuresBefore = (await t.server.counts()).failures;
        const { result: r, transactions } = await t.cost(() => t.server.alice.upload(batch));
        expect(transactions).toBe(1); // no fallback: the refusals touch nothing else
        expect(log).toEqual([{ entity: 'Task', kinds: Array(7).fill('create') }]);
        expect(statuses(r)).toEqual([
          'applied',
          'applied',
          'applied',
          'rejected: Project Old is archived',
          'rejected: Project Old is archived',
          'applied',
          'applied',
        ]);
        expect(r.body.results[0].object).toMatchObject({ words: 5, estimate: 4 });
        expect(r.body.results[5].object).toMatchObject({ words: 5, estimate: 0, project: null });
        const stored = await t.server.alice.all('Task');
        expect(stored.map((o) => o.id).sort()).toEqual([...batch.slice(0, 3), ...batch.slice(5)].map((c) => c.id).sort());
        expect((await t.server.counts()).failures).toBe(failuresBefore + 2);
        const failures = (await t.server.alice.failures()).body.failures;
        expect(failures.filter((f: any) => batch.some((c) => c.changeId === f.changeId)).map((f: any) => [f.objectId, f.reason, f.message]).sort()).toEqual(
          batch.slice(3, 5).map((c) => [c.id, 'rejected', 'Project Old is archived']).sort(),
        );
      } finally {
        await t.server.close();
      }
    });

    it('checks the values it sets like beforeCommit answers: a bad one fails that item alone', async () => {
      const handlers: Handlers = {
        Task: {
          beforeCommitBatch(items) {
            for (const item of items) {
              if (item.object.title === 'bad value') item.set({ words: 'many' });
              else if (item.object.title === 'bad reference') item.set({ project: '00000000-0000-4000-8000-000000000000' });
              else if (item.object.title === 'not an object') item.set(42 as any);
              else {
                item.set({ words: 1 });
                item.set({ estimate: 2 }); // several calls merge
              }
            }
          },
        },
      };
      const t = await countedServer(target, handlers);
      const inOrder = await countedServer(target, handlers, 'inOrder');
      try {
        const titles = ['fine', 'bad value', 'bad reference', 'not an object'];
        const batch = titles.map((title) => change('create', 'Task', uuid(), { title }));
        const { result: r, transactions } = await t.cost(() => t.server.alice.upload(batch));
        expect(transactions).toBe(1);
        expect(statuses(r)).toEqual([
          'applied',
          'invalid: Task.beforeCommitBatch.words: must be an integer',
          'invalid: Task.beforeCommitBatch.project: no Project with id 00000000-0000-4000-8000-000000000000 (not found or not accessible)',
          'invalid: Task.beforeCommitBatch: must be an object',
        ]);
        expect(r.body.results[0].object).toMatchObject({ words: 1, estimate: 2 });
        // Change by change (a batch of one item each), the same answers.
        expect(statuses(await inOrder.server.alice.upload(batch))).toEqual(statuses(r));
      } finally {
        await t.server.close();
        await inOrder.server.close();
      }
    });

    it('hands the batch to the per-change path when it refuses an object another change refers to', async () => {
      const log: CallLog = [];
      const handlers: Handlers = {
        ...lookupHandlers(log),
        Project: {
          beforeCommitBatch(items) {
            log.push({ entity: 'Project', kinds: items.map((i) => i.kind) });
            for (const item of items) if (item.object.name === 'Refused') item.reject('No project called Refused');
          },
        },
      };
      const t = await countedServer(target, handlers);
      try {
        const [refused, kept] = [uuid(), uuid()];
        const batch = [
          change('create', 'Project', refused, { name: 'Refused' }),
          change('create', 'Project', kept, { name: 'Kept' }),
          change('create', 'Task', uuid(), { title: 'in the refused project', project: refused }),
          change('create', 'Task', uuid(), { title: 'in the kept project', project: kept }),
        ];
        const { result: r, transactions } = await t.cost(() => t.server.alice.upload(batch));
        expect(transactions).toBe(2); // the set-based attempt, rolled back, then change by change
        expect(statuses(r)).toEqual([
          'rejected: No project called Refused',
          'applied',
          `invalid: data.project: no Project with id ${refused} (not found or not accessible)`,
          'applied',
        ]);
        expect(r.body.results[3].object).toMatchObject({ project: kept, estimate: 4 });
        // Set-based: Project [2 items] (then rolled back); change by change: one item per call.
        expect(log.map((c) => `${c.entity}:${c.kinds.length}`)).toEqual(['Project:2', 'Project:1', 'Project:1', 'Task:1']);
        expect((await t.server.alice.fetch('Project', [refused, kept])).body.objects.map((o: SyncObject) => o.id)).toEqual([kept]);
      } finally {
        await t.server.close();
      }
    });

    it('takes the per-change path when it reads or writes an object of the batch, as change by change', async () => {
      const handlers = (): Handlers => ({
        Task: {
          async beforeCommitBatch(items, ctx) {
            const projects = await ctx.getMany('Project', items.map((i) => String(i.object.project)));
            for (const item of items) {
              const project = projects.get(String(item.object.project))!;
              item.set({ estimate: String(project.name).length });
              // A task titled "touch" marks its project as touched.
              if (item.object.title === 'touch') await ctx.update('Project', project.id, { name: `${project.name} (touched)` });
            }
          },
        },
      });
      const t = await countedServer(target, handlers());
      const inOrder = await countedServer(target, handlers(), 'inOrder');
      try {
        for (const server of [t, inOrder]) {
          const [p, q] = [uuid(), uuid()];
          await server.server.alice.upload([change('create', 'Project', p, { name: 'Short' }), change('create', 'Project', q, { name: 'Q' })]);
          // Reads: the batch renames p before the task that looks it up.
          const read = await server.cost(() =>
            server.server.alice.upload([change('update', 'Project', p, { name: 'A longer name' }), change('create', 'Task', uuid(), { title: 'reads', project: p })]),
          );
          expect(statuses(read.result)).toEqual(['applied', 'applied']);
          expect(read.result.body.results[1].object).toMatchObject({ estimate: 13 });
          // Writes: the handler renames q, which a later change of the batch renames too (that one wins).
          const wrote = await server.cost(() =>
            server.server.alice.upload([change('create', 'Task', uuid(), { title: 'touch', project: q }), change('update', 'Project', q, { name: 'Renamed' })]),
          );
          expect(statuses(wrote.result)).toEqual(['applied', 'applied']);
          expect(wrote.result.body.results[1].object).toMatchObject({ name: 'Renamed' });
          expect((await server.server.alice.fetch('Project', [q])).body.objects[0]).toMatchObject({ name: 'Renamed' });
          // The other way round: the handler sees q renamed, and its rename comes last.
          const after = await server.cost(() =>
            server.server.alice.upload([change('update', 'Project', q, { name: 'Again' }), change('create', 'Task', uuid(), { title: 'touch', project: q })]),
          );
          expect(statuses(after.result)).toEqual(['applied', 'applied']);
          expect(after.result.body.results[1].object).toMatchObject({ estimate: 5 });
          expect((await server.server.alice.fetch('Project', [q])).body.objects[0]).toMatchObject({ name: 'Again (touched)' });
          if (server === t) expect([read.transactions, wrote.transactions, after.transactions]).toEqual([2, 2, 2]);
        }
      } finally {
        await t.server.close();
        await inOrder.server.close();
      }
    });

    it('fails the whole upload when it throws, and a data error only the change it concerns', async () => {
      const t = await countedServer(target, {
        Task: {
          async beforeCommitBatch(items, ctx) {
            for (const item of items) {
              if (item.object.title === 'crash') throw new Error('a bug in the handler');
              // ctx.update of an object that does not exist: `not_found`, about this item's data
              if (item.object.title === 'missing') await ctx.update('Project', '00000000-0000-4000-8000-000000000001', { name: 'x' });
            }
          },
        },
      });
      try {
        const counts = await t.server.counts();
        const crash = await t.server.alice.upload([change('create', 'Task', uuid(), { title: 'fine' }), change('create', 'Task', uuid(), { title: 'crash' })]);
        expect(crash.status).toBe(500);
        expect(await t.server.counts()).toEqual(counts);

        const { result: r, transactions } = await t.cost(() =>
          t.server.alice.upload([change('create', 'Task', uuid(), { title: 'fine' }), change('create', 'Task', uuid(), { title: 'missing' })]),
        );
        expect(transactions).toBe(2); // which item a throw concerns is known change by change only
        expect(statuses(r)).toEqual(['applied', 'invalid: Project 00000000-0000-4000-8000-000000000001 does not exist']);
      } finally {
        await t.server.close();
      }
    });

    it('runs for a delete with one item, which it may refuse', async () => {
      const log: CallLog = [];
      const t = await countedServer(target, {
        Project: {
          beforeCommitBatch(items) {
            log.push({ entity: 'Project', kinds: items.map((i) => i.kind) });
            for (const item of items) {
              if (item.kind === 'delete' && item.previous?.name === 'Keep') item.reject('Keep stays');
              item.set({ archived: true }); // ignored for a delete
            }
          },
        },
      });
      try {
        await expectOneCallPerDelete(t, log);
      } finally {
        await t.server.close();
      }
    });

    it('refuses an entity with both beforeCommit and beforeCommitBatch, naming it', async () => {
      const both = { Task: { beforeCommit() {}, beforeCommitBatch() {} } };
      expect(() => checkHandlers(demoSchema, both)).toThrow(SchemaError);
      expect(() => checkHandlers(demoSchema, both)).toThrow(/handlers\.Task: define beforeCommit or beforeCommitBatch, not both/);
      await expect(startTestServer(await target.open(), { handlers: both })).rejects.toMatchObject({
        problems: [{ path: 'handlers.Task', message: 'define beforeCommit or beforeCommitBatch, not both' }],
      });
      expect(checkHandlers(demoSchema, { Task: { beforeCommitBatch() {}, afterCommit() {} } })).toBeTruthy();
      expect(() => checkHandlers(demoSchema, { Task: { beforeCommitBatch: 'no' } })).toThrow(/handlers\.Task\.beforeCommitBatch: must be a function/);
      expect(() => checkHandlers(demoSchema, { Task: { beforeBatch() {} } })).toThrow(/unknown handler \(beforeCommit, beforeCommitBatch, afterCommit, afterCommitBatch\)/);
    });

    it('refuses calls on an item after the handler returned', async () => {
      let kept: BeforeCommitItem | null = null;
      const t = await countedServer(target, {
        Task: {
          beforeCommitBatch(items) {
            kept = items[0];
          },
        },
      });
      try {
        expect((await t.server.alice.upload([change('create', 'Task', uuid(), { title: 'x' })])).status).toBe(200);
        expect(() => kept!.set({ words: 1 })).toThrow(/after beforeCommitBatch returned/);
        expect(() => kept!.reject('late')).toThrow(/after beforeCommitBatch returned/);
      } finally {
        await t.server.close();
      }
    });

    // Generated batches with batch handlers that look objects up, refuse, set values and
    // references, and write; applied by both paths from the same state: the same outcome per
    // change and the same stored rows.
    againstChangeByChange(target, { handlers: differentialHandlers, batches });
  });
}

/**
 * Handlers of the generated batches. Task: looks up the projects of the batch (one getMany),
 * refuses "a forbidden title" and tasks of an archived project, sets `words` and `estimate`,
 * points "one two three" at the world's first fresh project (which the batch may create), and
 * for "plan the week" renames its project (a handler write). Project: refuses the name "P" for
 * an archived project, and the delete of alice's project. Task afterCommit: a new task revives
 * its archived project (as the demo's).
 */
function differentialHandlers(world: { current: World | null }, log: CallLog): Handlers {
  return {
    Task: {
      async beforeCommitBatch(items, ctx) {
        log.push({ entity: 'Task', kinds: items.map((i) => i.kind) });
        const projects = await ctx.getMany('Project', items.flatMap((i) => (typeof i.object.project === 'string' ? [i.object.project] : [])));
        for (const item of items) {
          if (item.kind === 'delete') continue;
          const title = String(item.object.title ?? '');
          const project = projects.get(String(item.object.project));
          if (/forbidden/.test(title)) item.reject('Title must not contain the word forbidden');
          if (project?.archived) item.reject(`Project ${project.name} is archived`);
          item.set({ words: wordCount(title) });
          item.set({ estimate: project ? String(project.name).length : 0 });
          if (title === 'one two three') item.set({ project: world.current!.fresh[0] });
          if (title === 'plan the week' && project) await ctx.update('Project', project.id, { name: 'Planned' });
        }
      },
      async afterCommit(task, ctx) {
        if (ctx.kind !== 'create' || typeof task.project !== 'string') return;
        const project = await ctx.get('Project', task.project);
        if (project?.archived) await ctx.update('Project', task.project, { archived: false });
      },
    },
    Project: {
      beforeCommitBatch(items) {
        log.push({ entity: 'Project', kinds: items.map((i) => i.kind) });
        for (const item of items) {
          if (item.kind === 'delete' && item.previous?.name === 'alice') item.reject("alice's project stays");
          else if (item.object.archived && item.object.name === 'P') item.reject('An archived project is not called P');
        }
      },
    },
  };
}

/** Titles and names the handlers react to; most batches shaped as a device sends them. */
const batches = handlerBatches({
  titles: ['plan the week', 'a forbidden title', 'one two three', 'x', 'x'.repeat(501)],
  newTitles: ['plan the week', 'a forbidden title', 'one two three', 'x'],
  projectNames: ['P', 'Renamed', ''],
  newTaskWeight: 3,
});
