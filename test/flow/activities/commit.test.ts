import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalObject } from '../../../src/store/types.ts';
import { activity, linear, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

const makeProject = activity('p', { type: 'createObject', entity: 'Project', values: { name: "'P'" }, outputVariable: 'project' });
const makeTasks = [
  activity('list', { type: 'createList', entity: 'Task', outputVariable: 'tasks' }),
  activity('t1', { type: 'createObject', entity: 'Task', values: { title: "'one'", project: '$project' }, outputVariable: 'one' }),
  activity('t2', { type: 'createObject', entity: 'Task', values: { title: "'two'" }, outputVariable: 'two' }),
  activity('add', { type: 'changeList', list: 'tasks', operation: 'add', value: '$one' }),
  activity('add2', { type: 'changeList', list: 'tasks', operation: 'add', value: '$two' }),
];

describe('commit', () => {
  it('writes objects and lists to the offline database, marked as local changes', async () => {
    const flow = linear([makeProject, ...makeTasks, activity('save', { type: 'commit', variables: ['project', 'tasks'] })], {
      returnType: T.list('Task'),
      returnValue: '$tasks',
    });
    const session = world.store.session();
    const tasks = (await world.interpreter().run(flow, {}, { session })) as LocalObject[];
    expect(session.uncommitted()).toEqual([]);
    expect((await world.store.query('Task', { sort: [['title', 'asc']] })).map((t) => t.title)).toEqual(['one', 'two']);
    expect(await world.store.query('Project')).toHaveLength(1);
    expect(await world.store.pendingChange('Task', tasks[0].id)).toMatchObject({ kind: 'create' });
  });

  it('writes nothing when an object is invalid, and names the field', async () => {
    const flow = linear(
      [
        makeProject,
        activity('bad', { type: 'createObject', entity: 'Task', outputVariable: 'bad' }),
        activity('save', { type: 'commit', variables: ['project', 'bad'] }, { errorHandling: 'customWithoutRollback' }),
      ],
      { returnType: T.string, returnValue: "'saved'", nodes: [{ id: 'invalid', type: 'end', returnValue: '$latestError/type' }], edges: [{ from: 'save', to: 'invalid', errorHandler: true }] },
    );
    expect(await world.interpreter().run(flow)).toBe('validation_failed');
    expect(await world.store.query('Project')).toEqual([]);
  });

  it('is checked at load: objects or lists of the schema', () => {
    const flow = linear([activity('a', { type: 'commit', variables: ['n', 'ghost'] })], { parameters: [{ name: 'n', type: T.integer }] });
    expect(problemLines(world, flow)).toEqual([
      'a nodes[1].activity.variables[0]: $n is integer: an object or a list of objects of the schema is expected',
      'a nodes[1].activity.variables[1]: unknown variable $ghost',
    ]);
  });
});
