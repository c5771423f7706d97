import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NetworkError, ServerError, SIMULTANEOUS_SYNC_MESSAGE, SimultaneousSyncError } from '../../../src/errors.ts';
import type { LocalObject } from '../../../src/store/types.ts';
import { activity, linear, listParam, objectParam, T } from '../support/flows.ts';
import { makeWorld, problemLines, status, type TestWorld } from '../support/host.ts';

let world: TestWorld;
beforeEach(async () => {
  world = await makeWorld();
});
afterEach(() => world.store.close());

const sync = (mode: 'all' | 'unsynchronized' | 'selected', variables?: string[], extra = {}) =>
  activity('sync', { type: 'synchronize', mode, ...(variables ? { variables } : {}) }, extra);

describe('synchronize', () => {
  it('runs the host\'s synchronization for mode all and unsynchronized', async () => {
    await world.interpreter().run(linear([sync('all')]));
    await world.interpreter().run(linear([sync('unsynchronized')]));
    expect(world.syncRequests).toEqual([{ mode: 'all' }, { mode: 'unsynchronized' }]);
  });

  it('reports the sync machine\'s state to observers while it runs', async () => {
    await world.interpreter().run(linear([sync('all')]));
    const states = world.events.filter((e) => e.type === 'syncState');
    expect(states.map((e) => e.type === 'syncState' && [e.nodeId, e.status.machineState, e.status.phase])).toEqual([
      ['sync', 'uploading', 'upload'],
      ['sync', 'downloading', 'download'],
    ]);
    const order = world.events.map((e) => e.type).filter((t) => t !== 'variableChanged');
    expect(order).toEqual(['flowStarted', 'stepStarted', 'stepEnded', 'stepStarted', 'syncState', 'syncState', 'stepEnded', 'stepStarted', 'stepEnded', 'flowEnded']);
  });

  it('selects the objects and lists of the variables, with the flow\'s session (its uncommitted objects are skipped)', async () => {
    const a = await world.seed('Task', { title: 'a' });
    const b = await world.seed('Task', { title: 'b' });
    const flow = linear([activity('new', { type: 'createObject', entity: 'Task', values: { title: "'new'" }, outputVariable: 'fresh' }), sync('selected', ['task', 'tasks', 'fresh'])], {
      parameters: [objectParam('task', 'Task'), listParam('tasks', 'Task')],
    });
    const session = world.store.session();
    await world.interpreter().run(flow, { task: a, tasks: [b, a] }, { session });
    const [request] = world.syncRequests;
    expect(request.mode).toBe('selected');
    if (request.mode !== 'selected') return;
    expect(request.objects.map((o) => (o as LocalObject | null)?.title)).toEqual(['a', 'b', 'a', 'new']);
    expect(request.session).toBe(session);
  });

  it('empties the variables of objects the selected sync removed, and takes them out of lists', async () => {
    const gone = await world.seed('Task', { title: 'gone' });
    const kept = await world.seed('Task', { title: 'kept' });
    world.onSync = async () => {
      // As the server would have it: the object no longer exists for this user.
      await world.store.removeObjects('Task', [gone.id], { force: true });
      return { removed: 1, removedIds: [gone.id] };
    };
    const flow = linear([sync('selected', ['task', 'tasks'])], {
      parameters: [objectParam('task', 'Task'), listParam('tasks', 'Task')],
      returnType: T.string,
      returnValue: "toString($task = empty) + '|' + toString(length($tasks))",
    });
    expect(await world.interpreter().run(flow, { task: gone, tasks: [gone, kept] })).toBe('true|1');
    expect(world.events.filter((e) => e.type === 'variableChanged').map((e) => e.type === 'variableChanged' && [e.name, Array.isArray(e.value) ? e.value.length : e.value])).toEqual([
      ['task', null],
      ['tasks', 1],
    ]);
  });

  it('gives the variables the synchronized versions of their objects', async () => {
    const task = await world.seed('Task', { title: 'three little words' });
    world.onSync = async () => {
      const { $entity, ...plain } = task;
      await world.store.applyServerObjects('Task', [{ ...plain, words: 3, changedDate: '2024-01-01T00:00:00.000Z' }], { overwrite: true });
      return { downloaded: 1 };
    };
    const flow = linear([sync('selected', ['task'])], { parameters: [objectParam('task', 'Task')], returnType: T.object('Task'), returnValue: '$task' });
    expect((await world.interpreter().run(flow, { task })) as LocalObject).toMatchObject({ id: task.id, words: 3, changedDate: '2024-01-01T00:00:00.000Z' });
  });

  it('empties variables of objects that an all-objects sync removed', async () => {
    const task = await world.seed('Task', { title: 'gone' });
    world.onSync = async () => {
      await world.store.removeObjects('Task', [task.id], { force: true });
      return {};
    };
    const flow = linear([sync('all')], { parameters: [objectParam('task', 'Task')], returnType: T.object('Task'), returnValue: '$task' });
    expect(await world.interpreter().run(flow, { task })).toBeNull();
  });

  it('lets error handling catch a simultaneous sync, a network error and a server failure', async () => {
    const flow = linear([sync('all', undefined, { errorHandling: 'customWithoutRollback' })], {
      returnType: T.string,
      returnValue: "'ok'",
      nodes: [
        activity('show', { type: 'showMessage', messageType: 'error', message: '$latestError/message' }),
        { id: 'failed', type: 'end', returnValue: '$latestError/type' },
      ],
      edges: [
        { from: 'sync', to: 'show', errorHandler: true },
        { from: 'show', to: 'failed' },
      ],
    });
    const interpreter = world.interpreter();
    for (const error of [new SimultaneousSyncError(), new NetworkError('The server cannot be reached'), new ServerError(500, 'internal', 'Boom')]) {
      world.onSync = async (_request, observe) => {
        observe?.(status('uploading'));
        throw error;
      };
      expect(await interpreter.run(flow)).toBe(error.code);
    }
    expect(world.messages).toEqual([
      { type: 'error', text: SIMULTANEOUS_SYNC_MESSAGE },
      { type: 'error', text: 'The server cannot be reached' },
      { type: 'error', text: 'Boom' },
    ]);
  });

  it('is checked at load: selected needs variables, other modes take none', () => {
    const flow = linear([activity('a', { type: 'synchronize', mode: 'selected' }), activity('b', { type: 'synchronize', mode: 'all', variables: ['x'] }), activity('c', { type: 'synchronize', mode: 'selected', variables: ['n'] })], {
      parameters: [{ name: 'n', type: T.string }],
    });
    expect(problemLines(world, flow)).toEqual([
      'a nodes[1].activity.variables: mode selected needs the variables to synchronize',
      'b nodes[2].activity.variables: mode all synchronizes no selected variables: leave them out',
      'c nodes[3].activity.variables[0]: $n is string: an object or a list of objects of the schema is expected',
    ]);
  });
});
