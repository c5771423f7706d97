import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalObject } from '../../../src/store/types.ts';
import { activity, linear, listParam, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
let tasks: LocalObject[];
beforeEach(async () => {
  world = await makeWorld();
  tasks = [];
  for (const [title, estimate, due] of [['a', 2, '2024-03-01T00:00:00.000Z'], ['b', null, null], ['c', 3.5, '2024-01-01T00:00:00.000Z']] as const) {
    tasks.push(await world.seed('Task', { title, estimate, due }));
  }
});
afterEach(() => world.store.close());

async function aggregate(fn: 'count' | 'sum' | 'average' | 'min' | 'max', attribute: string | undefined, list: LocalObject[], returnType = T.decimal as { type: string }) {
  const flow = linear([activity('agg', { type: 'aggregateList', list: 'tasks', function: fn, ...(attribute ? { attribute } : {}), outputVariable: 'out' })], {
    parameters: [listParam('tasks', 'Task')],
    returnType: returnType as never,
    returnValue: '$out',
  });
  return world.interpreter().run(flow, { tasks: list });
}

describe('aggregateList', () => {
  it('counts the objects', async () => {
    expect(await aggregate('count', undefined, tasks, T.integer)).toBe(3);
    expect(await aggregate('count', undefined, [], T.integer)).toBe(0);
  });

  it('sums and averages an attribute, leaving empty values out', async () => {
    expect(await aggregate('sum', 'estimate', tasks)).toBe(5.5);
    expect(await aggregate('average', 'estimate', tasks)).toBe(2.75);
    expect(await aggregate('sum', 'estimate', [])).toBe(0);
    expect(await aggregate('average', 'estimate', [])).toBeNull();
  });

  it('finds the minimum and maximum of numbers and datetimes', async () => {
    expect(await aggregate('min', 'estimate', tasks)).toBe(2);
    expect(await aggregate('max', 'estimate', tasks)).toBe(3.5);
    expect(await aggregate('min', 'due', tasks, T.datetime)).toBe('2024-01-01T00:00:00.000Z');
    expect(await aggregate('max', 'due', tasks, T.datetime)).toBe('2024-03-01T00:00:00.000Z');
    expect(await aggregate('max', 'estimate', [])).toBeNull();
  });

  it('is checked at load', () => {
    const flow = linear(
      [
        activity('a', { type: 'aggregateList', list: 'tasks', function: 'sum', outputVariable: 'a' }),
        activity('b', { type: 'aggregateList', list: 'tasks', function: 'average', attribute: 'title', outputVariable: 'b' }),
        activity('c', { type: 'aggregateList', list: 'tasks', function: 'count', attribute: 'title', outputVariable: 'c' }),
        activity('d', { type: 'aggregateList', list: 'tasks', function: 'sum', attribute: 'due', outputVariable: 'd' }),
        activity('e', { type: 'createVariable', variable: 'e', variableType: T.integer, value: '$d' }),
      ],
      { parameters: [listParam('tasks', 'Task')] },
    );
    expect(problemLines(world, flow)).toEqual([
      'a nodes[1].activity.attribute: sum needs an attribute',
      'b nodes[2].activity.attribute: cannot take the average of string Task/title',
      'c nodes[3].activity.attribute: count counts objects: leave the attribute out',
      'd nodes[4].activity.attribute: cannot take the sum of datetime Task/due',
      'e nodes[5].activity.value: $e is integer: the value is datetime',
    ]);
  });
});
