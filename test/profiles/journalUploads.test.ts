/**
 * The journal counts a Synchronize's uploads per entity (the changes the server applied), not as
 * one total; a refused change is not counted. Real runtime, real server.
 */
import { describe, expect, it } from 'vitest';
import { useWorld } from '../support/world.ts';
import { closeProfileDevices, profileDevice } from './support.ts';

const world = useWorld({ beforeClose: closeProfileDevices });

describe('journal: Synchronize uploads per entity', () => {
  it('counts the applied changes of each entity; a refused one is not counted', async () => {
    const { runtime } = await profileDevice(world);
    await runtime.synchronize({ mode: 'all' });
    const session = runtime.session();
    const project = session.create('Project', { name: 'P' });
    const tasks = [session.create('Task', { title: 'a', project: project.id }), session.create('Task', { title: 'b' }), session.create('Task', { title: 'c' })];
    // Refused by the server: it refers to a project that does not exist.
    const refused = session.create('Task', { title: 'dangling', project: crypto.randomUUID() });
    await session.commit([project, ...tasks, refused]);
    const result = await runtime.synchronize({ mode: 'unsynchronized' });
    expect(result).toMatchObject({ uploaded: 4, failed: 1 });
    const entry = (await runtime.journal.last({ kind: 'synchronize' }))!;
    const uploads = entry.counts.filter((c) => c.direction === 'upload');
    expect(uploads).toEqual(expect.arrayContaining([{ entity: 'Project', direction: 'upload', count: 1 }, { entity: 'Task', direction: 'upload', count: 3 }]));
    expect(uploads).toHaveLength(2);
    expect(uploads.reduce((n, c) => n + c.count, 0)).toBe(result.uploaded);
    expect(entry.failures).toEqual([{ entity: 'Task', objectId: refused.id, reason: expect.any(String) }]);
  });

  it('a Synchronize with nothing to upload journals no upload count; an all-objects one counts its uploads too', async () => {
    const { runtime } = await profileDevice(world);
    await runtime.synchronize({ mode: 'all' });
    expect((await runtime.journal.last())!.counts.filter((c) => c.direction === 'upload')).toEqual([]);
    const session = runtime.session();
    const task = session.create('Task', { title: 'x' });
    await session.commit(task);
    await session.commit(session.change(task, { title: 'y' }));
    await runtime.synchronize({ mode: 'all' });
    expect((await runtime.journal.last())!.counts.filter((c) => c.direction === 'upload')).toEqual([{ entity: 'Task', direction: 'upload', count: 1 }]);
  });
});
