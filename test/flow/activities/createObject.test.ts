import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalObject } from '../../../src/store/types.ts';
import { activity, linear, objectParam, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

describe('createObject', () => {
  it('creates an uncommitted object with the given values (an object goes to an association as its id)', async () => {
    const project = await world.seed('Project', { name: 'Apollo' });
    const flow = linear(
      [activity('make', { type: 'createObject', entity: 'Task', values: { title: "'Launch ' + $project/name", priority: "'high'", project: '$project', estimate: '1.5' }, outputVariable: 'task' })],
      { parameters: [objectParam('project', 'Project')], returnType: T.object('Task'), returnValue: '$task' },
    );
    const session = world.store.session();
    const task = (await world.interpreter().run(flow, { project }, { session })) as LocalObject;
    expect(task).toMatchObject({ $entity: 'Task', title: 'Launch Apollo', priority: 'high', project: project.id, estimate: 1.5, done: null });
    expect(session.isUncommitted(task)).toBe(true);
    expect(await world.store.get('Task', task.id)).toBeUndefined();
  });

  it('commits at once with commit: true', async () => {
    const flow = linear([activity('make', { type: 'createObject', entity: 'Project', values: { name: "'P'" }, outputVariable: 'p', commit: true })], {
      returnType: T.object('Project'),
      returnValue: '$p',
    });
    const p = (await world.interpreter().run(flow)) as LocalObject;
    expect(await world.store.get('Project', p.id)).toMatchObject({ name: 'P' });
    expect(await world.store.pendingChange('Project', p.id)).toMatchObject({ kind: 'create' });
  });

  it('fails with a validation error naming the member when a value does not fit', async () => {
    const flow = linear([activity('make', { type: 'createObject', entity: 'Task', values: { priority: '$p' }, outputVariable: 't' })], {
      parameters: [{ name: 'p', type: T.string }],
    });
    await expect(world.interpreter().run(flow, { p: 'urgent' })).rejects.toMatchObject({
      code: 'validation_failed',
      message: 'Task.priority: must be one of "low", "normal", "high"',
    });
  });

  it('is checked at load: entity, members and value types', () => {
    const flow = linear([
      activity('a', { type: 'createObject', entity: 'Tsk', outputVariable: 'x' }),
      activity('b', { type: 'createObject', entity: 'System.SynchronizationFailure', outputVariable: 'y' }),
      activity('c', { type: 'createObject', entity: 'Task', values: { done: "'no'" }, outputVariable: 'z' }),
    ]);
    expect(problemLines(world, flow)).toEqual([
      'a nodes[1].activity.entity: unknown entity "Tsk" (the schema has Project, Task, Attachment)',
      'b nodes[2].activity.entity: System.SynchronizationFailure is built in: it cannot be used here',
      'c nodes[3].activity.values.done: Task/done is boolean: the expression gives string',
    ]);
  });
});
