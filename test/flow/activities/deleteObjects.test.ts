import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activity, linear, listParam, objectParam, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

describe('delete', () => {
  it('deletes objects at once; their variables become empty and lists lose them', async () => {
    const a = await world.seed('Task', { title: 'a' });
    const b = await world.seed('Task', { title: 'b' });
    const c = await world.seed('Task', { title: 'c' });
    const flow = linear([activity('del', { type: 'delete', variables: ['task', 'more'] })], {
      parameters: [objectParam('task', 'Task'), listParam('more', 'Task'), listParam('all', 'Task')],
      returnType: T.string,
      returnValue: "toString($task = empty) + '|' + toString(length($more)) + '|' + toString(length($all))",
    });
    expect(await world.interpreter().run(flow, { task: a, more: [b], all: [a, b, c] })).toBe('true|0|1');
    expect((await world.store.query('Task')).map((t) => t.title)).toEqual(['c']);
    // Synchronized objects leave a pending delete; these were never uploaded, so their creates are simply dropped.
    expect(await world.store.pendingChange('Task', a.id)).toBeUndefined();
  });

  it('is checked at load', () => {
    const flow = linear([activity('del', { type: 'delete', variables: ['e'] })], { parameters: [objectParam('e', 'System.Error')] });
    expect(problemLines(world, flow)).toEqual(['del nodes[1].activity.variables[0]: $e is System.Error: an object or a list of objects of the schema is expected']);
  });
});
