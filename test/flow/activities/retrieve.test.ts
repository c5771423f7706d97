import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalObject } from '../../../src/store/types.ts';
import type { Activity } from '../../../src/flow/format.ts';
import { activity, linear, objectParam, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
let apollo: LocalObject;
let gemini: LocalObject;
beforeEach(async () => {
  world = await makeWorld();
  apollo = await world.seed('Project', { name: 'Apollo' });
  gemini = await world.seed('Project', { name: 'Gemini' });
  const tasks = [
    ['launch', 'high', 3, apollo, false],
    ['land', 'high', 5, apollo, true],
    ['orbit', 'normal', 2, gemini, false],
    ['dock', 'low', null, gemini, false],
    ['plan', null, 1, null, false],
  ] as const;
  for (const [title, priority, estimate, project, done] of tasks) {
    await world.seed('Task', { title, priority, estimate, project: project?.id ?? null, done });
  }
});
afterEach(() => world.store.close());

type Source = Extract<Activity, { type: 'retrieve' }>['source'];

async function retrieve(source: Source, params: Record<string, unknown> = {}, parameters = [objectParam('project', 'Project')]) {
  const first = source.from === 'database' && source.first;
  const flow = linear([activity('get', { type: 'retrieve', source, outputVariable: 'out' })], {
    parameters,
    returnType: first ? T.object('Task') : source.from === 'association' && !source.association.includes('/') ? T.object('Project') : T.list('Task'),
    returnValue: '$out',
  });
  return world.interpreter().run(flow, params) as Promise<LocalObject | LocalObject[] | null>;
}

const titles = (r: unknown) => (r as LocalObject[]).map((t) => t.title);

describe('retrieve', () => {
  describe('from the offline database', () => {
    it('retrieves by a constraint whose values are expressions (an object means its id)', async () => {
      const r = await retrieve(
        { from: 'database', entity: 'Task', where: { and: [{ attribute: 'project', op: 'eq', value: '$project' }, { attribute: 'done', op: 'eq', value: 'false' }] } },
        { project: apollo },
      );
      expect(titles(r)).toEqual(['launch']);
    });

    it('supports or, not, in, contains, comparisons and empty', async () => {
      const q = (where: Extract<Source, { from: 'database' }>['where']) =>
        retrieve({ from: 'database', entity: 'Task', where, sort: [{ attribute: 'title' }] }, { project: apollo });
      expect(titles(await q({ or: [{ attribute: 'priority', op: 'eq', value: "'low'" }, { attribute: 'estimate', op: 'gte', value: '2 + 2' }] }))).toEqual(['dock', 'land']);
      expect(titles(await q({ not: { attribute: 'project', op: 'ne', value: 'empty' } }))).toEqual(['plan']);
      expect(titles(await q({ attribute: 'priority', op: 'in', value: ["'low'", "'normal'"] }))).toEqual(['dock', 'orbit']);
      expect(titles(await q({ attribute: 'title', op: 'contains', value: "'an'" }))).toEqual(['land', 'plan']);
      expect(titles(await q({ attribute: 'title', op: 'startsWith', value: "'l'" }))).toEqual(['land', 'launch']);
    });

    it('sorts (empty last, first when descending), pages and retrieves the first', async () => {
      expect(titles(await retrieve({ from: 'database', entity: 'Task', sort: [{ attribute: 'priority', direction: 'desc' }, { attribute: 'title' }], limit: 3 }))).toEqual(['plan', 'orbit', 'dock']);
      expect(titles(await retrieve({ from: 'database', entity: 'Task', sort: [{ attribute: 'title' }], offset: '1 + 1', limit: 2 }))).toEqual(['launch', 'orbit']);
      expect(await retrieve({ from: 'database', entity: 'Task', first: true, sort: [{ attribute: 'estimate' }] })).toMatchObject({ title: 'plan' });
      expect(await retrieve({ from: 'database', entity: 'Task', first: true, where: { attribute: 'title', op: 'eq', value: "'nothing'" } })).toBeNull();
    });

    it('returns the session\'s uncommitted version of objects the flow changed', async () => {
      const flow = linear(
        [
          activity('one', { type: 'retrieve', source: { from: 'database', entity: 'Task', first: true, where: { attribute: 'title', op: 'eq', value: "'plan'" } }, outputVariable: 'plan' }),
          activity('ch', { type: 'changeObject', variable: 'plan', values: { estimate: '99' } }),
          activity('all', { type: 'retrieve', source: { from: 'database', entity: 'Task', where: { attribute: 'title', op: 'eq', value: "'plan'" } }, outputVariable: 'again' }),
        ],
        { returnType: T.list('Task'), returnValue: '$again' },
      );
      expect((await world.interpreter().run(flow)) as LocalObject[]).toMatchObject([{ title: 'plan', estimate: 99 }]);
    });

    it('fails on a negative limit', async () => {
      await expect(retrieve({ from: 'database', entity: 'Task', limit: '0 - 1' })).rejects.toMatchObject({ code: 'flow_runtime', message: 'limit must be a whole number >= 0, not -1' });
    });
  });

  describe('over an association', () => {
    it('follows a reference to one object', async () => {
      const [land] = await world.store.query('Task', { where: { attribute: 'title', op: 'eq', value: 'land' } });
      const r = await retrieve({ from: 'association', variable: 'task', association: 'project' }, { task: land }, [objectParam('task', 'Task')]);
      expect(r).toMatchObject({ id: apollo.id, name: 'Apollo' });
      const [plan] = await world.store.query('Task', { where: { attribute: 'title', op: 'eq', value: 'plan' } });
      expect(await retrieve({ from: 'association', variable: 'task', association: 'project' }, { task: plan }, [objectParam('task', 'Task')])).toBeNull();
    });

    it('lists the objects referring to one ("Entity/association")', async () => {
      expect(titles(await retrieve({ from: 'association', variable: 'project', association: 'Task/project' }, { project: gemini })).sort()).toEqual(['dock', 'orbit']);
    });

    it('follows a reference to an object created in the flow and not committed yet', async () => {
      const flow = linear(
        [
          activity('p', { type: 'createObject', entity: 'Project', values: { name: "'New'" }, outputVariable: 'p' }),
          activity('t', { type: 'createObject', entity: 'Task', values: { title: "'t'", project: '$p' }, outputVariable: 't' }),
          activity('get', { type: 'retrieve', source: { from: 'association', variable: 't', association: 'project' }, outputVariable: 'back' }),
        ],
        { returnType: T.string, returnValue: "$back/name + '/' + $t/project/name" },
      );
      expect(await world.interpreter().run(flow)).toBe('New/New');
    });
  });

  it('is checked at load: entity, attributes, operators, values and associations', () => {
    const flow = linear(
      [
        activity('a', { type: 'retrieve', source: { from: 'database', entity: 'Tasks' }, outputVariable: 'a' }),
        activity('b', {
          type: 'retrieve',
          source: {
            from: 'database',
            entity: 'Task',
            where: { and: [{ attribute: 'colour', op: 'eq', value: "'red'" }, { attribute: 'done', op: 'contains', value: "'x'" }, { attribute: 'estimate', op: 'gt', value: "'big'" }, { attribute: 'priority', op: 'in', value: "'low'" }] },
            sort: [{ attribute: 'size' }],
            first: true,
            limit: 2,
          },
          outputVariable: 'b',
        }),
        activity('c', { type: 'retrieve', source: { from: 'association', variable: 'project', association: 'tasks' }, outputVariable: 'c' }),
        activity('d', { type: 'retrieve', source: { from: 'association', variable: 'project', association: 'Attachment/task' }, outputVariable: 'd' }),
      ],
      { parameters: [objectParam('project', 'Project')] },
    );
    expect(problemLines(world, flow)).toEqual([
      'a nodes[1].activity.source.entity: unknown entity "Tasks" (the schema has Project, Task, Attachment)',
      expect.stringContaining('b nodes[2].activity.source.where.and[0].attribute: Task has no member "colour"'),
      'b nodes[2].activity.source.where.and[1].op: "contains" needs a string attribute; Task/done is boolean',
      'b nodes[2].activity.source.where.and[2].value: Task/estimate is decimal: the value is string',
      'b nodes[2].activity.source.where.and[3].value: "in" needs a list of expressions',
      'b nodes[2].activity.source.sort[0].attribute: Task has no member "size"',
      'b nodes[2].activity.source.limit: "first" retrieves one object: leave limit out',
      'c nodes[3].activity.source.association: Project has no association "tasks" (it has none)',
      'd nodes[4].activity.source.association: Attachment/task refers to Task, not Project',
    ]);
  });
});
