/**
 * The reSync and cleanResyncGhosts activities over a real runtime (its named syncs) and a real
 * sync server.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowValidationError } from '../../../src/errors.ts';
import type { LocalObject } from '../../../src/store/types.ts';
import { closeSharedStorage, startWorld, type Device, type World } from '../../support/world.ts';
import { activity, linear, objectParam, T } from '../support/flows.ts';

let world: World;
let device: Device;
let ids: string[];
beforeEach(async () => {
  world = await startWorld();
  ids = Array.from({ length: 3 }, () => crypto.randomUUID());
  await world.elsewhere('alice').upload(ids.map((id, i) => ({ entity: 'Task', id, kind: 'create', data: { title: `t${i}` } })));
  device = await world.device();
  await device.runtime.syncs.defineSyncDown({ entity: 'Task', constraint: { attribute: 'done', op: 'ne', value: true } }, { name: 'open' });
});
afterEach(async () => {
  await world.close();
});
afterAll(closeSharedStorage);

const resync = activity('resync', { type: 'reSync', sync: 'open', outputVariable: 'fetched' });
const clean = activity('clean', { type: 'cleanResyncGhosts', sync: 'open', outputVariable: 'removed' });

describe('reSync', () => {
  it('runs the named sync and outputs how many records it transferred; held objects are refreshed', async () => {
    expect(await device.runtime.runFlow(linear([resync], { returnType: T.integer, returnValue: '$fetched' }), {})).toBe(3);
    const task = (await device.runtime.store.get('Task', ids[0])) as LocalObject;
    await world.elsewhere('alice').upload([{ entity: 'Task', id: ids[0], kind: 'update', data: { title: 'renamed' } }]);
    const flow = linear([resync], { parameters: [objectParam('task', 'Task')], returnType: T.string, returnValue: "$task/title + ' ' + toString($fetched)" });
    expect(await device.runtime.runFlow(flow, { task })).toBe('renamed 1');
  });

  it('fails with the run\'s typed error (catchable), and with sync_manager_stopped when stopped', async () => {
    device.network.always(/^\/api\/download$/, 'unreachable');
    await expect(device.runtime.runFlow(linear([resync]), {})).rejects.toMatchObject({ code: 'network' });
    const caught = linear([activity('resync', { type: 'reSync', sync: 'open' }, { errorHandling: 'customWithoutRollback' })], {
      returnType: T.string,
      returnValue: "'fine'",
      nodes: [{ id: 'failed', type: 'end', returnValue: '$latestError/type' }],
      edges: [{ from: 'resync', to: 'failed', errorHandler: true }],
    });
    expect(await device.runtime.runFlow(caught, {})).toBe('network');
    device.network.clear();
    device.runtime.syncs.stop();
    expect(await device.runtime.runFlow(caught, {})).toBe('sync_manager_stopped');
  });

  it('an unknown sync fails the activity with sync_unknown; a missing name does not load', async () => {
    await expect(device.runtime.runFlow(linear([activity('r', { type: 'reSync', sync: 'nope' })]), {})).rejects.toMatchObject({ code: 'sync_unknown' });
    const invalid = device.runtime.runFlow(linear([activity('r', { type: 'reSync', sync: '' })]), {});
    await expect(invalid).rejects.toBeInstanceOf(FlowValidationError);
    await expect(invalid).rejects.toThrow(/name the sync to run/);
  });
});

describe('cleanResyncGhosts', () => {
  it('outputs how many objects it removed, and empties the variables that held them', async () => {
    await device.runtime.syncs.reSync('open');
    const task = (await device.runtime.store.get('Task', ids[1])) as LocalObject;
    await world.elsewhere('alice').upload([{ entity: 'Task', id: ids[1], kind: 'update', data: { done: true } }]);
    const flow = linear([resync, clean], {
      parameters: [objectParam('task', 'Task')],
      returnType: T.string,
      returnValue: "toString($removed) + ' ' + toString($task = empty)",
    });
    expect(await device.runtime.runFlow(flow, { task })).toBe('1 true');
    expect(await device.runtime.store.get('Task', ids[1])).toBeUndefined();
  });
});

describe('sync events while a named sync runs in a flow', () => {
  it('reSync emits the sync manager\'s states and the run\'s progress, as Synchronize does', async () => {
    const events: Array<{ nodeId: string; status: import('../../../src/sync/types.ts').SyncStatus }> = [];
    const managers: string[] = [];
    await device.runtime.runFlow(linear([resync]), {}, {
      onEvent: (e) => {
        if (e.type === 'syncState') events.push({ nodeId: e.nodeId, status: e.status });
      },
    });
    expect(events.length).toBeGreaterThan(1);
    expect(new Set(events.map((e) => e.nodeId))).toEqual(new Set(['resync']));
    expect(events.every((e) => e.status.machine === 'manager' && e.status.task === 'reSync open')).toBe(true);
    const states = events.map((e) => e.status.machineState);
    expect(states).toContain('busy.working');
    expect(states.at(-1)).toBe('idle');
    const progress = events.filter((e) => e.status.phase === 'download');
    expect(progress.at(-1)!.status).toMatchObject({ entity: 'Task', done: 3, total: 3 });
    expect(events.at(-1)!.status.running).toBe(false);
    expect(managers).toEqual([]);
  });

  it('cleanResyncGhosts emits the manager\'s states too, and a host hears the manager actor', async () => {
    await device.runtime.syncs.reSync('open');
    const { createFlowHost } = await import('../../../src/runtime/flowHost.ts');
    const seen: string[] = [];
    const states: string[] = [];
    const host = createFlowHost(device.runtime, {
      onManager: (actor, task) => {
        seen.push(`${task}: ${actor.id ?? 'manager'}`);
        return () => seen.push(`${task}: ended`);
      },
    });
    const removed = await host.cleanResyncGhosts!('open', (s) => states.push(`${s.machineState}${s.running ? '' : ' (ended)'}`));
    expect(removed).toBe(0);
    expect(seen.at(-1)).toBe('cleanResyncGhosts open: ended');
    expect(states[0]).toBe('busy.working');
    expect(states.at(-1)).toBe('idle (ended)');
  });
});
