import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activity, linear, objectParam } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

describe('logMessage', () => {
  it('hands the message to the host\'s log and to observers', async () => {
    const flow = linear([activity('log', { type: 'logMessage', level: 'warning', message: "'count: ' + toString(1 + 1)" }), activity('log2', { type: 'logMessage', message: "'plain'" })]);
    await world.interpreter().run(flow);
    expect(world.logs).toEqual([
      ['warning', 'count: 2'],
      ['info', 'plain'],
    ]);
    expect(world.events.filter((e) => e.type === 'log')).toMatchObject([
      { nodeId: 'log', level: 'warning', text: 'count: 2' },
      { nodeId: 'log2', level: 'info', text: 'plain' },
    ]);
  });

  it('is checked at load: messages are text', () => {
    expect(problemLines(world, linear([activity('log', { type: 'logMessage', message: '$task' })], { parameters: [objectParam('task', 'Task')] }))).toEqual([
      'log nodes[1].activity.message: a message is text, not Task (use toString or read an attribute)',
    ]);
  });
});
