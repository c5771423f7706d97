import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NetworkError } from '../../../src/errors.ts';
import { activity, linear, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

const list = activity('list', { type: 'listSynchronizationFailures', outputVariable: 'failures' });
const first = activity('first', { type: 'listOperation', list: 'failures', operation: { op: 'head' }, outputVariable: 'failure' });

describe('retrySynchronizationFailure', () => {
  it('asks the host to retry and tells whether the server applied the change', async () => {
    const f = world.failure();
    await world.store.putFailures([f]);
    const retried: string[] = [];
    const retry = activity('retry', { type: 'retrySynchronizationFailure', variable: 'failure', outputVariable: 'applied' });
    const flow = linear([list, first, retry], { returnType: T.boolean, returnValue: '$applied' });
    world.onRetry = async (id) => {
      retried.push(id);
      return { changeId: f.changeId, status: 'failed', failure: f };
    };
    expect(await world.interpreter().run(flow)).toBe(false);
    world.onRetry = async (id) => {
      retried.push(id);
      return { changeId: f.changeId, status: 'applied', object: null };
    };
    expect(await world.interpreter().run(flow)).toBe(true);
    expect(retried).toEqual([f.id, f.id]);
  });

  it('fails on a network error (catchable)', async () => {
    await world.store.putFailures([world.failure()]);
    world.onRetry = async () => {
      throw new NetworkError('offline');
    };
    const flow = linear([list, first, activity('retry', { type: 'retrySynchronizationFailure', variable: 'failure' })]);
    await expect(world.interpreter().run(flow)).rejects.toBeInstanceOf(NetworkError);
  });
});
