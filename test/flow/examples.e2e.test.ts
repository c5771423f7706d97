/**
 * Every example flow in flows/, run end to end: runtime.runFlow over a real runtime (its own
 * offline database) against a real sync server with the demo app's access rules, event
 * handlers and data. (examples.test.ts runs the same flows against a scripted host.)
 */
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIMULTANEOUS_SYNC_MESSAGE } from '../../src/errors.ts';
import { readFlowDirectory } from '../../src/flow/node/loadFlowFile.ts';
import type { FlowEvent, LogLevel, MessageType } from '../../src/flow/types.ts';
import type { RunFlowOptions } from '../../src/runtime/Runtime.ts';
import { demoId, FORBIDDEN_TITLE_MESSAGE, seedDemoData, wordCount } from '../../src/server/demo.ts';
import type { LocalObject } from '../../src/store/types.ts';
import { demoSyncs } from '../../src/demo/syncs.ts';
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

/** What a run showed and logged, and its events. */
interface Run {
  result: unknown;
  messages: Array<{ type: MessageType; text: string }>;
  logs: Array<[LogLevel, string]>;
  events: FlowEvent[];
}

async function run(device: Device, name: string, params: Record<string, unknown> = {}, options: RunFlowOptions = {}): Promise<Run> {
  const out: Omit<Run, 'result'> = { messages: [], logs: [], events: [] };
  const result = await device.runtime.runFlow(name, params, {
    ...options,
    onEvent: (e) => void out.events.push(e),
    showMessage: (m) => void out.messages.push(m),
    log: (level, text) => void out.logs.push([level, text]),
  });
  return { result, ...out };
}

async function device(user: string): Promise<Device> {
  const d = await world.device(user);
  d.runtime.registerFlows(flows);
  return d;
}

/** Everything `user` may read on the server, by entity. */
async function serverIds(user: string): Promise<Record<string, string[]>> {
  const elsewhere = world.elsewhere(user);
  const out: Record<string, string[]> = {};
  for (const entity of ['Project', 'Task', 'Attachment']) out[entity] = (await elsewhere.ids(entity)).sort();
  return out;
}

async function localIds(d: Device): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const entity of ['Project', 'Task', 'Attachment']) out[entity] = (await d.runtime.store.query(entity, {})).map((o) => o.id).sort();
  return out;
}

async function commitNew(d: Device, entity: string, values: Record<string, unknown>): Promise<LocalObject> {
  const session = d.runtime.session();
  const [saved] = await session.commit(session.create(entity, values));
  return saved;
}

describe('syncAllAtStartup', () => {
  it('uploads local changes, then fills the offline database with what the user may read', async () => {
    const alice = await device('alice');
    const mine = await commitNew(alice, 'Task', { title: 'Written offline before the first sync', project: demoId(1) });
    const r = await run(alice, 'syncAllAtStartup');

    expect(r.result).toBeNull();
    expect(await world.elsewhere('alice').get('Task', mine.id)).toMatchObject({ title: 'Written offline before the first sync', owner: 'alice' });
    expect(await localIds(alice)).toEqual(await serverIds('alice'));
    expect(await alice.runtime.store.pendingChanges()).toEqual([]);
    expect(r.logs).toEqual([['info', expect.stringMatching(/^Synchronized all objects at \d{4}-\d\d-\d\dT\d\d:\d\d/)]]);
    // Bob reads other things than alice: the flow synchronizes for the runtime's user.
    const bob = await device('bob');
    await run(bob, 'syncAllAtStartup');
    expect(await localIds(bob)).toEqual(await serverIds('bob'));
    expect((await localIds(bob)).Task).not.toEqual((await localIds(alice)).Task);
  });
});

describe('editTaskAndSync', () => {
  it('commits the new title, synchronizes just that task and returns the version with the server-calculated words', async () => {
    const alice = await device('alice');
    await alice.runtime.synchronize({ mode: 'all' });
    const task = (await alice.runtime.store.get('Task', demoId(12)))!;
    const other = await commitNew(alice, 'Task', { title: 'Not selected, stays local', project: demoId(1) });
    const title = 'Write the About page in three languages';
    const uploadsBefore = alice.network.count(/upload/);

    const r = await run(alice, 'editTaskAndSync', { task, title });
    expect(r.result).toMatchObject({ id: task.id, title, words: wordCount(title) });
    expect(wordCount(title)).not.toBe(task.words);
    expect(await world.elsewhere('alice').get('Task', task.id)).toMatchObject({ title, words: wordCount(title) });
    // Selected: one upload of that task only; the other pending task stays pending.
    expect(alice.network.count(/upload/) - uploadsBefore).toBe(1);
    expect(await world.elsewhere('alice').get('Task', other.id)).toBeNull();
    expect((await alice.runtime.store.pendingChanges()).map((c) => c.id)).toEqual([other.id]);
    expect(await alice.runtime.store.get('Task', task.id)).toMatchObject({ title, words: wordCount(title) });
  });

  it('returns empty when the server deleted the task meanwhile, and keeps the change as a failure', async () => {
    const bob = await device('bob');
    await bob.runtime.synchronize({ mode: 'all' });
    const task = (await bob.runtime.store.get('Task', demoId(11)))!; // alice's, assigned to bob
    await world.elsewhere('alice').upload([{ entity: 'Task', id: task.id, kind: 'delete', data: {} }]);

    const r = await run(bob, 'editTaskAndSync', { task, title: 'Too late' });
    expect(r.result).toBeNull();
    expect(await bob.runtime.store.get('Task', task.id)).toBeUndefined();
    const failures = await bob.runtime.listFailures();
    expect(failures).toEqual([expect.objectContaining({ entity: 'Task', objectId: task.id, kind: 'update', reason: 'deleted' })]);
  });
});

describe('syncWithErrorHandler', () => {
  it('returns true and shows nothing when the synchronization succeeds', async () => {
    const alice = await device('alice');
    const task = await commitNew(alice, 'Task', { title: 'Call the customer', project: demoId(1) });
    const r = await run(alice, 'syncWithErrorHandler');
    expect(r.result).toBe(true);
    expect(r.messages).toEqual([]);
    expect(await world.elsewhere('alice').get('Task', task.id)).toMatchObject({ title: 'Call the customer', words: 3 });
  });

  it('catches the simultaneous-sync error and shows its message', async () => {
    const alice = await device('alice');
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    let reached!: () => void;
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    alice.network.gate = async (path) => {
      if (path !== '/api/download') return;
      reached();
      await opened;
    };
    const running = alice.runtime.synchronize({ mode: 'all' });
    await arrived;
    const r = await run(alice, 'syncWithErrorHandler');
    open();
    await running;

    expect(r.result).toBe(false);
    expect(r.messages).toEqual([
      {
        type: 'error',
        text: 'Synchronization failed: Performing simultaneous synchronizations is not supported. Please try again after the current synchronization is completed.',
      },
    ]);
    expect(r.messages[0].text).toBe(`Synchronization failed: ${SIMULTANEOUS_SYNC_MESSAGE}`);
    const handled = r.events.find((e) => e.type === 'stepEnded' && e.nodeId === 'sync');
    expect(handled).toMatchObject({ outcome: 'handled', next: 'showError', error: { type: 'simultaneous_sync' } });
  });

  it('catches a network error the same way, and the change waits for the next synchronization', async () => {
    const alice = await device('alice');
    const task = await commitNew(alice, 'Task', { title: 'Offline idea', project: demoId(1) });
    alice.network.always(/^\/api\//, 'unreachable');
    const r = await run(alice, 'syncWithErrorHandler');
    expect(r.result).toBe(false);
    expect(r.messages).toEqual([{ type: 'error', text: expect.stringMatching(/^Synchronization failed: POST \/api\/upload failed: .*ECONNREFUSED/) }]);
    expect((await alice.runtime.store.pendingChanges()).map((c) => c.id)).toEqual([task.id]);

    alice.network.clear();
    expect((await run(alice, 'syncWithErrorHandler')).result).toBe(true);
    expect(await world.elsewhere('alice').get('Task', task.id)).toMatchObject({ title: 'Offline idea' });
  });
});

describe('retryFailures', () => {
  const NEW_TITLE = 'Pick the colour palette with the designer';

  /** Bob's two failed changes: one the server refuses for good, one it refused only while bob had no access. */
  async function bobWithFailures() {
    const bob = await device('bob');
    await bob.runtime.synchronize({ mode: 'all' });
    const assigned = (await bob.runtime.store.get('Task', demoId(11)))!; // alice's, assigned to bob
    const session = bob.runtime.session();
    await session.commit(session.change(assigned, { title: NEW_TITLE }));
    const forbidden = await commitNew(bob, 'Task', { title: 'A forbidden plan', project: demoId(1) });
    // Meanwhile alice takes the task away from bob: his change can no longer be applied.
    await world.elsewhere('alice').upload([{ entity: 'Task', id: assigned.id, kind: 'update', data: { assignee: null } }]);
    const result = await bob.runtime.synchronize({ mode: 'unsynchronized' });
    expect(result.failed).toBe(2);
    const failures = await bob.runtime.listFailures();
    expect(failures.map((f) => [f.objectId, f.reason]).sort()).toEqual(
      [
        [assigned.id, 'inaccessible'],
        [forbidden.id, 'rejected'],
      ].sort(),
    );
    expect(failures.find((f) => f.objectId === forbidden.id)?.message).toBe(FORBIDDEN_TITLE_MESSAGE);
    return { bob, assigned, forbidden };
  }

  it('retries every failure: applies the one the server accepts now, logs the one it still refuses, returns the count', async () => {
    const { bob, assigned, forbidden } = await bobWithFailures();
    // Alice gives the task back: bob's change is acceptable again.
    await world.elsewhere('alice').upload([{ entity: 'Task', id: assigned.id, kind: 'update', data: { assignee: 'bob' } }]);

    const r = await run(bob, 'retryFailures');
    expect(r.result).toBe(1);
    expect(r.logs).toEqual([['warning', `Still failing: Task ${forbidden.id}`]]);
    expect(await world.elsewhere('alice').get('Task', assigned.id)).toMatchObject({ title: NEW_TITLE, words: wordCount(NEW_TITLE) });
    expect(await bob.runtime.store.get('Task', assigned.id)).toMatchObject({ title: NEW_TITLE, words: wordCount(NEW_TITLE) });
    expect((await bob.runtime.listFailures()).map((f) => f.objectId)).toEqual([forbidden.id]);
    const decisions = r.events.filter((e) => e.type === 'stepEnded' && e.nodeId === 'wasApplied').map((e) => e.type === 'stepEnded' && e.next);
    expect(decisions.sort()).toEqual(['count', 'logStillFailing']);
  });

  it('logs a retry that cannot reach the server and goes on with the next failure', async () => {
    const { bob } = await bobWithFailures();
    bob.network.always(/\/retry$/, 'unreachable');
    const r = await run(bob, 'retryFailures');
    expect(r.result).toBe(0);
    expect(r.logs).toHaveLength(2);
    for (const [level, text] of r.logs) {
      expect(level).toBe('error');
      expect(text).toMatch(/^Could not retry: POST \/api\/failures\/[0-9a-f-]+\/retry failed: .*ECONNREFUSED/);
    }
    expect(await bob.runtime.listFailures()).toHaveLength(2);
  });
});

describe('openTasksLoop', () => {
  it('loops over the retrieved tasks and counts the ones that are not done, deciding per task', async () => {
    const carol = await device('carol'); // a manager reads every task
    await run(carol, 'syncAllAtStartup');
    const elsewhere = world.elsewhere('carol');
    const tasks = (await elsewhere.client.fetchObjects('Task', await elsewhere.ids('Task'))).objects as unknown as Array<{ title: string; done: boolean | null }>;
    expect(tasks.length).toBe(20);
    const open = tasks.filter((t) => t.done !== true).length;
    expect(open).toBeGreaterThan(0);
    expect(open).toBeLessThan(tasks.length);

    const r = await run(carol, 'openTasksLoop');
    expect(r.result).toBe(open);
    // One decision per task, in title order (the Retrieve sorts by title).
    const expected = [...tasks].sort((a, b) => (a.title < b.title ? -1 : 1)).map((t) => (t.done ? 'skipDone' : 'countOpen'));
    const decisions = r.events.filter((e) => e.type === 'stepEnded' && e.nodeId === 'isDone').map((e) => e.type === 'stepEnded' && e.next);
    expect(decisions).toEqual(expected);
    const counts = r.events.filter((e) => e.type === 'variableChanged' && e.name === 'open').map((e) => e.type === 'variableChanged' && e.value);
    expect(counts).toEqual(Array.from({ length: open + 1 }, (_, i) => i));
  });
});

describe('resyncOpenTasks', () => {
  /** The ids of the open tasks `user` may read on the server. */
  async function openTaskIds(user: string): Promise<string[]> {
    const page = await world.elsewhere(user).client.download({ entity: 'Task', constraint: { attribute: 'done', op: 'ne', value: true }, limit: 5000 });
    return page.objects.map((o) => o.id).sort();
  }

  it('fetches the open tasks in full first, then only what changed, and removes the closed and deleted ones as ghosts', async () => {
    const alice = await device('alice');
    await alice.runtime.syncs.ensureDefined(demoSyncs);
    const open = await openTaskIds('alice');
    expect(open.length).toBeGreaterThan(2);

    const first = await run(alice, 'resyncOpenTasks');
    expect(first.result).toBe(0);
    expect(first.messages).toEqual([{ type: 'info', text: `Open tasks: ${open.length} fetched, 0 removed` }]);
    expect((await alice.runtime.store.query('Task')).map((t) => t.id).sort()).toEqual(open);

    // On the server: one task closed, one deleted, one renamed.
    const [closed, deleted, renamed] = open;
    await world.elsewhere('alice').upload([
      { entity: 'Task', id: closed, kind: 'update', data: { done: true } },
      { entity: 'Task', id: deleted, kind: 'delete', data: {} },
      { entity: 'Task', id: renamed, kind: 'update', data: { title: 'Renamed on the server' } },
    ]);
    alice.network.downloadedIds.length = 0;
    const second = await run(alice, 'resyncOpenTasks');
    expect(alice.network.downloadedIds).toEqual([renamed]); // the delta, nothing else
    expect(second.result).toBe(2);
    expect(second.messages).toEqual([{ type: 'info', text: 'Open tasks: 1 fetched, 2 removed' }]);
    expect(await alice.runtime.store.get('Task', closed)).toBeUndefined();
    expect(await alice.runtime.store.get('Task', deleted)).toBeUndefined();
    expect((await alice.runtime.store.get('Task', renamed))!.title).toBe('Renamed on the server');
    expect(await alice.runtime.syncs.getSyncStatus('openTasks')).toMatchObject({ status: 'done', type: 'syncDown' });
  });

  it('shows the error and returns -1 when the sync manager is stopped', async () => {
    const alice = await device('alice');
    await alice.runtime.syncs.ensureDefined(demoSyncs);
    alice.runtime.syncs.stop();
    const r = await run(alice, 'resyncOpenTasks');
    expect(r.result).toBe(-1);
    expect(r.messages).toEqual([
      { type: 'error', text: 'Could not update the open tasks: The sync manager is stopped; call restart() before submitting syncs' },
    ]);
    expect(await alice.runtime.store.count('Task')).toBe(0);
  });
});
