import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NetworkError } from '../../../src/errors.ts';
import { activity, linear, objectParam, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

describe('callJavaScriptAction', () => {
  it('awaits the app\'s action with the evaluated arguments and keeps its result', async () => {
    const calls: unknown[] = [];
    world.host.actions = {
      distance: async (args, context) => {
        calls.push({ args, flow: context.flow });
        await new Promise((r) => setTimeout(r, 5));
        return (args.a as number) + (args.b as number);
      },
    };
    const flow = linear([activity('call', { type: 'callJavaScriptAction', action: 'distance', arguments: { a: '1', b: '2 * 3' }, outputVariable: 'd', returnType: T.integer })], {
      returnType: T.integer,
      returnValue: '$d',
    });
    expect(await world.interpreter().run(flow)).toBe(7);
    expect(calls).toEqual([{ args: { a: 1, b: 6 }, flow: 'test' }]);
  });

  it('passes objects and gets objects back', async () => {
    const task = await world.seed('Task', { title: 't' });
    world.host.actions = { same: (args) => args.task };
    const flow = linear([activity('call', { type: 'callJavaScriptAction', action: 'same', arguments: { task: '$task' }, outputVariable: 'back', returnType: T.object('Task') })], {
      parameters: [objectParam('task', 'Task')],
      returnType: T.string,
      returnValue: '$back/title',
    });
    expect(await world.interpreter().run(flow, { task })).toBe('t');
  });

  it('checks the result against the declared return type', async () => {
    world.host.actions = { wrong: () => 'five' };
    const flow = linear([activity('call', { type: 'callJavaScriptAction', action: 'wrong', outputVariable: 'n', returnType: T.integer })]);
    await expect(world.interpreter().run(flow)).rejects.toMatchObject({ code: 'flow_runtime', message: '$n must be an integer, not "five"' });
  });

  it('keeps the code of a SyncflowError the action throws, and wraps other errors', async () => {
    world.host.actions = {
      offline: () => Promise.reject(new NetworkError('no network')),
      buggy: () => {
        throw new TypeError('x is undefined');
      },
    };
    const run = (action: string) =>
      world.interpreter().run(
        linear([activity('call', { type: 'callJavaScriptAction', action }, { errorHandling: 'continue' })], {
          returnType: T.string,
          returnValue: "$latestError/type + ': ' + $latestError/message",
        }),
      );
    expect(await run('offline')).toBe('network: no network');
    expect(await run('buggy')).toBe('flow_runtime: JavaScript action "buggy" failed: x is undefined');
    expect(await run('missing')).toBe('flow_runtime: no JavaScript action "missing" is registered');
  });

  it('is checked at load: argument expressions and the return type', () => {
    const flow = linear([activity('call', { type: 'callJavaScriptAction', action: 'x', arguments: { a: '$nope' }, returnType: T.list('Nope') })]);
    expect(problemLines(world, flow)).toEqual([
      'call nodes[1].activity.returnType.entity: unknown entity "Nope" (the schema has Project, Task, Attachment)',
      'call nodes[1].activity.arguments.a: unknown variable $nope (at 0)',
    ]);
  });
});
