import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Activity } from '../../../src/flow/format.ts';
import type { LocalObject } from '../../../src/store/types.ts';
import { activity, linear, listParam, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
let tasks: LocalObject[];
beforeEach(async () => {
  world = await makeWorld();
  tasks = [];
  for (const [title, estimate, done] of [['c', 2, false], ['a', null, true], ['b', 2, false], ['d', 1, true]] as const) {
    tasks.push(await world.seed('Task', { title, estimate, done }));
  }
});
afterEach(() => world.store.close());

type Op = Extract<Activity, { type: 'listOperation' }>['operation'];

async function listOp(operation: Op): Promise<unknown> {
  const one = operation.op === 'find' || operation.op === 'head';
  const flow = linear([activity('op', { type: 'listOperation', list: 'tasks', operation, outputVariable: 'out' })], {
    parameters: [listParam('tasks', 'Task')],
    returnType: one ? T.object('Task') : T.list('Task'),
    returnValue: '$out',
  });
  return world.interpreter().run(flow, { tasks });
}
const titles = (r: unknown) => (r as LocalObject[]).map((t) => t.title);

describe('listOperation', () => {
  it('filters by a condition on $currentObject (empty counts as false)', async () => {
    expect(titles(await listOp({ op: 'filter', expression: 'not $currentObject/done and $currentObject/estimate >= 2' }))).toEqual(['c', 'b']);
    expect(titles(await listOp({ op: 'filter', expression: '$currentObject/estimate > 1' }))).toEqual(['c', 'b']);
  });

  it('finds the first match, or empty', async () => {
    expect(await listOp({ op: 'find', expression: '$currentObject/done' })).toMatchObject({ title: 'a' });
    expect(await listOp({ op: 'find', expression: "$currentObject/title = 'z'" })).toBeNull();
  });

  it('sorts by attributes, stably, empty last', async () => {
    expect(titles(await listOp({ op: 'sort', by: [{ attribute: 'estimate' }] }))).toEqual(['d', 'c', 'b', 'a']);
    expect(titles(await listOp({ op: 'sort', by: [{ attribute: 'estimate', direction: 'desc' }, { attribute: 'title' }] }))).toEqual(['a', 'b', 'c', 'd']);
    expect(titles(await listOp({ op: 'sort', by: [{ attribute: 'done' }, { attribute: 'title', direction: 'desc' }] }))).toEqual(['c', 'b', 'd', 'a']);
  });

  it('takes the head and the tail', async () => {
    expect(await listOp({ op: 'head' })).toMatchObject({ title: 'c' });
    expect(titles(await listOp({ op: 'tail' }))).toEqual(['a', 'b', 'd']);
  });

  it('leaves the list itself unchanged', async () => {
    const flow = linear([activity('op', { type: 'listOperation', list: 'tasks', operation: { op: 'tail' }, outputVariable: 'rest' })], {
      parameters: [listParam('tasks', 'Task')],
      returnType: T.list('Task'),
      returnValue: '$tasks',
    });
    expect(titles(await world.interpreter().run(flow, { tasks }))).toEqual(['c', 'a', 'b', 'd']);
  });

  it('is checked at load', () => {
    const flow = linear(
      [
        activity('a', { type: 'listOperation', list: 'tasks', operation: { op: 'filter', expression: '$currentObject/title' }, outputVariable: 'a' }),
        activity('b', { type: 'listOperation', list: 'tasks', operation: { op: 'sort', by: [{ attribute: 'size' }] }, outputVariable: 'b' }),
        activity('c', { type: 'listOperation', list: 'n', operation: { op: 'head' }, outputVariable: 'c' }),
        activity('d', { type: 'createVariable', variable: 'd', variableType: T.boolean, value: '$currentObject/done' }),
      ],
      { parameters: [listParam('tasks', 'Task'), { name: 'n', type: T.integer }] },
    );
    expect(problemLines(world, flow)).toEqual([
      'a nodes[1].activity.operation.expression: must be boolean, but the expression gives string',
      'b nodes[2].activity.operation.by[0].attribute: Task has no member "size"',
      'c nodes[3].activity.list: $n is integer: a list is expected',
      'd nodes[4].activity.value: $currentObject exists only in the condition of a list filter or find (at 0)',
    ]);
  });
});
