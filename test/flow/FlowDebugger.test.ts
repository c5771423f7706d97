/**
 * The interpreter's step debugger (issue 15): a breakpoint pauses the run before its node with the
 * flow's variables; step over runs a Call flow as one step, step into stops inside it; continue
 * runs to the next breakpoint; aborting a paused run stops it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowDebugger, type PausedStep } from '../../src/flow/FlowDebugger.ts';
import type { Flow } from '../../src/flow/format.ts';
import { activity, linear, T } from './support/flows.ts';
import { makeWorld, type TestWorld } from './support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

const double: Flow = linear([], { name: 'double', parameters: [{ name: 'n', type: T.integer }], returnType: T.integer, returnValue: '$n * 2' });
const main = linear(
  [
    activity('count', { type: 'createVariable', variable: 'count', variableType: T.integer, value: '20' }),
    activity('call', { type: 'callFlow', flow: 'double', parameters: { n: '$count + 1' }, outputVariable: 'r' }),
    activity('add', { type: 'changeVariable', variable: 'count', value: '$r' }),
  ],
  { returnType: T.integer, returnValue: '$count' },
);

/** Runs `main` with a debugger, answering each pause with `answer`; returns where it paused. */
async function debugRun(debug: FlowDebugger, answer: (at: PausedStep) => void) {
  const pauses: Array<Pick<PausedStep, 'flow' | 'nodeId' | 'reason'> & { vars: Record<string, unknown> }> = [];
  debug.onPause((at) => {
    if (!at) return;
    pauses.push({ flow: at.flow, nodeId: at.nodeId, reason: at.reason, vars: { ...at.variables } });
    // Answered later, as a person would: the run waits meanwhile.
    setTimeout(() => answer(at), 5);
  });
  const result = await world.interpreter({ flows: { double } }).run(main, {}, { debug });
  return { result, pauses };
}

describe('FlowDebugger', () => {
  it('pauses at a breakpoint with the variables, and steps over a Call flow', async () => {
    const debug = new FlowDebugger({ breakpoints: ['call'] });
    let steps = 0;
    const { result, pauses } = await debugRun(debug, () => (steps++ < 2 ? debug.stepOver() : debug.continue()));
    expect(result).toBe(42);
    expect(pauses).toEqual([
      { flow: 'test', nodeId: 'call', reason: 'breakpoint', vars: { count: 20 } },
      { flow: 'test', nodeId: 'add', reason: 'step', vars: { count: 20, r: 42 } },
      { flow: 'test', nodeId: 'end', reason: 'step', vars: { count: 42, r: 42 } },
    ]);
  });

  it('steps into a called flow, and out to its caller', async () => {
    const debug = new FlowDebugger({ breakpoints: ['call'] });
    const { pauses } = await debugRun(debug, (at) => (at.flow === 'double' && at.nodeId === 'end' ? debug.stepOver() : at.nodeId === 'add' ? debug.continue() : debug.stepInto()));
    expect(pauses.map((p) => `${p.flow}:${p.nodeId}`)).toEqual(['test:call', 'double:start', 'double:end', 'test:add']);
    expect(pauses[1].vars).toEqual({ n: 21 });
  });

  it('pauses at the start when asked, by flow:node breakpoints, and a paused run can be stopped', async () => {
    const debug = new FlowDebugger({ pauseAtStart: true, breakpoints: ['double:end'] });
    const { pauses } = await debugRun(debug, () => debug.continue());
    expect(pauses.map((p) => `${p.flow}:${p.nodeId}:${p.reason}`)).toEqual(['test:start:step', 'double:end:breakpoint']);

    const stopper = new FlowDebugger({ breakpoints: ['add'] });
    const controller = new AbortController();
    stopper.onPause((at) => at && controller.abort(new Error('stopped')));
    await expect(world.interpreter({ flows: { double } }).run(main, {}, { debug: stopper, signal: controller.signal })).rejects.toMatchObject({ code: 'flow_cancelled' });
  });
});
