import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activity, linear, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

const list = activity('list', { type: 'listSynchronizationFailures', outputVariable: 'failures' });
const first = activity('first', { type: 'listOperation', list: 'failures', operation: { op: 'head' }, outputVariable: 'failure' });

describe('dismissSynchronizationFailure', () => {
  it('dismisses the failure; its variable becomes empty', async () => {
    await world.store.putFailures([world.failure()]);
    const flow = linear([list, first, activity('dismiss', { type: 'dismissSynchronizationFailure', variable: 'failure' })], {
      returnType: T.string,
      returnValue: "toString($failure = empty) + '|' + toString(length($failures))",
    });
    expect(await world.interpreter().run(flow)).toBe('true|0');
    expect(await world.store.listFailures()).toEqual([]);
  });

  it('is checked at load: a SynchronizationFailure variable', () => {
    const flow = linear([activity('d', { type: 'dismissSynchronizationFailure', variable: 'task' }), activity('r', { type: 'retrySynchronizationFailure', variable: 'task' })], {
      parameters: [{ name: 'task', type: T.object('Task') }],
    });
    expect(problemLines(world, flow)).toEqual([
      'd nodes[1].activity.variable: $task is Task: a System.SynchronizationFailure is expected',
      'r nodes[2].activity.variable: $task is Task: a System.SynchronizationFailure is expected',
    ]);
  });
});
