import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activity, linear, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

describe('createList', () => {
  it('creates an empty list', async () => {
    const flow = linear([activity('l', { type: 'createList', entity: 'Task', outputVariable: 'l' })], { returnType: T.list('Task'), returnValue: '$l' });
    expect(await world.interpreter().run(flow)).toEqual([]);
  });

  it('may hold built-in objects, and is checked at load', () => {
    expect(problemLines(world, linear([activity('l', { type: 'createList', entity: 'System.SynchronizationFailure', outputVariable: 'l' })]))).toEqual([]);
    expect(problemLines(world, linear([activity('l', { type: 'createList', entity: 'Nope', outputVariable: 'l' })]))).toEqual([
      'l nodes[1].activity.entity: unknown entity "Nope" (the schema has Project, Task, Attachment)',
    ]);
  });
});
