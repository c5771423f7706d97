import { afterAll, describe, expect, it } from 'vitest';
import { NetworkError, SyncflowError } from '../../../src/errors.ts';
import { demoSchema } from '../../../src/demo/schema.ts';
import { unsynchronizedMachine } from '../../../src/sync/machines/unsynchronized.ts';
import { planPaths, replay } from '../../support/machinePaths.ts';
import { closeSharedStorage, startWorld } from '../../support/world.ts';

afterAll(closeSharedStorage);

const paths = planPaths(unsynchronizedMachine, { mode: 'unsynchronized' }, {
  upload: { uploaded: 0, applied: [], failures: [], removedIds: [] },
  refresh: { refreshed: 0, removedIds: [] },
});

const endpointOf: Record<string, RegExp> = { upload: /^\/api\/upload$/, refresh: /^\/api\/fetch$/ };

describe('unsynchronized objects machine: every path, replayed against the real store and server', () => {
  it('has the paths the machine defines', () => {
    expect(paths.map((p) => p.states.at(-1)).sort()).toEqual(['cancelled', 'cancelled', 'done', 'failed', 'failed']);
  });

  it.each(paths.map((p) => [p.name, p] as const))('%s', async (_name, path) => {
    const world = await startWorld();
    try {
      const uuid = () => crypto.randomUUID();
      const alice = world.elsewhere('alice');
      const id = { edited: uuid(), untouched: uuid(), deleted: uuid() };
      await alice.upload([
        { entity: 'Task', id: id.edited, kind: 'create', data: { title: 'to edit' } },
        { entity: 'Task', id: id.untouched, kind: 'create', data: { title: 'untouched' } },
        { entity: 'Task', id: id.deleted, kind: 'create', data: { title: 'to delete' } },
      ]);
      const device = await world.device('alice');
      const { runtime, network } = device;
      await runtime.synchronize({ mode: 'all' });
      // A server change to an object this device did not touch: this mode must not fetch it.
      await alice.upload([{ entity: 'Task', id: id.untouched, kind: 'update', data: { title: 'changed on server' } }]);

      const session = runtime.session();
      const created = session.create('Task', { title: 'new one here' });
      await session.commit([created, session.change((await runtime.store.get('Task', id.edited))!, { done: true })]);
      await session.delete((await runtime.store.get('Task', id.deleted))!);

      const noChangeLost = async () => {
        const onServer = [
          (await alice.get('Task', created.id)) !== null,
          (await alice.get('Task', id.edited))?.done === true,
          (await alice.get('Task', id.deleted)) === null,
        ];
        const marked = await Promise.all([created.id, id.edited, id.deleted].map(async (i) => (await runtime.store.pendingChange('Task', i)) !== undefined));
        expect(onServer.map((s, i) => s !== marked[i])).toEqual([true, true, true]);
      };

      const replayed = await replay(device, { mode: 'unsynchronized' }, path, {
        fail: (actor) => network.always(endpointOf[actor], 'unreachable'),
        check: async (state) => {
          switch (state) {
            case 'uploading':
              expect(await runtime.store.pendingCount()).toBe(3);
              expect(await alice.get('Task', created.id)).toBeNull();
              break;
            case 'refreshing':
              expect(await runtime.store.pendingCount()).toBe(0);
              expect(await alice.get('Task', id.edited)).toMatchObject({ done: true });
              // the server changes the object again before the refresh: the refresh must bring it
              await alice.upload([{ entity: 'Task', id: id.edited, kind: 'update', data: { estimate: 8 } }]);
              break;
            case 'done':
              expect((await runtime.store.get('Task', id.edited))!.estimate).toBe(8);
              expect((await runtime.store.get('Task', created.id))!.words).toBe(3);
              expect((await runtime.store.get('Task', id.untouched))!.title).toBe('untouched');
              expect(await runtime.store.get('Task', id.deleted)).toBeUndefined();
              break;
            case 'failed':
            case 'cancelled':
              await noChangeLost();
              expect((await runtime.store.get('Task', id.untouched))!.title).toBe('untouched');
              break;
            default:
              throw new Error(`no checks for state ${state}`);
          }
        },
      });

      expect(replayed.visited).toEqual(path.states);
      if (path.states.at(-1) === 'done') {
        expect(replayed.result).toMatchObject({ uploaded: 3, failed: 0, downloaded: 2 });
        expect(network.requests.filter((r) => r.includes('/api/download'))).toHaveLength(demoSchema.order.length); // only the first full sync's, one per entity
      } else {
        const error = replayed.error as SyncflowError;
        if (path.failingActor) expect(error).toBeInstanceOf(NetworkError);
        else expect(error.code).toBe('sync_cancelled');
        await runtime.synchronize({ mode: 'unsynchronized' });
        expect(await runtime.store.pendingCount()).toBe(0);
        await noChangeLost();
      }
    } finally {
      await world.close();
    }
  });
});
