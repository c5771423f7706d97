import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowValidationError, NetworkError, SimultaneousSyncError, SyncflowError, ValidationError } from '../../src/errors.ts';
import type { Flow } from '../../src/flow/format.ts';
import { runFlow } from '../../src/flow/Interpreter.ts';
import type { FlowEvent } from '../../src/flow/types.ts';
import { activity, linear, T } from './support/flows.ts';
import { makeWorld, type TestWorld } from './support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

const counter = activity('count', { type: 'createVariable', variable: 'count', variableType: T.integer, value: '0' });
const inc = (id: string, parent?: string) => ({ ...activity(id, { type: 'changeVariable', variable: 'count', value: '$count + 1' }), ...(parent ? { parent } : {}) });

/** A flow retrieving all tasks (sorted by title) and looping over them; `body` nodes have parent "loop". */
function loopOverTasks(body: Flow['nodes'], bodyEdges: Flow['edges'], returnValue = '$count'): Flow {
  return linear(
    [
      activity('get', { type: 'retrieve', source: { from: 'database', entity: 'Task', sort: [{ attribute: 'title' }] }, outputVariable: 'tasks' }),
      counter,
      { id: 'loop', type: 'loop', list: 'tasks', iterator: 'task' },
    ],
    { returnType: T.integer, returnValue, nodes: body.map((n) => ({ ...n, parent: n.parent ?? 'loop' })), edges: bodyEdges },
  );
}

describe('Interpreter', () => {
  describe('running a flow', () => {
    it('runs from start to end and returns the end node\'s value', async () => {
      const flow = linear([counter, inc('a'), inc('b')], { returnType: T.integer, returnValue: '$count * 10' });
      expect(await world.interpreter().run(flow)).toBe(20);
    });

    it('runs a flow by name from its flows, and through the host loader', async () => {
      const flow = linear([], { name: 'answer', returnType: T.integer, returnValue: '42' });
      expect(await world.interpreter({ flows: { answer: flow } }).run('answer')).toBe(42);
      world.host.loadFlow = async (name) => (name === 'answer' ? flow : undefined);
      expect(await world.interpreter().run('answer')).toBe(42);
      await expect(world.interpreter().run('nope')).rejects.toMatchObject({ code: 'not_found', message: 'Unknown flow "nope"' });
    });

    it('never starts an invalid flow', async () => {
      const flow = linear([inc('inc')]);
      await expect(world.interpreter().run(flow)).rejects.toBeInstanceOf(FlowValidationError);
      expect(world.events).toEqual([]);
    });

    it('checks parameters against their types', async () => {
      const flow = linear([], {
        parameters: [
          { name: 'n', type: T.integer },
          { name: 'task', type: T.object('Task') },
          { name: 'when', type: T.datetime },
        ],
        returnType: T.datetime,
        returnValue: '$when',
      });
      const interpreter = world.interpreter();
      const error = await interpreter.run(flow, { n: 1.5, task: { id: 'x' }, extra: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems).toEqual([
        { path: 'parameters.extra', message: 'flow "test" has no such parameter' },
        { path: 'parameters.n', message: 'parameter "n" must be an integer, not 1.5' },
        { path: 'parameters.task', message: 'parameter "task" must be a Task, not {"id":"x"}' },
      ]);
      // A missing parameter is empty; a Date becomes an ISO string.
      expect(await interpreter.run(flow, { when: new Date('2024-01-02T03:04:05Z') })).toBe('2024-01-02T03:04:05.000Z');
    });

    it('is a function too', async () => {
      expect(await runFlow(world.host, linear([], { returnType: T.string, returnValue: "'hi'" }))).toBe('hi');
    });
  });

  describe('decisions and merges', () => {
    const decideOn = (expression: string, cases: Array<[boolean | string | null, string]>, parameters: Flow['parameters']): Flow => ({
      name: 'decide',
      parameters,
      returnType: T.string,
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'd', type: 'decision', expression },
        ...cases.map(([, value], i) => ({ id: `e${i}`, type: 'end' as const, returnValue: `'${value}'` })),
      ],
      edges: [{ from: 'start', to: 'd' }, ...cases.map(([c], i) => ({ from: 'd', to: `e${i}`, case: c }))],
    });

    it('takes the edge of the boolean value; empty counts as false', async () => {
      const flow = decideOn('$flag', [[true, 'yes'], [false, 'no']], [{ name: 'flag', type: T.boolean }]);
      const interpreter = world.interpreter();
      expect(await interpreter.run(flow, { flag: true })).toBe('yes');
      expect(await interpreter.run(flow, { flag: false })).toBe('no');
      expect(await interpreter.run(flow, { flag: null })).toBe('no');
    });

    it('takes the edge of the enumeration value, and the null case for empty', async () => {
      const flow = decideOn(
        '$task/priority',
        [['low', 'L'], ['normal', 'N'], ['high', 'H'], [null, 'none']],
        [{ name: 'task', type: T.object('Task') }],
      );
      const interpreter = world.interpreter();
      expect(await interpreter.run(flow, { task: await world.seed('Task', { title: 'a', priority: 'high' }) })).toBe('H');
      expect(await interpreter.run(flow, { task: await world.seed('Task', { title: 'b' }) })).toBe('none');
    });

    it('fails when no edge fits the value', async () => {
      const flow = decideOn('$task/priority', [['low', 'L'], ['normal', 'N'], ['high', 'H']], [{ name: 'task', type: T.object('Task') }]);
      await expect(world.interpreter().run(flow, { task: await world.seed('Task', { title: 'b' }) })).rejects.toMatchObject({
        code: 'flow_runtime',
        message: 'Decision "d" has no edge for the value null',
      });
    });

    it('joins paths at a merge', async () => {
      const flow: Flow = {
        name: 'merge',
        parameters: [{ name: 'flag', type: T.boolean }],
        returnType: T.integer,
        nodes: [
          { id: 'start', type: 'start' },
          counter,
          { id: 'd', type: 'decision', expression: '$flag' },
          inc('inc'),
          { id: 'm', type: 'merge' },
          { id: 'end', type: 'end', returnValue: '$count' },
        ],
        edges: [
          { from: 'start', to: 'count' },
          { from: 'count', to: 'd' },
          { from: 'd', to: 'inc', case: true },
          { from: 'd', to: 'm', case: false },
          { from: 'inc', to: 'm' },
          { from: 'm', to: 'end' },
        ],
      };
      expect(await world.interpreter().run(flow, { flag: true })).toBe(1);
      expect(await world.interpreter().run(flow, { flag: false })).toBe(0);
    });
  });

  describe('loops', () => {
    beforeEach(async () => {
      for (const [title, done, priority] of [['a', false, 'low'], ['b', true, 'high'], ['c', false, 'high'], ['d', false, 'low']] as const) {
        await world.seed('Task', { title, done, priority });
      }
    });

    it('runs the body once per object', async () => {
      expect(await world.interpreter().run(loopOverTasks([inc('inc')], []))).toBe(4);
    });

    it('goes on with the next object at a continue', async () => {
      const flow = loopOverTasks(
        [{ id: 'd', type: 'decision', expression: '$task/done' }, { id: 'skip', type: 'continue' }, inc('inc')],
        [
          { from: 'd', to: 'skip', case: true },
          { from: 'd', to: 'inc', case: false },
        ],
      );
      expect(await world.interpreter().run(flow)).toBe(3);
    });

    it('leaves the loop at a break', async () => {
      const flow = loopOverTasks(
        [{ id: 'd', type: 'decision', expression: "$task/title = 'c'" }, { id: 'stop', type: 'break' }, inc('inc')],
        [
          { from: 'd', to: 'stop', case: true },
          { from: 'd', to: 'inc', case: false },
        ],
      );
      expect(await world.interpreter().run(flow)).toBe(2);
    });

    it('runs nested loops, with break and continue acting on the inner loop', async () => {
      // For each task, loop over the high-priority tasks; count pairs until the inner title passes the outer one.
      const flow = loopOverTasks(
        [
          activity('high', { type: 'retrieve', source: { from: 'database', entity: 'Task', where: { attribute: 'priority', op: 'eq', value: "'high'" }, sort: [{ attribute: 'title' }] }, outputVariable: 'highs' }),
          { id: 'inner', type: 'loop', list: 'highs', iterator: 'h' },
          { id: 'past', type: 'decision', expression: '$h/title > $task/title', parent: 'inner' },
          { id: 'stop', type: 'break', parent: 'inner' },
          { id: 'same', type: 'decision', expression: '$h = $task', parent: 'inner' },
          { id: 'skip', type: 'continue', parent: 'inner' },
          inc('inc', 'inner'),
        ],
        [
          { from: 'high', to: 'inner' },
          { from: 'past', to: 'stop', case: true },
          { from: 'past', to: 'same', case: false },
          { from: 'same', to: 'skip', case: true },
          { from: 'same', to: 'inc', case: false },
        ],
      );
      // a: none <= a; b: b itself skipped; c: b counts, c skipped; d: b, c count.
      expect(await world.interpreter().run(flow)).toBe(3);
    });

    it('skips the body for an empty list and ends the iterator\'s scope after the loop', async () => {
      const flow = linear([activity('list', { type: 'createList', entity: 'Task', outputVariable: 'none' }), counter, { id: 'loop', type: 'loop', list: 'none', iterator: 't' }], {
        returnType: T.integer,
        returnValue: '$count',
        nodes: [{ ...inc('inc'), parent: 'loop' }],
      });
      expect(await world.interpreter().run(flow)).toBe(0);
    });

    it('returns from inside a loop at an end node', async () => {
      const flow = loopOverTasks(
        [{ id: 'd', type: 'decision', expression: '$task/done' }, { id: 'found', type: 'end', returnValue: '$count' }, inc('inc')],
        [
          { from: 'd', to: 'found', case: true },
          { from: 'd', to: 'inc', case: false },
        ],
      );
      expect(await world.interpreter().run(flow)).toBe(1);
    });
  });

  describe('sub-flows', () => {
    const double: Flow = linear([], { name: 'double', parameters: [{ name: 'n', type: T.integer }], returnType: T.integer, returnValue: '$n * 2' });

    it('passes parameters and returns the value', async () => {
      const flow = linear([activity('call', { type: 'callFlow', flow: 'double', parameters: { n: '21' }, outputVariable: 'r' })], { returnType: T.integer, returnValue: '$r' });
      const interpreter = world.interpreter({ flows: { double } });
      expect(await interpreter.run(flow)).toBe(42);
      const starts = world.events.filter((e) => e.type === 'flowStarted');
      expect(starts.map((e) => [e.flow, e.depth])).toEqual([
        ['test', 0],
        ['double', 1],
      ]);
      expect(new Set(world.events.map((e) => e.runId)).size).toBe(1);
    });

    it('shares the uncommitted work with the caller', async () => {
      const rename: Flow = linear([activity('ch', { type: 'changeObject', variable: 'task', values: { title: "'renamed'" } })], {
        name: 'rename',
        parameters: [{ name: 'task', type: T.object('Task') }],
      });
      const flow = linear(
        [
          activity('make', { type: 'createObject', entity: 'Task', values: { title: "'new'" }, outputVariable: 'task' }),
          activity('call', { type: 'callFlow', flow: 'rename', parameters: { task: '$task' } }),
          activity('save', { type: 'commit', variables: ['task'] }),
        ],
        { returnType: T.object('Task'), returnValue: '$task' },
      );
      const result = (await world.interpreter({ flows: { rename } }).run(flow)) as { id: string; title: string };
      expect(result.title).toBe('renamed');
      expect((await world.store.get('Task', result.id))?.title).toBe('renamed');
    });

    it('hands an unhandled error of the sub-flow to the call\'s error handling', async () => {
      const failing = linear([activity('s', { type: 'synchronize', mode: 'all' })], { name: 'failing' });
      world.onSync = async () => {
        throw new NetworkError('offline');
      };
      const flow = linear([activity('call', { type: 'callFlow', flow: 'failing' }, { errorHandling: 'continue' })], {
        returnType: T.string,
        returnValue: "$latestError/type + ': ' + $latestError/message",
      });
      expect(await world.interpreter({ flows: { failing } }).run(flow)).toBe('network: offline');
      const failed = world.events.find((e) => e.type === 'flowFailed');
      expect(failed).toMatchObject({ flow: 'failing', depth: 1, error: { type: 'network', message: 'offline' } });
    });

    it('stops endless recursion', async () => {
      const loop: Flow = linear([activity('again', { type: 'callFlow', flow: 'loop' })], { name: 'loop' });
      await expect(world.interpreter({ flows: { loop }, maxDepth: 5 }).run('loop')).rejects.toMatchObject({
        code: 'flow_runtime',
        message: 'Flows call each other more than 5 levels deep',
      });
    });
  });

  describe('error handling', () => {
    const failSync = () => {
      world.onSync = async () => {
        throw new SimultaneousSyncError();
      };
    };

    it('abort (the default) fails the flow with the typed error and rolls back its uncommitted work', async () => {
      failSync();
      const task = await world.seed('Task', { title: 'before' });
      const session = world.store.session();
      const flow = linear(
        [activity('ch', { type: 'changeObject', variable: 'task', values: { title: "'after'" } }), activity('sync', { type: 'synchronize', mode: 'all' })],
        { parameters: [{ name: 'task', type: T.object('Task') }] },
      );
      const error = await world.interpreter().run(flow, { task }, { session }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SimultaneousSyncError);
      expect(session.isUncommitted(task)).toBe(false);
      expect(world.events.filter((e) => e.type === 'stepEnded').at(-1)).toMatchObject({
        nodeId: 'sync',
        outcome: 'failed',
        errorHandling: 'abort',
        error: { type: 'simultaneous_sync' },
      });
      expect(world.events.at(-1)).toMatchObject({ type: 'flowFailed', error: { type: 'simultaneous_sync', message: error && (error as Error).message } });
    });

    it('customWithoutRollback follows the error-handler edge with $latestError, keeping the changes', async () => {
      failSync();
      const task = await world.seed('Task', { title: 'before' });
      const flow = linear(
        [
          activity('ch', { type: 'changeObject', variable: 'task', values: { title: "'after'" } }),
          activity('sync', { type: 'synchronize', mode: 'all' }, { errorHandling: 'customWithoutRollback' }),
        ],
        {
          parameters: [{ name: 'task', type: T.object('Task') }],
          returnType: T.string,
          returnValue: "'ok'",
          nodes: [{ id: 'handler', type: 'end', returnValue: "$latestError/type + '|' + $task/title" }],
          edges: [{ from: 'sync', to: 'handler', errorHandler: true }],
        },
      );
      expect(await world.interpreter().run(flow, { task })).toBe('simultaneous_sync|after');
      expect(world.events.find((e) => e.type === 'stepEnded' && e.nodeId === 'sync')).toMatchObject({
        outcome: 'handled',
        next: 'handler',
        errorHandling: 'customWithoutRollback',
        error: { type: 'simultaneous_sync', message: 'Performing simultaneous synchronizations is not supported. Please try again after the current synchronization is completed.' },
      });
    });

    it('customWithRollback rolls back the flow\'s uncommitted changes first', async () => {
      failSync();
      const task = await world.seed('Task', { title: 'before' });
      const flow = linear(
        [
          activity('ch', { type: 'changeObject', variable: 'task', values: { title: "'after'" } }),
          activity('mk', { type: 'createObject', entity: 'Project', values: { name: "'P'" }, outputVariable: 'project' }),
          activity('sync', { type: 'synchronize', mode: 'all' }, { errorHandling: 'customWithRollback' }),
        ],
        {
          parameters: [{ name: 'task', type: T.object('Task') }],
          returnType: T.string,
          returnValue: "'ok'",
          nodes: [{ id: 'handler', type: 'end', returnValue: "$task/title + '|' + toString($project = empty)" }],
          edges: [{ from: 'sync', to: 'handler', errorHandler: true }],
        },
      );
      const session = world.store.session();
      expect(await world.interpreter().run(flow, { task }, { session })).toBe('before|true');
      expect(session.uncommitted()).toEqual([]);
    });

    it('continue goes on as if nothing happened, with empty outputs and $latestError set', async () => {
      world.host.actions = {
        boom: () => {
          throw new Error('kaput');
        },
      };
      const flow = linear(
        [activity('call', { type: 'callJavaScriptAction', action: 'boom', outputVariable: 'r', returnType: T.integer }, { errorHandling: 'continue' })],
        { returnType: T.string, returnValue: "toString($r = empty) + '|' + $latestError/type + '|' + $latestError/message" },
      );
      expect(await world.interpreter().run(flow)).toBe('true|flow_runtime|JavaScript action "boom" failed: kaput');
      expect(world.events.find((e) => e.type === 'stepEnded' && e.nodeId === 'call')).toMatchObject({ outcome: 'continued', next: 'end' });
    });

    it('does not let error handlers catch errors of decisions (they have no error handling)', async () => {
      const flow: Flow = {
        name: 'x',
        nodes: [
          { id: 'start', type: 'start' },
          { id: 'd', type: 'decision', expression: '1 div 0 = 1' },
          { id: 'a', type: 'end' },
          { id: 'b', type: 'end' },
        ],
        edges: [
          { from: 'start', to: 'd' },
          { from: 'd', to: 'a', case: true },
          { from: 'd', to: 'b', case: false },
        ],
      };
      await expect(world.interpreter().run(flow)).rejects.toMatchObject({ code: 'flow_runtime', message: 'division by zero (in "1 div 0 = 1" at 6)' });
    });
  });

  describe('observers', () => {
    it('reports each step, variable change and the end, in order', async () => {
      const flow = linear([counter, inc('inc')], { returnType: T.integer, returnValue: '$count' });
      const own: FlowEvent[] = [];
      await world.interpreter().run(flow, {}, { onEvent: (e) => own.push(e) });
      const compact = world.events.map((e) =>
        e.type === 'stepStarted' || e.type === 'stepEnded'
          ? `${e.type} ${e.nodeId}${e.type === 'stepEnded' ? ` ${e.outcome}${e.next ? ` -> ${e.next}` : ''}` : ''}`
          : e.type === 'variableChanged'
            ? `$${e.name} = ${JSON.stringify(e.value)}`
            : e.type === 'flowEnded'
              ? `flowEnded ${JSON.stringify(e.result)}`
              : e.type,
      );
      expect(compact).toEqual([
        'flowStarted',
        'stepStarted start',
        'stepEnded start ok -> count',
        'stepStarted count',
        '$count = 0',
        'stepEnded count ok -> inc',
        'stepStarted inc',
        '$count = 1',
        'stepEnded inc ok -> end',
        'stepStarted end',
        'stepEnded end ok',
        'flowEnded 1',
      ]);
      expect(own).toEqual(world.events);
      expect(world.events.find((e) => e.type === 'stepStarted' && e.nodeId === 'count')).toMatchObject({ nodeType: 'activity', activityType: 'createVariable', flow: 'test', depth: 0 });
    });

    it('can be removed, and an observer that throws does not change the outcome', async () => {
      const interpreter = world.interpreter();
      let seen = 0;
      const off = interpreter.onEvent(() => {
        seen++;
        throw new Error('observer bug');
      });
      expect(await interpreter.run(linear([], { returnType: T.integer, returnValue: '1' }))).toBe(1);
      expect(seen).toBeGreaterThan(0);
      expect(world.logs[0]).toEqual(['error', 'A flow observer failed on flowStarted: observer bug']);
      off();
      const before = seen;
      await interpreter.run(linear([]));
      expect(seen).toBe(before);
    });
  });

  describe('cancellation', () => {
    it('stops before the next step when the signal aborts; handlers do not catch it', async () => {
      const controller = new AbortController();
      world.host.actions = {
        wait: async (_args, { signal }) => {
          controller.abort();
          expect(signal?.aborted).toBe(true);
          throw new Error('aborted');
        },
      };
      const flow = linear([activity('call', { type: 'callJavaScriptAction', action: 'wait' }, { errorHandling: 'continue' }), counter]);
      const error = await world.interpreter().run(flow, {}, { signal: controller.signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SyncflowError);
      expect((error as SyncflowError).message).toBe('The flow run was cancelled');
      expect(world.events.some((e) => e.type === 'stepStarted' && e.nodeId === 'count')).toBe(false);
    });

    it('does not start with an aborted signal', async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(world.interpreter().run(linear([]), {}, { signal: controller.signal })).rejects.toThrow('cancelled');
    });

    it('stops a flow that runs too many steps', async () => {
      const flow: Flow = {
        name: 'spin',
        nodes: [
          { id: 'start', type: 'start' },
          { id: 'm', type: 'merge' },
          { id: 'd', type: 'decision', expression: '1 = 1' },
          { id: 'end', type: 'end' },
        ],
        edges: [
          { from: 'start', to: 'm' },
          { from: 'm', to: 'd' },
          { from: 'd', to: 'm', case: true },
          { from: 'd', to: 'end', case: false },
        ],
      };
      await expect(world.interpreter({ maxSteps: 50 }).run(flow)).rejects.toThrow('The flow ran more than 50 steps (an endless cycle?)');
    });
  });
});
