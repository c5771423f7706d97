import { afterAll, describe, expect, it } from 'vitest';
import { SchemaError } from '../../src/errors.ts';
import { demoHandlers } from '../../src/demo/server.ts';
import { demoSchema } from '../../src/demo/schema.ts';
import { defineSchema } from '../../src/model/schema.ts';
import { checkHandlers, type AfterCommitItem, type Handlers } from '../../src/server/handlers.ts';
import { handlerBatches, statuses, type World } from './generatedBatches.ts';
import { againstChangeByChange, countedServer as countedDemoServer, expectOneCallPerDelete, tasksOf, type CallLog, type UploadPath } from './handlerHarness.ts';
import { change, startTestServer, uuid, type Reply, type StorageTarget } from './support.ts';

/** The demo schema, with what an after-commit handler keeps on a project: its task count and its latest task's title. */
const schema = defineSchema({
  entities: {
    ...Object.fromEntries(Object.entries(demoSchema.entities).map(([entity, { name, ...def }]) => [entity, def])),
    Project: {
      attributes: { ...demoSchema.entities.Project.attributes, taskCount: { type: 'integer' }, lastTaskTitle: { type: 'string', maxLength: 500 } },
    },
  },
});

/** A server (the demo's, with `schema`) whose storage counts statements and transactions. */
const countedServer = (target: StorageTarget, handlers: Handlers, uploadPath?: UploadPath) => countedDemoServer(target, handlers, uploadPath, { schema });

/**
 * Each new task counts on its project (`taskCount`) and leaves its title there (`lastTaskTitle`):
 * one getMany and one update per project and call, whatever the number of tasks. A task titled
 * "refused" is refused (after the handler wrote for the others), "missing" updates a project
 * that does not exist (a data error about that item).
 */
function countingHandlers(log: CallLog): Handlers {
  return {
    Task: {
      async afterCommitBatch(items, ctx) {
        log.push({ entity: 'Task', kinds: items.map((i) => i.kind) });
        const added = new Map<string, { count: number; title: unknown }>();
        for (const item of items) {
          if (item.object.title === 'refused') item.reject('No task called refused');
          if (item.object.title === 'missing') await ctx.update('Project', '00000000-0000-4000-8000-000000000001', { name: 'x' });
          if (item.kind !== 'create' || typeof item.object.project !== 'string') continue;
          const seen = added.get(item.object.project) ?? { count: 0, title: null };
          added.set(item.object.project, { count: seen.count + 1, title: item.object.title });
        }
        const projects = await ctx.getMany('Project', added.keys());
        for (const [id, { count, title }] of added) {
          const project = projects.get(id);
          if (project) await ctx.update('Project', id, { taskCount: Number(project.taskCount ?? 0) + count, lastTaskTitle: title });
        }
      },
    },
  };
}

/** The same, per object: a read and a write of the project per task. */
const perObjectHandlers: Handlers = {
  Task: {
    async afterCommit(task, ctx) {
      if (ctx.kind !== 'create' || typeof task.project !== 'string') return;
      const project = await ctx.get('Project', task.project);
      if (project) await ctx.update('Project', task.project, { taskCount: Number(project.taskCount ?? 0) + 1, lastTaskTitle: task.title });
    },
  },
};

/** The batch form of after-commit handlers (issue 12), on every storage target. */
export function afterCommitBatchTests(target: StorageTarget): void {
  describe(`afterCommitBatch on ${target.name}`, () => {
    afterAll(async () => {
      await target.cleanup();
    });

    it('is called once for a batch of 1,000 creates: the project read and written once, whatever the size', async () => {
      const log: CallLog = [];
      const batch = await countedServer(target, countingHandlers(log));
      const perObject = await countedServer(target, perObjectHandlers);
      try {
        const costs: Record<string, number> = {};
        for (const [name, t] of [['batch', batch], ['perObject', perObject]] as const) {
          const project = uuid();
          await t.server.alice.upload([change('create', 'Project', project, { name: 'Counted' })]);
          const small = await t.cost(() => t.server.alice.upload(tasksOf(10, project)));
          const large = await t.cost(() => t.server.alice.upload(tasksOf(1000, project)));
          expect(large.result.status).toBe(200);
          expect(large.transactions).toBe(1);
          expect(large.result.body.results.every((r: any) => r.status === 'applied')).toBe(true);
          expect(large.result.body.results[999].object).toMatchObject({ title: 'task 999 of the batch', project, owner: 'alice' });
          // The project the handler wrote is named in the response (everyone reads projects).
          expect(large.result.body.written).toEqual([{ entity: 'Project', id: project }]);
          const [stored] = (await t.server.alice.fetch('Project', [project])).body.objects;
          expect(stored).toMatchObject({ taskCount: 1010, lastTaskTitle: 'task 999 of the batch' });
          costs[`${name}10`] = small.statements;
          costs[`${name}1000`] = large.statements;
        }
        // One call per upload with every item; its statements do not grow with the batch.
        expect(log.map((c) => c.kinds.length)).toEqual([10, 1000]);
        expect(costs.batch1000).toBe(costs.batch10);
        // Per object: a get, and an update (a locking read and a write), per task.
        expect(costs.perObject1000 - costs.perObject10).toBe(990 * 3);
        console.info(
          `1,000 task creates updating their project after commit (${target.name}): ${costs.perObject1000} statements with afterCommit (ctx.get + ctx.update each), ${costs.batch1000} with afterCommitBatch (one getMany, one update)`,
        );
      } finally {
        await batch.server.close();
        await perObject.server.close();
      }
    });

    it('fails a refused item alone, keeping nothing of it, on both paths', async () => {
      const log: CallLog = [];
      const t = await countedServer(target, countingHandlers(log));
      const inOrder = await countedServer(target, countingHandlers([]), 'inOrder');
      try {
        for (const server of [t, inOrder]) {
          const project = uuid();
          await server.server.alice.upload([change('create', 'Project', project, { name: 'Counted' })]);
          const batch = tasksOf(4, project, (i) => (i === 1 ? 'refused' : `task ${i}`));
          const failures = (await server.server.counts()).failures;
          log.length = 0;
          const { result: r, transactions } = await server.cost(() => server.server.alice.upload(batch));
          expect(statuses(r)).toEqual(['applied', 'rejected: No task called refused', 'applied', 'applied']);
          // Set-based: the call with every item wrote, then refused one: handed to the per-change path.
          if (server === t) {
            expect(transactions).toBe(2);
            expect(log.map((c) => c.kinds.length)).toEqual([4, 1, 1, 1, 1]);
          }
          const stored = await server.server.alice.all('Task');
          expect(stored.map((o) => o.id).sort()).toEqual([batch[0], batch[2], batch[3]].map((c) => c.id).sort());
          // The refused task's count and title were undone with it.
          const [p] = (await server.server.alice.fetch('Project', [project])).body.objects;
          expect(p).toMatchObject({ taskCount: 3, lastTaskTitle: 'task 3' });
          expect((await server.server.counts()).failures).toBe(failures + 1);
          const stored1 = (await server.server.alice.failures()).body.failures.find((f: any) => f.changeId === batch[1].changeId);
          expect(stored1).toMatchObject({ objectId: batch[1].id, reason: 'rejected', message: 'No task called refused' });
        }
      } finally {
        await t.server.close();
        await inOrder.server.close();
      }
    });

    it('fails only the change a data error is about, and the whole upload on any other error', async () => {
      const t = await countedServer(target, countingHandlers([]));
      const inOrder = await countedServer(target, countingHandlers([]), 'inOrder');
      try {
        for (const server of [t, inOrder]) {
          const project = uuid();
          await server.server.alice.upload([change('create', 'Project', project, { name: 'Counted' })]);
          const batch = tasksOf(3, project, (i) => (i === 0 ? 'missing' : `task ${i}`));
          const { result: r, transactions } = await server.cost(() => server.server.alice.upload(batch));
          expect(statuses(r)).toEqual(['invalid: Project 00000000-0000-4000-8000-000000000001 does not exist', 'applied', 'applied']);
          if (server === t) expect(transactions).toBe(2); // which item a throw concerns is known change by change only
          expect((await server.server.alice.fetch('Project', [project])).body.objects[0]).toMatchObject({ taskCount: 2, lastTaskTitle: 'task 2' });
        }
        const crashing = await countedServer(target, {
          Task: {
            afterCommitBatch(items) {
              if (items.some((i) => i.object.title === 'crash')) throw new Error('a bug in the handler');
            },
          },
        });
        try {
          const counts = await crashing.server.counts();
          const r = await crashing.server.alice.upload([change('create', 'Task', uuid(), { title: 'fine' }), change('create', 'Task', uuid(), { title: 'crash' })]);
          expect(r.status).toBe(500);
          expect(await crashing.server.counts()).toEqual(counts);
        } finally {
          await crashing.server.close();
        }
      } finally {
        await t.server.close();
        await inOrder.server.close();
      }
    });

    it('names in written the objects it wrote that the user may read, not the others', async () => {
      const handlers = (): Handlers => ({
        Task: {
          async afterCommitBatch(items, ctx) {
            for (const item of items) {
              // "tell <id>" marks the task <id> (bob's private one) done; a project gets the title.
              const told = /^tell (.+)$/.exec(String(item.object.title));
              if (told) await ctx.update('Task', told[1], { done: true });
              if (typeof item.object.project === 'string') await ctx.update('Project', item.object.project, { lastTaskTitle: item.object.title });
            }
          },
        },
      });
      const t = await countedServer(target, handlers());
      const inOrder = await countedServer(target, handlers(), 'inOrder');
      try {
        for (const server of [t, inOrder]) {
          const [project, bobTask] = [uuid(), uuid()];
          await server.server.bob.upload([change('create', 'Task', bobTask, { title: 'bob private' })]);
          await server.server.alice.upload([change('create', 'Project', project, { name: 'Shown' })]);
          const { result: r, transactions } = await server.cost(() =>
            server.server.alice.upload([
              change('create', 'Task', uuid(), { title: `tell ${bobTask}` }),
              change('create', 'Task', uuid(), { title: 'in the project', project }),
            ]),
          );
          expect(statuses(r)).toEqual(['applied', 'applied']);
          expect(transactions).toBe(1);
          expect(r.body.written).toEqual([{ entity: 'Project', id: project }]);
          expect((await server.server.bob.fetch('Task', [bobTask])).body.objects[0]).toMatchObject({ done: true });
        }
      } finally {
        await t.server.close();
        await inOrder.server.close();
      }
    });

    it('takes the per-change path when a call of several items deletes, with the same results', async () => {
      const log: CallLog = [];
      const handlers = (log: CallLog): Handlers => ({
        Task: {
          async afterCommitBatch(items, ctx) {
            log.push({ entity: 'Task', kinds: items.map((i) => i.kind) });
            // "drop <id>" deletes the task <id>, which a later change of the batch updates.
            for (const item of items) {
              const drop = /^drop (.+)$/.exec(String(item.object.title));
              if (drop) await ctx.delete('Task', drop[1]);
            }
          },
        },
      });
      const t = await countedServer(target, handlers(log));
      const inOrder = await countedServer(target, handlers([]), 'inOrder');
      try {
        const answers = [];
        const victim = uuid(); // the same id on both servers, so their answers compare
        for (const server of [t, inOrder]) {
          await server.server.alice.upload([change('create', 'Task', victim, { title: 'victim' })]);
          log.length = 0;
          const { result: r, transactions } = await server.cost(() =>
            server.server.alice.upload([change('create', 'Task', uuid(), { title: `drop ${victim}` }), change('update', 'Task', victim, { title: 'renamed' })]),
          );
          if (server === t) {
            expect(transactions).toBe(2);
            // The call with both items deleted: handed over, then one item per change.
            expect(log.map((c) => c.kinds)).toEqual([['create', 'update'], ['create']]);
          }
          answers.push(statuses(r));
          expect((await server.server.alice.fetch('Task', [victim])).body.objects).toEqual([]);
        }
        // Change by change the delete comes first: the update finds the task gone.
        expect(answers[0]).toEqual(answers[1]);
        expect(answers[0][0]).toBe('applied');
        expect(answers[0][1]).toMatch(/^deleted: /);
        // A single-item call for the batch's last change may delete: no hand-over.
        const other = uuid();
        await t.server.alice.upload([change('create', 'Task', other, { title: 'victim' })]);
        const last = await t.cost(() => t.server.alice.upload([change('create', 'Task', uuid(), { title: `drop ${other}` })]));
        expect(statuses(last.result)).toEqual(['applied']);
        expect(last.transactions).toBe(1);
        expect((await t.server.alice.fetch('Task', [other])).body.objects).toEqual([]);
      } finally {
        await t.server.close();
        await inOrder.server.close();
      }
    });

    it('takes the per-change path when a per-object handler runs between its items and uses what it writes', async () => {
      // Task's batch call leaves the latest task's title on a board project; a new project's
      // afterCommit writes the board too. Change by change, the project's handler runs between the two tasks.
      const handlers = (board: { id: string }): Handlers => ({
        Task: {
          async afterCommitBatch(items, ctx) {
            for (const item of items) await ctx.update('Project', board.id, { lastTaskTitle: item.object.title });
          },
        },
        Project: {
          async afterCommit(project, ctx) {
            if (project.id !== board.id) await ctx.update('Project', board.id, { lastTaskTitle: `project ${project.name}` });
          },
        },
      });
      const board = { id: uuid() };
      const t = await countedServer(target, handlers(board));
      const inOrder = await countedServer(target, handlers(board), 'inOrder');
      try {
        const batch = [
          change('create', 'Task', uuid(), { title: 'first' }),
          change('create', 'Project', uuid(), { name: 'between' }),
          change('create', 'Task', uuid(), { title: 'last' }),
        ];
        for (const server of [t, inOrder]) {
          await server.server.alice.upload([change('create', 'Project', board.id, { name: 'Board' })]);
          const { result: r, transactions } = await server.cost(() => server.server.alice.upload(batch));
          expect(statuses(r)).toEqual(['applied', 'applied', 'applied']);
          if (server === t) expect(transactions).toBe(2);
          expect((await server.server.alice.fetch('Project', [board.id])).body.objects[0]).toMatchObject({ lastTaskTitle: 'last' });
        }
        // Without such a handler between them, the batch stays set-based.
        const alone = await t.cost(() => t.server.alice.upload([batch[0], batch[2]].map((c) => ({ ...change('create', 'Task', uuid(), c.data) }))));
        expect(alone.transactions).toBe(1);
      } finally {
        await t.server.close();
        await inOrder.server.close();
      }
    });

    it('runs for a delete with one item, which it may refuse (the delete is undone)', async () => {
      const log: CallLog = [];
      const t = await countedServer(target, {
        Project: {
          afterCommitBatch(items) {
            log.push({ entity: 'Project', kinds: items.map((i) => i.kind) });
            for (const item of items) if (item.kind === 'delete' && item.previous?.name === 'Keep') item.reject('Keep stays');
          },
        },
      });
      try {
        await expectOneCallPerDelete(t, log, () => expect(log).toEqual([{ entity: 'Project', kinds: ['create', 'create'] }]));
      } finally {
        await t.server.close();
      }
    });

    it('refuses an entity with both afterCommit and afterCommitBatch, naming it', async () => {
      const both = { Task: { afterCommit() {}, afterCommitBatch() {} } };
      expect(() => checkHandlers(schema, both)).toThrow(SchemaError);
      expect(() => checkHandlers(schema, both)).toThrow(/handlers\.Task: define afterCommit or afterCommitBatch, not both/);
      await expect(startTestServer(await target.open(), { schema, handlers: both })).rejects.toMatchObject({
        problems: [{ path: 'handlers.Task', message: 'define afterCommit or afterCommitBatch, not both' }],
      });
      expect(checkHandlers(schema, { Task: { beforeCommit() {}, afterCommitBatch() {} } })).toBeTruthy();
      expect(checkHandlers(schema, { Task: { beforeCommitBatch() {}, afterCommitBatch() {} } })).toBeTruthy();
      expect(() => checkHandlers(schema, { Task: { afterCommitBatch: 'no' } })).toThrow(/handlers\.Task\.afterCommitBatch: must be a function/);
    });

    it('refuses a reject on an item after the handler returned', async () => {
      let kept: AfterCommitItem | null = null;
      const t = await countedServer(target, {
        Task: {
          afterCommitBatch(items) {
            kept = items[0];
          },
        },
      });
      try {
        const r = await t.server.alice.upload([change('create', 'Task', uuid(), { title: 'x' })]);
        expect(statuses(r)).toEqual(['applied']);
        expect(() => kept!.reject('late')).toThrow(/after afterCommitBatch returned/);
      } finally {
        await t.server.close();
      }
    });

    // Generated batches with an afterCommitBatch handler that reads and writes other objects (and
    // refuses, throws about data, deletes), next to per-object handlers; applied by both paths from
    // the same state: the same outcome per change and the same stored rows.
    againstChangeByChange(target, {
      handlers: differentialHandlers,
      batches,
      options: { schema },
      // The answers hold the objects as committed, the same both ways (but for the servers' own dates).
      alsoAlike: (a, b) => {
        expect(a.body.results.map(answered)).toEqual(b.body.results.map(answered));
        expect(writtenKeys(a)).toEqual(writtenKeys(b));
      },
    });
  });
}

/** An answered object without its dates (each server has its own clock and seeded its own world). */
function answered(result: any): Record<string, unknown> | null {
  if (!result.object) return null;
  const { createdDate, changedDate, ...rest } = result.object;
  return rest;
}

const writtenKeys = (r: Reply): string[] => (r.body.written ?? []).map((w: any) => `${w.entity}:${w.id}`).sort();

/**
 * Handlers of the generated batches. Task afterCommitBatch: for every applied task of a project,
 * counts creates on it and leaves its title (one getMany, one update per project); refuses
 * "a refused title"; "missing" updates a project that does not exist (a data error); "plan the
 * week" marks bob's private task done; "drop a project" deletes alice's project.
 * Task beforeCommit: the demo's (words). Project afterCommit (per object, between the batch
 * calls): an archived project forgets its latest title and marks bob's task not done.
 */
function differentialHandlers(world: { current: World | null }, log: CallLog): Handlers {
  return {
    Task: {
      beforeCommit: demoHandlers.Task.beforeCommit,
      async afterCommitBatch(items, ctx) {
        log.push({ entity: 'Task', kinds: items.map((i) => i.kind) });
        const w = world.current!;
        const touched = new Map<string, { count: number; title: unknown }>();
        for (const item of items) {
          if (item.kind === 'delete') continue;
          const title = String(item.object.title ?? '');
          if (title === 'missing') await ctx.update('Project', '00000000-0000-4000-8000-000000000001', { name: 'x' });
          if (/refused/.test(title)) item.reject('Title must not contain the word refused');
          if (title === 'plan the week') await ctx.update('Task', w.bobTask, { done: true });
          // Cascades: the tasks of that project (maybe of this batch) lose their reference.
          if (title === 'drop a project') await ctx.delete('Project', w.aliceProject);
          if (typeof item.object.project !== 'string') continue;
          const seen = touched.get(item.object.project) ?? { count: 0, title: null };
          touched.set(item.object.project, { count: seen.count + (item.kind === 'create' ? 1 : 0), title });
        }
        const projects = await ctx.getMany('Project', touched.keys());
        for (const [id, { count, title }] of touched) {
          const project = projects.get(id);
          if (project) await ctx.update('Project', id, { taskCount: Number(project.taskCount ?? 0) + count, lastTaskTitle: title });
        }
      },
    },
    Project: {
      async afterCommit(project, ctx) {
        if (!project.archived) return;
        if (project.lastTaskTitle !== null) await ctx.update('Project', project.id, { lastTaskTitle: null });
        // Undoes "plan the week": which comes last depends on the order of the calls.
        if (await ctx.get('Task', world.current!.bobTask)) await ctx.update('Task', world.current!.bobTask, { done: false });
      },
    },
  };
}

// Mostly titles the set-based path keeps (a refusal or a data error hands any batch over).
const batches = handlerBatches({
  titles: ['plan the week', 'a refused title', 'x', 'x'.repeat(501), 'missing'],
  newTitles: ['x', 'x', 'y', 'y', 'plan the week', 'plan the week', 'drop a project', 'a refused title', 'missing'],
  projectNames: ['P', 'Renamed'],
  newTaskWeight: 4,
});
