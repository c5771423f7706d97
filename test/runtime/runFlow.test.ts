/**
 * runtime.runFlow end to end: the real interpreter over a real runtime (fake-indexeddb) and a
 * real sync server (demo app with its data), observed through its events.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowValidationError, SIMULTANEOUS_SYNC_MESSAGE, SyncflowError } from '../../src/errors.ts';
import type { Flow } from '../../src/flow/format.ts';
import { readFlowDirectory } from '../../src/flow/node/loadFlowFile.ts';
import type { FlowEvent, MessageType } from '../../src/flow/types.ts';
import { demoId, seedDemoData, wordCount } from '../../src/server/demo.ts';
import type { LocalObject } from '../../src/store/types.ts';
import type { SyncStatus } from '../../src/sync/types.ts';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { demoSchema } from '../../src/demo/schema.ts';
import { createRuntime } from '../../src/runtime/Runtime.ts';
import { closeSharedStorage, startWorld, type Device, type World } from '../support/world.ts';

const flows = await readFlowDirectory(fileURLToPath(new URL('../../flows', import.meta.url)));

let world: World;
beforeEach(async () => {
  world = await startWorld();
  await seedDemoData(world.server);
});
afterEach(async () => {
  await world.close();
});
afterAll(closeSharedStorage);

async function aliceWithFlows(): Promise<Device> {
  const device = await world.device('alice');
  device.runtime.registerFlows(flows);
  return device;
}

function recorder() {
  const events: FlowEvent[] = [];
  const of = <T extends FlowEvent['type']>(type: T) => events.filter((e): e is Extract<FlowEvent, { type: T }> => e.type === type);
  return { events, of, onEvent: (e: FlowEvent) => void events.push(e) };
}

/** The machine states in the order entered (repeats while progress changes collapsed). */
function machineStates(statuses: SyncStatus[]): string[] {
  return statuses.map((s) => s.machineState!).filter((s, i, all) => s !== all[i - 1]);
}

describe('runtime.runFlow', () => {
  it('runs a registered flow by name and reports each step, the sync machine states and the result', async () => {
    const d = await aliceWithFlows();
    const rec = recorder();
    const logs: Array<[string, string]> = [];
    const result = await d.runtime.runFlow('syncAllAtStartup', {}, { onEvent: rec.onEvent, log: (level, text) => void logs.push([level, text]) });
    expect(result).toBeNull();

    expect(rec.of('stepStarted').map((e) => e.nodeId)).toEqual(['start', 'syncAll', 'logDone', 'end']);
    expect(rec.of('stepEnded').map((e) => [e.nodeId, e.outcome])).toEqual([
      ['start', 'ok'],
      ['syncAll', 'ok'],
      ['logDone', 'ok'],
      ['end', 'ok'],
    ]);
    expect(rec.of('stepEnded').find((e) => e.nodeId === 'syncAll')?.activityType).toBe('synchronize');

    // Every sync state arrives while the Synchronize step runs, and tells which node it is for.
    const syncEvents = rec.of('syncState');
    const first = rec.events.indexOf(syncEvents[0]);
    const last = rec.events.indexOf(syncEvents.at(-1)!);
    expect(rec.events.findIndex((e) => e.type === 'stepStarted' && e.nodeId === 'syncAll')).toBeLessThan(first);
    expect(rec.events.findIndex((e) => e.type === 'stepEnded' && e.nodeId === 'syncAll')).toBeGreaterThan(last);
    expect(new Set(syncEvents.map((e) => e.nodeId))).toEqual(new Set(['syncAll']));

    // The all-objects machine's path, its final state included, with the live progress.
    const statuses = syncEvents.map((e) => e.status);
    expect(machineStates(statuses)).toEqual(['uploading', 'uploadingFiles', 'downloading', 'downloadingFiles', 'done']);
    const serverTasks = await world.elsewhere('alice').ids('Task');
    expect(statuses.some((s) => s.phase === 'download' && s.entity === 'Task' && s.done === serverTasks.length && s.total === serverTasks.length)).toBe(true);
    const end = statuses.at(-1)!;
    expect(end).toMatchObject({ running: false, machineState: 'done', mode: 'all' });
    // Running until the machine reached its final state; after it, only the final state.
    const firstEnded = statuses.findIndex((s) => !s.running);
    expect(statuses.slice(0, firstEnded).every((s) => s.running && s.machineState !== 'done')).toBe(true);
    expect(statuses.slice(firstEnded).every((s) => !s.running && s.machineState === 'done')).toBe(true);
    const serverProjects = await world.elsewhere('alice').ids('Project');
    const serverAttachments = await world.elsewhere('alice').ids('Attachment');
    expect(end.lastResult?.downloaded).toBe(serverTasks.length + serverProjects.length + serverAttachments.length);

    // The offline database now holds what alice may read.
    const local = await d.runtime.store.query('Task', {});
    expect(local.map((t) => t.id).sort()).toEqual([...serverTasks].sort());
    expect(logs).toEqual([['info', expect.stringMatching(/^Synchronized all objects at \d{4}-\d\d-\d\dT/)]]);
    expect(rec.of('flowEnded')).toHaveLength(1);
  });

  it('reports variable changes: the flow\'s edit, then the server\'s calculated version after the selected sync', async () => {
    const d = await aliceWithFlows();
    await d.runtime.synchronize({ mode: 'all' });
    const task = (await d.runtime.store.get('Task', demoId(10)))!;
    const title = 'Draft the sitemap with the whole team';
    const rec = recorder();
    const result = (await d.runtime.runFlow('editTaskAndSync', { task, title }, { onEvent: rec.onEvent })) as LocalObject;

    const changes = rec.of('variableChanged').filter((e) => e.name === 'task');
    const values = changes.map((e) => e.value as LocalObject);
    // The edit (words not yet recalculated), then the version the server's before-commit handler calculated.
    expect(changes.map((e) => e.nodeId)).toEqual(['changeTitle', 'syncTask']);
    expect(values[0]).toMatchObject({ title, words: task.words });
    expect(values[1]).toMatchObject({ title, words: wordCount(title) });
    expect(wordCount(title)).not.toBe(task.words);

    expect(result).toMatchObject({ id: task.id, title, words: wordCount(title) });
    expect(await world.elsewhere('alice').get('Task', task.id)).toMatchObject({ title, words: wordCount(title) });
    expect(await d.runtime.store.pendingChanges()).toEqual([]);
    expect(machineStates(rec.of('syncState').map((e) => e.status))).toEqual(['classifying', 'uploading', 'uploadingFiles', 'refreshing', 'downloadingFiles', 'done']);
  });

  it('lets an error handler catch a simultaneous synchronization; the refused sync reports no machine state', async () => {
    const d = await aliceWithFlows();
    const gate = d.network.hold('/api/download');
    const running = d.runtime.synchronize({ mode: 'all' });
    await gate.arrived;
    const rec = recorder();
    const messages: Array<{ type: MessageType; text: string }> = [];
    const result = await d.runtime.runFlow('syncWithErrorHandler', {}, { onEvent: rec.onEvent, showMessage: (m) => void messages.push(m) });
    gate.release();
    await running;

    expect(result).toBe(false);
    expect(messages).toEqual([{ type: 'error', text: `Synchronization failed: ${SIMULTANEOUS_SYNC_MESSAGE}` }]);
    const sync = rec.of('stepEnded').find((e) => e.nodeId === 'sync')!;
    expect(sync).toMatchObject({ outcome: 'handled', next: 'showError', errorHandling: 'customWithoutRollback', error: { type: 'simultaneous_sync', message: SIMULTANEOUS_SYNC_MESSAGE } });
    expect(rec.of('variableChanged').find((e) => e.name === 'latestError')?.value).toMatchObject({ type: 'simultaneous_sync', message: SIMULTANEOUS_SYNC_MESSAGE });
    expect(rec.of('syncState')).toEqual([]);
  });

  it('stops at once when the signal aborts during a synchronization: the machine ends cancelled, the run with flow_cancelled', async () => {
    const d = await aliceWithFlows();
    const gate = d.network.hold('/api/download');
    const controller = new AbortController();
    const rec = recorder();
    const run = d.runtime.runFlow('syncAllAtStartup', {}, { onEvent: rec.onEvent, signal: controller.signal });
    await gate.arrived;
    controller.abort(new Error('the user closed the app'));
    const error = await run.catch((e: unknown) => e);
    gate.release();

    expect(error).toBeInstanceOf(SyncflowError);
    expect((error as SyncflowError).code).toBe('flow_cancelled');
    const statuses = rec.of('syncState').map((e) => e.status);
    expect(machineStates(statuses)).toEqual(['uploading', 'uploadingFiles', 'downloading', 'cancelled']);
    expect(statuses.at(-1)).toMatchObject({ running: false, lastError: { code: 'sync_cancelled' } });
    expect(rec.events.some((e) => e.type === 'stepStarted' && e.nodeId === 'logDone')).toBe(false);
    expect(d.runtime.status.getState().running).toBe(false);
    // A run whose signal aborted before it started never starts.
    const rec2 = recorder();
    await expect(d.runtime.runFlow('syncAllAtStartup', {}, { onEvent: rec2.onEvent, signal: controller.signal })).rejects.toMatchObject({ code: 'flow_cancelled' });
    expect(rec2.of('stepStarted')).toEqual([]);
    // The next synchronization runs normally.
    await expect(d.runtime.synchronize({ mode: 'unsynchronized' })).resolves.toMatchObject({ mode: 'unsynchronized' });
  });

  it('finds called flows through an async loader and JavaScript actions from the runtime and the run', async () => {
    const d = await world.device('alice');
    const child: Flow = {
      name: 'double',
      parameters: [{ name: 'n', type: { type: 'integer' } }],
      returnType: { type: 'integer' },
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'call', type: 'activity', activity: { type: 'callJavaScriptAction', action: 'twice', arguments: { n: '$n' }, returnType: { type: 'integer' }, outputVariable: 'r' } },
        { id: 'end', type: 'end', returnValue: '$r' },
      ],
      edges: [
        { from: 'start', to: 'call' },
        { from: 'call', to: 'end' },
      ],
    };
    const parent: Flow = {
      name: 'parent',
      parameters: [{ name: 'n', type: { type: 'integer' } }],
      returnType: { type: 'integer' },
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'sub', type: 'activity', activity: { type: 'callFlow', flow: 'double', parameters: { n: '$n + 1' }, outputVariable: 'd' } },
        { id: 'add', type: 'activity', activity: { type: 'callJavaScriptAction', action: 'plusTen', arguments: { n: '$d' }, returnType: { type: 'integer' }, outputVariable: 'r' } },
        { id: 'end', type: 'end', returnValue: '$r' },
      ],
      edges: [
        { from: 'start', to: 'sub' },
        { from: 'sub', to: 'add' },
        { from: 'add', to: 'end' },
      ],
    };
    const asked: string[] = [];
    d.runtime.registerFlows(async (name) => {
      asked.push(name);
      return name === 'double' ? structuredClone(child) : undefined;
    });
    d.runtime.registerActions({ twice: ({ n }) => (n as number) * 2 });
    const rec = recorder();
    const result = await d.runtime.runFlow(parent, { n: 4 }, { onEvent: rec.onEvent, actions: { plusTen: async ({ n }) => (n as number) + 10 } });
    expect(result).toBe(20);
    expect(asked).toEqual(['double']);
    expect(rec.of('flowStarted').map((e) => [e.flow, e.depth])).toEqual([
      ['parent', 0],
      ['double', 1],
    ]);

    // A call to a flow nobody knows fails when the flow loads: no step runs.
    const broken = structuredClone(parent);
    (broken.nodes[1] as { activity: { flow: string } }).activity.flow = 'nowhere';
    const rec2 = recorder();
    const error = await d.runtime.runFlow(broken, { n: 1 }, { onEvent: rec2.onEvent }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlowValidationError);
    expect((error as FlowValidationError).problems).toContainEqual(expect.objectContaining({ nodeId: 'sub', path: 'nodes[1].activity.flow', message: 'unknown flow "nowhere"' }));
    expect(rec2.events).toEqual([]);

    await expect(d.runtime.runFlow('noSuchFlow')).rejects.toMatchObject({ code: 'not_found', message: 'Unknown flow "noSuchFlow"' });
    expect(() => d.runtime.registerActions({ bad: 'not a function' as never })).toThrow(/"bad" is not a function/);
  });

  it("resolves '[%CurrentUser%]' in a retrieve to the runtime's user", async () => {
    const bob = await world.device('bob');
    await bob.runtime.synchronize({ mode: 'all' });
    const flow: Flow = {
      name: 'myAssignedTasks',
      returnType: { type: 'integer' },
      nodes: [
        { id: 'start', type: 'start' },
        {
          id: 'mine',
          type: 'activity',
          activity: { type: 'retrieve', source: { from: 'database', entity: 'Task', where: { attribute: 'assignee', op: 'eq', value: "'[%CurrentUser%]'" } }, outputVariable: 'tasks' },
        },
        { id: 'end', type: 'end', returnValue: 'length($tasks)' },
      ],
      edges: [
        { from: 'start', to: 'mine' },
        { from: 'mine', to: 'end' },
      ],
    };
    const tasks = await bob.runtime.store.query('Task', {});
    const assignedTo = (user: string) => tasks.filter((t) => t.assignee === user).length;
    expect(assignedTo('bob')).toBeGreaterThan(0);
    expect(assignedTo('alice')).toBeGreaterThan(0);
    expect(assignedTo('bob')).not.toBe(assignedTo('alice'));
    bob.runtime.user = 'bob';
    expect(await bob.runtime.runFlow(flow)).toBe(assignedTo('bob'));
    // The host reads the user when the Retrieve runs.
    bob.runtime.user = 'alice';
    expect(await bob.runtime.runFlow(flow)).toBe(assignedTo('alice'));
  });

  it('takes flows, actions and the user from createRuntime, and keeps the user with the offline database', async () => {
    const dbName = `runFlow-user-${crypto.randomUUID()}`;
    const options = { schema: demoSchema, serverUrl: world.url, token: 'bob-token', dbName, indexedDB, IDBKeyRange };
    const greet: Flow = {
      name: 'greet',
      returnType: { type: 'string' },
      nodes: [
        { id: 'start', type: 'start' },
        { id: 'hello', type: 'activity', activity: { type: 'callJavaScriptAction', action: 'hello', arguments: {}, returnType: { type: 'string' }, outputVariable: 'text' } },
        { id: 'end', type: 'end', returnValue: '$text' },
      ],
      edges: [
        { from: 'start', to: 'hello' },
        { from: 'hello', to: 'end' },
      ],
    };
    const first = await createRuntime({ ...options, user: 'bob', flows: { greet }, actions: { hello: () => 'hi bob' } });
    expect(first.user).toBe('bob');
    expect(await first.runFlow('greet')).toBe('hi bob');
    first.close();
    const again = await createRuntime(options);
    try {
      expect(again.user).toBe('bob');
      // Flows and actions belong to the runtime object, not to the database.
      await expect(again.runFlow('greet')).rejects.toMatchObject({ code: 'not_found' });
      const flow = await again.loadFlow(greet);
      expect(flow.name).toBe('greet');
      await expect(again.runFlow(flow)).rejects.toMatchObject({ code: 'flow_runtime', message: expect.stringContaining('no JavaScript action "hello"') });
    } finally {
      again.close();
    }
  });
});

describe('the current user', () => {
  it('is learnt from the server at the first synchronization when the app did not say, and kept with the database', async () => {
    const device = await world.device('bob');
    expect(device.runtime.user).toBeNull();
    await device.runtime.synchronize({ mode: 'unsynchronized' });
    expect(device.runtime.user).toBe('bob');
    expect(await device.runtime.store.getMeta('user')).toBe('bob');
  });
});
