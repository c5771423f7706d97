import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activity, linear } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

describe('showMessage', () => {
  it('delivers the message to the app\'s handler, and waits for it', async () => {
    const order: string[] = [];
    world.host.showMessage = async (m) => {
      order.push(`shown ${m.type}: ${m.text}`);
      await new Promise((r) => setTimeout(r, 5));
      order.push('closed');
    };
    const flow = linear([activity('show', { type: 'showMessage', messageType: 'warning', message: "'Careful'" }), activity('log', { type: 'logMessage', message: "'after'" })]);
    await world.interpreter().run(flow);
    expect(order).toEqual(['shown warning: Careful', 'closed']);
    expect(world.events.filter((e) => e.type === 'message')).toMatchObject([{ nodeId: 'show', messageType: 'warning', text: 'Careful' }]);
  });

  it('defaults to info, and works without a handler', async () => {
    world.host.showMessage = undefined;
    await world.interpreter().run(linear([activity('show', { type: 'showMessage', message: "'hi'" })]));
    expect(world.events.find((e) => e.type === 'message')).toMatchObject({ messageType: 'info', text: 'hi' });
  });

  it('is checked at load', () => {
    expect(problemLines(world, linear([activity('show', { type: 'showMessage', message: "'a' +" })]))).toEqual([
      'show nodes[1].activity.message: Expected an expression at 5, found the end',
    ]);
  });
});
