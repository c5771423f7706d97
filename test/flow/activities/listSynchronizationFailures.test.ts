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

describe('listSynchronizationFailures', () => {
  it('lists the failures as System.SynchronizationFailure objects', async () => {
    const f = world.failure({ reason: 'rejected', message: 'Title is taken' });
    await world.store.putFailures([f]);
    const flow = linear([list, first], { returnType: T.string, returnValue: "$failure/entity + ' ' + $failure/objectId + ': ' + $failure/message + ' (' + $failure/reason + ')'" });
    expect(await world.interpreter().run(flow)).toBe(`Task ${f.objectId}: Title is taken (rejected)`);
  });

  it('fails when the app provides no list', async () => {
    world.host.listFailures = undefined;
    await expect(world.interpreter().run(linear([list]))).rejects.toMatchObject({ code: 'flow_runtime' });
  });
});
