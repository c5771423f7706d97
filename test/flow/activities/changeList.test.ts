import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LocalObject } from '../../../src/store/types.ts';
import { activity, linear, listParam, objectParam, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
let a: LocalObject;
let b: LocalObject;
let c: LocalObject;
beforeEach(async () => {
  world = await makeWorld();
  [a, b, c] = [await world.seed('Task', { title: 'a' }), await world.seed('Task', { title: 'b' }), await world.seed('Task', { title: 'c' })];
});
afterEach(() => world.store.close());

async function change(operation: 'add' | 'remove' | 'clear' | 'set', value: string | undefined, list: LocalObject[]) {
  const flow = linear([activity('ch', { type: 'changeList', list: 'list', operation, ...(value ? { value } : {}) })], {
    parameters: [listParam('list', 'Task'), objectParam('one', 'Task'), listParam('more', 'Task')],
    returnType: T.list('Task'),
    returnValue: '$list',
  });
  const out = (await world.interpreter().run(flow, { list, one: c, more: [a, c] })) as LocalObject[];
  return out.map((o) => o.title);
}

describe('changeList', () => {
  it('adds an object or a list\'s objects, each once', async () => {
    expect(await change('add', '$one', [a, b])).toEqual(['a', 'b', 'c']);
    expect(await change('add', '$more', [a, b])).toEqual(['a', 'b', 'c']);
    expect(await change('add', '$one', [c])).toEqual(['c']);
  });

  it('removes, clears and replaces', async () => {
    expect(await change('remove', '$more', [a, b, c])).toEqual(['b']);
    expect(await change('clear', undefined, [a, b])).toEqual([]);
    expect(await change('set', '$more', [b])).toEqual(['a', 'c']);
  });

  it('is checked at load', () => {
    const flow = linear(
      [
        activity('a', { type: 'changeList', list: 'list', operation: 'add' }),
        activity('b', { type: 'changeList', list: 'list', operation: 'clear', value: '$one' }),
        activity('c', { type: 'changeList', list: 'list', operation: 'add', value: '$project' }),
        activity('d', { type: 'changeList', list: 'list', operation: 'set', value: '$one' }),
      ],
      { parameters: [listParam('list', 'Task'), objectParam('one', 'Task'), objectParam('project', 'Project')] },
    );
    expect(problemLines(world, flow)).toEqual([
      'a nodes[1].activity.value: add needs a value',
      'b nodes[2].activity.value: clear takes no value',
      'c nodes[3].activity.value: expected an object or a list of Task, not Project',
      'd nodes[4].activity.value: expected a list of Task, not Task',
    ]);
  });
});
