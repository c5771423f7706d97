import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runtimeHost } from '../../editor/src/run/flowHost.ts';
import { demoSchema } from '../../src/demo/schema.ts';
import { newId } from '../../src/model/values.ts';
import { createFlowHost, stateName } from '../../src/runtime/flowHost.ts';
import { createRuntime, type Runtime } from '../../src/runtime/Runtime.ts';
import type { SyncActor } from '../../src/sync/Synchronizer.ts';
import type { SyncStatus } from '../../src/sync/types.ts';

let runtime: Runtime;
beforeEach(async () => {
  // No request is made: the selected mode with nothing selected stays on the device.
  runtime = await createRuntime({ schema: demoSchema, serverUrl: 'http://127.0.0.1:9', token: 't', dbName: `host-${newId()}`, indexedDB, IDBKeyRange });
});
afterEach(() => runtime.close());

describe('createFlowHost', () => {
  it('names nested machine states with dots', () => {
    expect(stateName('uploading')).toBe('uploading');
    expect(stateName({ downloading: 'entity' })).toBe('downloading.entity');
    expect(stateName({ a: { b: 'c' } })).toBe('a.b.c');
  });

  it("is the runtime's store, schema and failures, with the app's handlers; the user is read when asked", async () => {
    const shown: string[] = [];
    const host = createFlowHost(runtime, { actions: { a: () => 1 }, showMessage: (m) => void shown.push(m.text) });
    expect(host.schema).toBe(runtime.schema);
    expect(host.store).toBe(runtime.store);
    expect(Object.keys(host.actions ?? {})).toEqual(['a']);
    await host.showMessage?.({ type: 'info', text: 'hi' });
    expect(shown).toEqual(['hi']);
    expect(await host.listFailures?.()).toEqual([]);
    expect(host.currentUser).toBeNull();
    runtime.user = 'alice';
    expect(host.currentUser).toBe('alice');
    expect(createFlowHost(runtime, { currentUser: 'carol' }).currentUser).toBe('carol');
  });

  it("hands over the machine's actor and reports each state it enters, its final one too", async () => {
    const actors: SyncActor[] = [];
    const statuses: SyncStatus[] = [];
    const host = createFlowHost(runtime, { onActor: (a) => void actors.push(a) });
    const result = await host.synchronize({ mode: 'selected', objects: [] }, (s) => void statuses.push(s));
    expect(result).toMatchObject({ mode: 'selected', uploaded: 0 });
    expect(actors).toHaveLength(1);
    expect(actors[0].getSnapshot().status).toBe('done');
    const states = statuses.map((s) => s.machineState).filter((s, i, all) => s !== all[i - 1]);
    expect(states.at(-1)).toBe('done');
    expect(states[0]).not.toBe('done');
    expect(statuses.at(-1)).toMatchObject({ running: false, mode: 'selected', lastResult: result });
    // No two reports alike in a row.
    statuses.slice(1).forEach((s, i) => expect(s).not.toEqual(statuses[i]));
  });

  it('refuses to start a synchronization once the signal aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('closed'));
    const host = createFlowHost(runtime, { signal: controller.signal });
    await expect(host.synchronize({ mode: 'selected', objects: [] })).rejects.toMatchObject({ code: 'sync_cancelled', message: 'The synchronization did not start: the run was cancelled' });
    expect(runtime.status.getState().running).toBe(false);
  });

  it("is the editor's host too", () => {
    const host = runtimeHost(runtime, { log: () => undefined });
    expect(host.store).toBe(runtime.store);
    expect(typeof host.log).toBe('function');
  });
});
