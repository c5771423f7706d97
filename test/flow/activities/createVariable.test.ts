import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activity, linear, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

describe('createVariable', () => {
  it('creates a variable with its initial value, empty without one', async () => {
    const flow = linear(
      [
        activity('a', { type: 'createVariable', variable: 'n', variableType: T.decimal, value: '1 + 1' }),
        activity('b', { type: 'createVariable', variable: 's', variableType: T.string }),
        activity('c', { type: 'createVariable', variable: 'l', variableType: T.list('Task') }),
        activity('d', { type: 'createVariable', variable: 'p', variableType: { type: 'enum', values: ['x', 'y'] }, value: "'y'" }),
      ],
      { returnType: T.string, returnValue: "toString($n) + '|' + toString($s = empty) + '|' + toString(length($l)) + '|' + $p" },
    );
    expect(await world.interpreter().run(flow)).toBe('2|true|0|y');
  });

  it('checks a value whose type is known only when it runs', async () => {
    world.host.actions = { text: () => 'not a number' };
    const flow = linear([
      activity('a', { type: 'callJavaScriptAction', action: 'text', outputVariable: 'raw' }),
      activity('b', { type: 'createVariable', variable: 'n', variableType: T.integer, value: '$raw' }),
    ]);
    await expect(world.interpreter().run(flow)).rejects.toMatchObject({ code: 'flow_runtime', message: '$n must be an integer, not "not a number"' });
  });

  it('is checked at load', () => {
    const flow = linear([
      activity('a', { type: 'createVariable', variable: 'n', variableType: T.integer, value: "'1'" }),
      activity('b', { type: 'createVariable', variable: 'o', variableType: T.object('Nope') }),
    ]);
    expect(problemLines(world, flow)).toEqual([
      'a nodes[1].activity.value: $n is integer: the value is string',
      'b nodes[2].activity.variableType.entity: unknown entity "Nope" (the schema has Project, Task, Attachment)',
    ]);
  });
});
