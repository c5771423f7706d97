/**
 * The Run profile activity through the interpreter (runtime.runFlow) over a real runtime with
 * profiles and a real sync server: the summary it outputs, refusals and skips as a catchable
 * ProfileRefusedError, and the check of profile names when the flow loads.
 */
import { describe, expect, it } from 'vitest';
import { FlowValidationError, ProfileRefusedError } from '../../../src/errors.ts';
import type { Flow } from '../../../src/flow/format.ts';
import type { ProfileInput } from '../../../src/profiles/Profile.ts';
import { useWorld } from '../../support/world.ts';
import { closeProfileDevices, profileDevice } from '../../profiles/support.ts';
import { activity, linear, objectParam, T } from '../support/flows.ts';

const world = useWorld({ beforeClose: closeProfileDevices });

const profiles: ProfileInput[] = [
  { name: 'GetTasks', direction: 'download', entities: { include: ['Task'] }, globalExclusions: false },
  { name: 'PushAll', direction: 'upload', entities: { exclude: [] } },
];

/** A device whose full sync is done (profiles may start), with GetTasks and PushAll. */
async function readyDevice() {
  const device = await profileDevice(world, { profiles: { definitions: profiles } });
  await device.runtime.synchronize({ mode: 'all' });
  return device;
}

async function newTask(title: string): Promise<string> {
  const id = crypto.randomUUID();
  const { results } = await world.elsewhere('alice').upload([{ entity: 'Task', id, kind: 'create', data: { title } }]);
  expect(results[0].status).toBe('applied');
  return id;
}

/** Runs `profile` and returns what the error handler saw, or 'ran: <outcome> <downloaded>' when it ran. */
function caught(profile: string): Flow {
  return linear([activity('run', { type: 'runProfile', profile, outputVariable: 'summary' }, { errorHandling: 'customWithoutRollback' })], {
    returnType: T.string,
    returnValue: "'ran: ' + toString($summary/outcome) + ' ' + toString($summary/downloaded)",
    nodes: [{ id: 'handled', type: 'end', returnValue: "$latestError/type + ' | ' + $latestError/message" }],
    edges: [{ from: 'run', to: 'handled', errorHandler: true }],
  });
}

describe('runProfile activity', () => {
  it('runs the profile and outputs its summary (outcome and counts); held objects are refreshed', async () => {
    const { runtime } = await readyDevice();
    const id = await newTask('before');
    await runtime.synchronize({ mode: 'all' });
    const task = await runtime.store.get('Task', id);
    await world.elsewhere('alice').upload([{ entity: 'Task', id, kind: 'update', data: { title: 'after' } }]);
    await newTask('another one');
    const flow = linear([activity('run', { type: 'runProfile', profile: 'GetTasks', outputVariable: 'summary' })], {
      parameters: [objectParam('task', 'Task')],
      returnType: T.string,
      returnValue: "$task/title + ' ' + toString($summary/outcome) + ' ' + toString($summary/downloaded) + ' ' + toString($summary/uploaded) + ' ' + $summary/profile",
    });
    // The profile's first run downloads every Task (its own checkpoint starts empty).
    const tasks = (await world.elsewhere('alice').ids('Task')).length;
    expect(await runtime.runFlow(flow, { task })).toBe(`after done ${tasks} 0 GetTasks`);
    const entry = await runtime.journal.last({ kind: 'profile' });
    expect(entry).toMatchObject({ name: 'GetTasks', trigger: 'flow', outcome: 'done' });
    // Incremental afterwards: only what changed since.
    await world.elsewhere('alice').upload([{ entity: 'Task', id, kind: 'update', data: { title: 'again' } }]);
    expect(await runtime.runFlow(flow, { task: await runtime.store.get('Task', id) })).toBe('again done 1 0 GetTasks');
  });

  it('a refused run (unresolved failures) fails with profile_refused and its reason, caught by the error handler', async () => {
    const { runtime } = await readyDevice();
    const session = runtime.session();
    await session.commit(session.create('Task', { title: 'dangling', project: crypto.randomUUID() }));
    expect((await runtime.synchronize({ mode: 'unsynchronized' })).failed).toBe(1);
    const before = await runtime.store.count('Task');
    expect(await runtime.runFlow(caught('GetTasks'), {})).toBe(
      'profile_refused | The sync profile "GetTasks" did not run (unresolved_failures): 1 unresolved synchronization failure(s)',
    );
    expect(await runtime.store.count('Task')).toBe(before);
    expect(await runtime.journal.last({ kind: 'profile' })).toMatchObject({ name: 'GetTasks', outcome: 'refused', error: { code: 'unresolved_failures' } });
    // Without a handler the flow fails with the typed error, its fields set.
    const error = await runtime.runFlow(linear([activity('run', { type: 'runProfile', profile: 'GetTasks' })]), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProfileRefusedError);
    expect(error).toMatchObject({ code: 'profile_refused', profile: 'GetTasks', reason: 'unresolved_failures' });
    // Once the failure is dismissed the same flow runs.
    await runtime.dismissFailure((await runtime.listFailures())[0].id);
    expect(await runtime.runFlow(caught('GetTasks'), {})).toMatch(/^ran: done \d+$/);
  });

  it('refuses before the first full sync (full_sync_required)', async () => {
    const { runtime } = await profileDevice(world, { profiles: { definitions: profiles } });
    expect(await runtime.runFlow(caught('PushAll'), {})).toBe(
      'profile_refused | The sync profile "PushAll" did not run (full_sync_required): a full synchronization is required first (first run)',
    );
  });

  it('while a Synchronize runs, the run is skipped: profile_refused (sync_running), journaled, nothing queued', async () => {
    const { runtime, network } = await readyDevice();
    const session = runtime.session();
    const task = session.create('Task', { title: 'local' });
    await session.commit(task);
    const held = network.hold('/api/download');
    const sync = runtime.synchronize({ mode: 'all' });
    await held.arrived;
    expect(await runtime.runFlow(caught('PushAll'), {})).toBe(
      'profile_refused | The sync profile "PushAll" did not run (sync_running): another synchronization was running',
    );
    expect(await runtime.journal.last({ kind: 'profile' })).toMatchObject({ name: 'PushAll', outcome: 'skipped', error: null });
    held.release();
    await sync;
    // Nothing was queued: no second profile entry appears once the Synchronize is over.
    expect((await runtime.journal.list({ kind: 'profile' })).length).toBe(1);
  });

  it('stopping the flow stops the profile run it started: the flow is cancelled (no error handler catches it), the run journaled as stopped', async () => {
    const { runtime, network } = await readyDevice();
    await newTask('on the server');
    const held = network.hold('/api/download');
    const controller = new AbortController();
    const running = runtime.runFlow(caught('GetTasks'), {}, { signal: controller.signal });
    await held.arrived; // the profile's download is under way
    controller.abort();
    held.release();
    await expect(running).rejects.toMatchObject({ code: 'flow_cancelled' });
    expect(await runtime.journal.last({ kind: 'profile' })).toMatchObject({ name: 'GetTasks', trigger: 'flow', outcome: 'stopped' });
    // Nothing runs on: the sync lock is free, and a new run of the profile goes through.
    expect(await runtime.runFlow(caught('GetTasks'), {})).toMatch(/^ran: done \d+$/);
  });

  it('a stopped sync manager skips the run with sync_manager_stopped', async () => {
    const { runtime } = await readyDevice();
    runtime.syncs.stop();
    expect(await runtime.runFlow(caught('PushAll'), {})).toMatch(/^profile_refused \| .*\(sync_manager_stopped\)/);
  });

  it('an unknown profile name does not load when the app has profiles; a missing name never loads', async () => {
    const { runtime } = await readyDevice();
    const unknown = runtime.runFlow(linear([activity('run', { type: 'runProfile', profile: 'Nope' })]), {});
    await expect(unknown).rejects.toBeInstanceOf(FlowValidationError);
    await expect(unknown).rejects.toThrow(/nodes\[1\]\.activity\.profile: unknown sync profile "Nope"/);
    await expect(runtime.runFlow(linear([activity('run', { type: 'runProfile', profile: '' })]), {})).rejects.toThrow(/name the sync profile to run/);
    // The output is a System.ProfileRun: its members are checked too.
    const wrongMember = linear([activity('run', { type: 'runProfile', profile: 'GetTasks', outputVariable: 's' })], { returnType: T.string, returnValue: '$s/title' });
    await expect(runtime.runFlow(wrongMember, {})).rejects.toThrow(/System\.ProfileRun has no member|no member "title"/);
  });

  it('an app without profiles loads the flow and fails it when it runs (not_found)', async () => {
    const { runtime } = await profileDevice(world);
    await expect(runtime.runFlow(linear([activity('run', { type: 'runProfile', profile: 'GetTasks' })]), {})).rejects.toMatchObject({ code: 'not_found' });
  });
});
