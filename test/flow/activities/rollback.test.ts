import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activity, linear, objectParam, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

describe('rollback', () => {
  it('reverts a changed object to its committed version and empties the variables of a new one', async () => {
    const task = await world.seed('Task', { title: 'committed' });
    const flow = linear(
      [
        activity('ch', { type: 'changeObject', variable: 'task', values: { title: "'changed'" } }),
        activity('mk', { type: 'createObject', entity: 'Task', values: { title: "'new'" }, outputVariable: 'fresh' }),
        activity('list', { type: 'createList', entity: 'Task', outputVariable: 'all' }),
        activity('add', { type: 'changeList', list: 'all', operation: 'add', value: '$fresh' }),
        activity('add2', { type: 'changeList', list: 'all', operation: 'add', value: '$task' }),
        activity('rb', { type: 'rollback', variables: ['task', 'fresh'] }),
      ],
      { parameters: [objectParam('task', 'Task')], returnType: T.string, returnValue: "$task/title + '|' + toString($fresh = empty) + '|' + toString(length($all))" },
    );
    const session = world.store.session();
    expect(await world.interpreter().run(flow, { task }, { session })).toBe('committed|true|1');
    expect(session.uncommitted()).toEqual([]);
  });

  it('leaves committed objects alone', async () => {
    const task = await world.seed('Task', { title: 'committed' });
    const flow = linear([activity('rb', { type: 'rollback', variables: ['task'] })], { parameters: [objectParam('task', 'Task')], returnType: T.object('Task'), returnValue: '$task' });
    expect(await world.interpreter().run(flow, { task })).toBe(task);
  });

  it('is checked at load', () => {
    expect(problemLines(world, linear([activity('rb', { type: 'rollback', variables: ['x'] })]))).toEqual(['rb nodes[1].activity.variables[0]: unknown variable $x']);
  });
});
