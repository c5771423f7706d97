import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activity, linear, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

describe('changeVariable', () => {
  it('assigns a new value and tells observers', async () => {
    const flow = linear(
      [activity('a', { type: 'createVariable', variable: 'n', variableType: T.integer, value: '1' }), activity('b', { type: 'changeVariable', variable: 'n', value: '$n + 41' })],
      { returnType: T.integer, returnValue: '$n' },
    );
    expect(await world.interpreter().run(flow)).toBe(42);
    expect(world.events.filter((e) => e.type === 'variableChanged').map((e) => e.type === 'variableChanged' && [e.nodeId, e.name, e.value])).toEqual([
      ['a', 'n', 1],
      ['b', 'n', 42],
    ]);
  });

  it('may change a parameter', async () => {
    const flow = linear([activity('b', { type: 'changeVariable', variable: 's', value: "$s + '!'" })], { parameters: [{ name: 's', type: T.string }], returnType: T.string, returnValue: '$s' });
    expect(await world.interpreter().run(flow, { s: 'hi' })).toBe('hi!');
  });

  it('is checked at load', () => {
    const flow = linear([activity('a', { type: 'createVariable', variable: 'n', variableType: T.integer }), activity('b', { type: 'changeVariable', variable: 'n', value: '2.5' }), activity('c', { type: 'changeVariable', variable: 'm', value: '1' })]);
    expect(problemLines(world, flow)).toEqual(['b nodes[2].activity.value: $n is integer: the value is decimal', 'c nodes[3].activity.variable: unknown variable $m']);
  });
});
