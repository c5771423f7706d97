import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Flow } from '../../../src/flow/format.ts';
import { activity, linear, T } from '../support/flows.ts';
import { makeWorld, problemLines, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

const greet: Flow = linear([], { name: 'greet', parameters: [{ name: 'who', type: T.string }], returnType: T.string, returnValue: "'Hello ' + $who" });

describe('callFlow', () => {
  it('runs the sub-flow with parameters and keeps its return value', async () => {
    const flow = linear([activity('call', { type: 'callFlow', flow: 'greet', parameters: { who: "'Ada'" }, outputVariable: 'msg' })], { returnType: T.string, returnValue: '$msg' });
    expect(await world.interpreter({ flows: { greet } }).run(flow)).toBe('Hello Ada');
  });

  it('loads the sub-flow through the host when the interpreter does not know it', async () => {
    world.host.loadFlow = async (name) => (name === 'greet' ? greet : undefined);
    const flow = linear([activity('call', { type: 'callFlow', flow: 'greet', parameters: { who: "'Bo'" }, outputVariable: 'msg' })], { returnType: T.string, returnValue: '$msg' });
    expect(await world.interpreter().run(flow)).toBe('Hello Bo');
  });

  it('fails (catchably) when the parameters do not fit the sub-flow', async () => {
    const flow = linear([activity('call', { type: 'callFlow', flow: 'greet', parameters: { who: '42' }, outputVariable: 'msg' }, { errorHandling: 'continue' })], {
      returnType: T.string,
      returnValue: "$latestError/type + ': ' + $latestError/message",
    });
    // Without the flows at load time the call is checked when it runs.
    world.host.loadFlow = async () => greet;
    expect(await world.interpreter().run(flow)).toBe('validation_failed: parameters.who: parameter "who" must be a string, not 42');
  });

  it('fails for an unknown flow', async () => {
    const flow = linear([activity('call', { type: 'callFlow', flow: 'ghost' })]);
    await expect(world.interpreter().run(flow)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('is checked at load against the flows the interpreter knows', () => {
    const flow = linear([activity('call', { type: 'callFlow', flow: 'greet', parameters: { whom: "'x'" } })]);
    const problems = world.interpreter({ flows: { greet } }).validate(flow).problems.map((p) => p.message);
    expect(problems).toEqual(['flow "greet" has no parameter "whom"', 'parameter "who" of flow "greet" is not given']);
    expect(problemLines(world, flow)).toEqual([]);
  });
});
