import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../src/journal/JournalEntry.ts';
import { useWorld } from '../support/world.ts';
import { closeProfileDevices, profileDevice } from '../profiles/support.ts';

const world = useWorld({ seed: true, beforeClose: closeProfileDevices });

describe('sync journal', () => {
  it('records a Synchronize with counts per entity, bytes, checkpoints and outcome', async () => {
    const { runtime, network } = await profileDevice(world);
    await runtime.synchronize({ mode: 'all' });
    const [entry] = await runtime.journal.list();
    expect(entry).toMatchObject({ kind: 'synchronize', name: 'all', trigger: 'app', outcome: 'done', error: null });
    const projects = await runtime.store.count('Project');
    expect(projects).toBeGreaterThan(0);
    expect(entry.counts).toContainEqual({ entity: 'Project', direction: 'download', count: projects });
    expect(entry.counts).toContainEqual({ entity: 'Task', direction: 'download', count: await runtime.store.count('Task') });
    expect(entry.bytes.received).toBeGreaterThan(0);
    expect(entry.bytes.received).toBeLessThanOrEqual(network.bytesReceived);
    expect(entry.checkpoints.before.Project).toBeNull();
    expect(entry.checkpoints.after.Project).toMatch(/^\d{4}-/);
    expect(Date.parse(entry.endedAt)).toBeGreaterThanOrEqual(Date.parse(entry.startedAt));
  });

  it('records a failed Synchronize with its error', async () => {
    const { runtime, network } = await profileDevice(world);
    network.always(/\/api\/download/, 'unreachable');
    await expect(runtime.synchronize({ mode: 'all' })).rejects.toMatchObject({ code: 'network' });
    expect(await runtime.journal.last()).toMatchObject({ kind: 'synchronize', outcome: 'failed', error: { code: 'network' } });
  });

  it('records named syncs and ghost cleanings', async () => {
    const { runtime } = await profileDevice(world);
    await runtime.syncs.defineSyncDown({ entity: 'Task' }, { name: 'tasks' });
    const state = await runtime.syncs.reSync('tasks');
    await runtime.syncs.cleanResyncGhosts('tasks');
    const [ghosts, sync] = await runtime.journal.list();
    expect(sync).toMatchObject({ kind: 'namedSync', name: 'tasks', outcome: 'done' });
    expect(sync.checkpoints).toEqual({ before: { tasks: null }, after: { tasks: state.maxTimeStamp } });
    expect(sync.counts).toContainEqual({ entity: 'Task', direction: 'download', count: await runtime.store.count('Task') });
    expect(ghosts).toMatchObject({ kind: 'ghostCleaning', name: 'tasks', outcome: 'done' });
  });

  it('exports JSON without attribute values, failures included', async () => {
    const { runtime } = await profileDevice(world);
    await runtime.synchronize({ mode: 'all' });
    const session = runtime.session();
    // Refused by the server (a title the demo handler rejects is not needed: an unknown project reference is refused).
    const secret = 'Secret title 7f3a';
    const task = session.create('Task', { title: secret, project: crypto.randomUUID() });
    await session.commit(task);
    const result = await runtime.synchronize({ mode: 'unsynchronized' });
    expect(result.failed).toBe(1);
    const text = await runtime.journal.exportJson();
    const exported = JSON.parse(text);
    expect(exported.entries.at(-1).failures).toEqual([{ entity: 'Task', objectId: task.id, reason: expect.any(String) }]);
    expect(text).not.toContain(secret);
  });

  it('keeps at most maxEntries, pruning the oldest', async () => {
    const { runtime } = await profileDevice(world, { journal: { maxEntries: 3 } });
    for (let i = 0; i < 5; i++) await runtime.synchronize({ mode: 'unsynchronized' });
    const entries = await runtime.journal.list();
    expect(entries).toHaveLength(3);
    expect(entries.map((e) => e.seq)).toEqual([5, 4, 3]);
  });

  it('survives a restart: the same database reopened has the entries', async () => {
    const first = await profileDevice(world);
    await first.runtime.synchronize({ mode: 'all' });
    const before = await first.runtime.journal.list();
    first.runtime.close();
    const second = await profileDevice(world, { dbName: first.dbName });
    expect(await second.runtime.journal.list()).toEqual(before);
    await second.runtime.synchronize({ mode: 'unsynchronized' });
    expect((await second.runtime.journal.list()).map((e) => e.name)).toEqual(['unsynchronized', 'all']);
  });

  // The editor's Sync journal view stays live through onEntry: every kind of entry must reach it.
  it('tells listeners (onEntry) of every entry as stored, in order (a refused profile run too), until unsubscribed', async () => {
    const { runtime } = await profileDevice(world, {
      profiles: { definitions: [{ name: 'GetTasks', direction: 'download', entities: { include: ['Task'] }, triggers: [] }] },
    });
    const heard: JournalEntry[] = [];
    const off = runtime.journal.onEntry((e) => void heard.push(e));
    // Before the first full sync the profile is refused: journaled, and heard.
    expect((await runtime.profiles.run('GetTasks', 'editor')).outcome).toBe('refused');
    await runtime.synchronize({ mode: 'all' });
    await runtime.syncs.defineSyncDown({ entity: 'Task' }, { name: 'tasks' });
    await runtime.syncs.reSync('tasks');
    await runtime.syncs.cleanResyncGhosts('tasks');
    expect(heard.map((e) => `${e.kind} ${e.name} ${e.trigger} ${e.outcome}`)).toEqual([
      'profile GetTasks editor refused',
      'synchronize all app done',
      'namedSync tasks app done',
      'ghostCleaning tasks app done',
    ]);
    // What a listener gets is the entry as stored, its seq included.
    expect(heard).toEqual((await runtime.journal.list()).reverse());

    off();
    await runtime.synchronize({ mode: 'unsynchronized' });
    expect(heard).toHaveLength(4);
    expect(await runtime.journal.list()).toHaveLength(5);
  });

  it('keeps an entry written and heard by the other listeners when one listener throws', async () => {
    const { runtime } = await profileDevice(world);
    const heard: string[] = [];
    const broken = new Error('a listener of the app failed');
    runtime.journal.onEntry(() => {
      throw broken;
    });
    runtime.journal.onEntry((e) => void heard.push(`${e.kind} ${e.outcome}`));
    await runtime.synchronize({ mode: 'all' });
    expect(heard).toEqual(['synchronize done']);
    expect(await runtime.journal.last()).toMatchObject({ kind: 'synchronize', outcome: 'done' });
    expect(runtime.journal.writeError).toBeNull();
    expect(runtime.journal.listenerError).toBe(broken);
  });
});

describe('journal changes seen by a view', () => {
  it('tells a view of entries written by another connection to the same database (another tab), not only its own', async () => {
    const tab1 = await profileDevice(world);
    // The same database opened a second time: what a second tab of the app does.
    const tab2 = await profileDevice(world, { dbName: tab1.dbName });
    const heard = { tab1: 0, tab2: 0 };
    const stop1 = tab1.runtime.journal.onChange(() => heard.tab1++);
    const stop2 = tab2.runtime.journal.onChange(() => heard.tab2++);
    try {
      // Subscribing reports nothing: only changes after it.
      await new Promise((r) => setTimeout(r, 50));
      expect(heard).toEqual({ tab1: 0, tab2: 0 });

      await tab1.runtime.synchronize({ mode: 'all' });
      await expect.poll(() => heard.tab2, { timeout: 5_000 }).toBe(1);
      await expect.poll(() => heard.tab1).toBe(1);
      // What tab 2 reads on hearing it is tab 1's entry.
      expect(await tab2.runtime.journal.last()).toMatchObject({ kind: 'synchronize', name: 'all', outcome: 'done' });

      stop1();
      await tab2.runtime.synchronize({ mode: 'unsynchronized' });
      await expect.poll(() => heard.tab2, { timeout: 5_000 }).toBe(2);
      await new Promise((r) => setTimeout(r, 50));
      expect(heard.tab1).toBe(1); // stopped: hears nothing more
    } finally {
      stop1();
      stop2();
    }
  });
});
