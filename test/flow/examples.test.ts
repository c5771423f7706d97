import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { NetworkError, SIMULTANEOUS_SYNC_MESSAGE, SimultaneousSyncError } from '../../src/errors.ts';
import { readFlowDirectory } from '../../src/flow/node/loadFlowFile.ts';
import { validateFlow } from '../../src/flow/validateFlow.ts';
import type { LocalObject } from '../../src/store/types.ts';
import { makeWorld, type TestWorld } from './support/host.ts';

const dir = fileURLToPath(new URL('../../flows', import.meta.url));
const flows = await readFlowDirectory(dir);

describe('example flows', () => {
  it('are all here', () => {
    expect(Object.keys(flows).sort()).toEqual(['editTaskAndSync', 'openTasksLoop', 'resyncOpenTasks', 'retryFailures', 'syncAllAtStartup', 'syncWithErrorHandler']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.flow.json'))).toHaveLength(6);
  });

  it.each(Object.keys(flows))('%s is valid against the demo schema and points at the JSON Schema', (name) => {
    const { problems } = validateFlow(flows[name], { schema: demoSchema, resolveFlow: (n) => flows[n] });
    expect(problems).toEqual([]);
    expect((flows[name] as { $schema?: string }).$schema).toBe('./flow.schema.json');
  });

  describe('running them', () => {
    let world: TestWorld;
    beforeEach(async () => {
      world = await makeWorld();
    });
    afterEach(() => world.store.close());
    const run = (name: string, params: Record<string, unknown> = {}) => world.interpreter({ flows }).run(name, params);

    it('syncAllAtStartup synchronizes all objects and logs it', async () => {
      expect(await run('syncAllAtStartup')).toBeNull();
      expect(world.syncRequests).toEqual([{ mode: 'all' }]);
      expect(world.logs).toEqual([['info', expect.stringMatching(/^Synchronized all objects at \d{4}-\d\d-\d\dT/)]]);
    });

    it('editTaskAndSync changes, commits and synchronizes the task, and returns the server\'s version', async () => {
      const task = await world.seed('Task', { title: 'Old title' });
      world.onSync = async (request) => {
        if (request.mode !== 'selected') throw new Error('expected selected');
        const [sent] = request.objects as LocalObject[];
        // The server's before-commit handler counts the words.
        const { $entity, ...plain } = sent;
        await world.store.applyServerObjects('Task', [{ ...plain, words: String(sent.title).split(' ').length }], { overwrite: true });
        return { uploaded: 1, downloaded: 1 };
      };
      const result = (await run('editTaskAndSync', { task, title: 'A much better title' })) as LocalObject;
      expect(result).toMatchObject({ id: task.id, title: 'A much better title', words: 4 });
      const [request] = world.syncRequests;
      expect(request.mode === 'selected' && request.objects.map((o) => (o as LocalObject | null)?.title)).toEqual(['A much better title']);
      expect((await world.store.get('Task', task.id))?.title).toBe('A much better title');
    });

    it('editTaskAndSync returns empty when the server no longer has the task', async () => {
      const task = await world.seed('Task', { title: 'Doomed' });
      world.onSync = async () => {
        await world.store.removeObjects('Task', [task.id], { force: true });
        return { removed: 1, removedIds: [task.id], failed: 1 };
      };
      expect(await run('editTaskAndSync', { task, title: 'Too late' })).toBeNull();
    });

    it('syncWithErrorHandler returns true when the sync succeeds', async () => {
      expect(await run('syncWithErrorHandler')).toBe(true);
      expect(world.syncRequests).toEqual([{ mode: 'unsynchronized' }]);
      expect(world.messages).toEqual([]);
    });

    it('syncWithErrorHandler shows the simultaneous-sync error and returns false', async () => {
      world.onSync = async () => {
        throw new SimultaneousSyncError();
      };
      expect(await run('syncWithErrorHandler')).toBe(false);
      expect(world.messages).toEqual([{ type: 'error', text: `Synchronization failed: ${SIMULTANEOUS_SYNC_MESSAGE}` }]);
    });

    it('retryFailures retries each failure and counts the applied ones', async () => {
      const failures = [world.failure({ createdDate: '2024-01-01T00:00:00.000Z' }), world.failure({ createdDate: '2024-01-02T00:00:00.000Z' }), world.failure({ createdDate: '2024-01-03T00:00:00.000Z' })];
      await world.store.putFailures(failures);
      world.onRetry = async (id) => {
        if (id === failures[0].id) return { changeId: 'c', status: 'applied', object: null };
        if (id === failures[1].id) return { changeId: 'c', status: 'failed', failure: failures[1] };
        throw new NetworkError('The server cannot be reached');
      };
      expect(await run('retryFailures')).toBe(1);
      expect(world.logs).toEqual([
        ['warning', `Still failing: Task ${failures[1].objectId}`],
        ['error', 'Could not retry: The server cannot be reached'],
      ]);
    });

    it('retryFailures returns 0 without failures', async () => {
      expect(await run('retryFailures')).toBe(0);
    });

    it('openTasksLoop counts the tasks that are not done', async () => {
      for (const [title, done] of [['a', true], ['b', false], ['c', null], ['d', true], ['e', false]] as const) await world.seed('Task', { title, done });
      expect(await run('openTasksLoop')).toBe(3);
      const decisions = world.events.filter((e) => e.type === 'stepEnded' && e.nodeId === 'isDone');
      expect(decisions.map((e) => e.type === 'stepEnded' && e.next)).toEqual(['skipDone', 'countOpen', 'countOpen', 'skipDone', 'countOpen']);
    });
  });
});
