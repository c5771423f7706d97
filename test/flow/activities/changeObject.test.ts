import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalObject } from '../../../src/store/types.ts';
import { activity, linear, listParam, objectParam, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

describe('changeObject', () => {
  it('changes members uncommitted and re-points every variable and list holding the object', async () => {
    const task = await world.seed('Task', { title: 'old', done: false });
    const other = await world.seed('Task', { title: 'other' });
    const flow = linear([activity('ch', { type: 'changeObject', variable: 'task', values: { title: "$task/title + '!'", done: 'true' } })], {
      parameters: [objectParam('task', 'Task'), listParam('tasks', 'Task')],
      returnType: T.list('Task'),
      returnValue: '$tasks',
    });
    const session = world.store.session();
    const [first, second] = (await world.interpreter().run(flow, { task, tasks: [task, other] }, { session })) as LocalObject[];
    expect(first).toMatchObject({ id: task.id, title: 'old!', done: true });
    expect(second).toBe(other);
    expect(session.isUncommitted(task)).toBe(true);
    expect((await world.store.get('Task', task.id))?.title).toBe('old');
  });

  it('commits at once with commit: true', async () => {
    const task = await world.seed('Task', { title: 'old' });
    const flow = linear([activity('ch', { type: 'changeObject', variable: 'task', values: { title: "'new'" }, commit: true })], {
      parameters: [objectParam('task', 'Task')],
    });
    await world.interpreter().run(flow, { task });
    expect((await world.store.get('Task', task.id))?.title).toBe('new');
    // Never synchronized: the change stays a create (with the new title).
    expect(await world.store.pendingChange('Task', task.id)).toMatchObject({ kind: 'create' });
  });

  it('fails on an empty variable', async () => {
    const flow = linear([activity('ch', { type: 'changeObject', variable: 'task', values: { title: "'x'" } })], { parameters: [objectParam('task', 'Task')] });
    await expect(world.interpreter().run(flow, { task: null })).rejects.toMatchObject({ code: 'flow_runtime', message: '$task is empty' });
  });

  it('is checked at load: an object variable and at least one member', () => {
    const flow = linear(
      [
        activity('a', { type: 'changeObject', variable: 'n', values: { title: "'x'" } }),
        activity('b', { type: 'changeObject', variable: 'task', values: {} }),
        activity('c', { type: 'changeObject', variable: 'task', values: { titel: "'x'" } }),
      ],
      { parameters: [{ name: 'n', type: T.integer }, objectParam('task', 'Task')] },
    );
    expect(problemLines(world, flow)).toEqual([
      'a nodes[1].activity.variable: $n is integer: an object is expected',
      'b nodes[2].activity.values: name at least one member to change',
      expect.stringContaining('c nodes[3].activity.values.titel: Task has no member "titel"'),
    ]);
  });
});
