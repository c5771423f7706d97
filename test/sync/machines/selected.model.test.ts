import { afterAll, describe, expect, it } from 'vitest';
import { NetworkError, SyncflowError } from '../../../src/errors.ts';
import { selectedMachine } from '../../../src/sync/machines/selected.ts';
import type { LocalObject } from '../../../src/store/types.ts';
import { planPaths, replay } from '../../support/machinePaths.ts';
import { closeSharedStorage, startWorld } from '../../support/world.ts';

afterAll(closeSharedStorage);

const paths = planPaths(selectedMachine, { mode: 'selected', objects: [] }, {
  classify: { changes: [], unchanged: [], skipped: [] },
  upload: { uploaded: 0, applied: [], failures: [], removedIds: [] },
  refresh: { refreshed: 0, removedIds: [] },
});

describe('selected objects machine: every path, replayed against the real store and server', () => {
  it('has the paths the machine defines', () => {
    expect(paths.map((p) => p.states.at(-1)).sort()).toEqual(
      ['cancelled', 'cancelled', 'cancelled', 'done', 'failed', 'failed', 'failed'].sort(),
    );
  });

  it.each(paths.map((p) => [p.name, p] as const))('%s', async (_name, path) => {
    const world = await startWorld();
    try {
      const uuid = () => crypto.randomUUID();
      const alice = world.elsewhere('alice');
      const id = { edited: uuid(), refreshed: uuid(), gone: uuid(), other: uuid() };
      await alice.upload([
        { entity: 'Task', id: id.edited, kind: 'create', data: { title: 'to edit' } },
        { entity: 'Task', id: id.refreshed, kind: 'create', data: { title: 'to refresh' } },
        { entity: 'Task', id: id.gone, kind: 'create', data: { title: 'to lose' } },
        { entity: 'Task', id: id.other, kind: 'create', data: { title: 'not selected' } },
      ]);
      const device = await world.device('alice');
      const { runtime, network } = device;
      await runtime.synchronize({ mode: 'all' });
      await alice.upload([
        { entity: 'Task', id: id.refreshed, kind: 'update', data: { title: 'refreshed from server' } },
        { entity: 'Task', id: id.gone, kind: 'delete', data: {} },
      ]);

      const session = runtime.session();
      const get = async (i: string) => (await runtime.store.get('Task', i))!;
      const [edited, gone, other] = await session.commit([
        session.change(await get(id.edited), { done: true }),
        session.change(await get(id.gone), { title: 'edit that will be refused' }),
        session.change(await get(id.other), { title: 'changed but not selected' }),
      ]);
      const fresh = session.create('Task', { title: 'never committed' });
      const objects: LocalObject[] = [edited, await get(id.refreshed), gone, fresh];

      const replayed = await replay(device, { mode: 'selected', objects, session }, path, {
        fail: (actor) => {
          if (actor === 'classify') objects.push({ $entity: 'Nope', id: uuid() } as unknown as LocalObject);
          else network.always(actor === 'upload' ? /^\/api\/upload$/ : /^\/api\/fetch$/, 'unreachable');
        },
        check: async (state) => {
          const pending = async (i: string) => (await runtime.store.pendingChange('Task', i)) !== undefined;
          switch (state) {
            case 'classifying':
            case 'uploading':
              expect(await runtime.store.pendingCount()).toBe(3);
              expect((await alice.get('Task', id.edited))!.done ?? false).toBe(false);
              break;
            case 'refreshing':
              expect(await pending(id.edited)).toBe(false);
              expect(await alice.get('Task', id.edited)).toMatchObject({ done: true });
              expect(await runtime.store.get('Task', id.gone)).toBeUndefined();
              expect((await runtime.store.listFailures()).map((f) => [f.objectId, f.reason, f.data.title])).toEqual([
                [id.gone, 'deleted', 'edit that will be refused'],
              ]);
              break;
            case 'done':
              expect((await get(id.refreshed)).title).toBe('refreshed from server');
              expect(await pending(id.other)).toBe(true); // not selected: not uploaded
              expect(await alice.get('Task', fresh.id)).toBeNull();
              break;
            case 'failed':
            case 'cancelled':
              for (const i of [id.edited, id.gone]) {
                const onServer = i === id.edited ? (await alice.get('Task', i))?.done === true : (await runtime.store.listFailures()).length === 1;
                expect(onServer !== (await pending(i)), `change of ${i} is either applied or still marked`).toBe(true);
              }
              expect(await pending(id.other)).toBe(true);
              break;
            default:
              throw new Error(`no checks for state ${state}`);
          }
        },
      });

      expect(replayed.visited).toEqual(path.states);
      if (path.states.at(-1) === 'done') {
        expect(replayed.result).toMatchObject({ uploaded: 1, failed: 1, skipped: [fresh.id], removedIds: [id.gone] });
      } else {
        const error = replayed.error as SyncflowError;
        if (path.failingActor === 'classify') expect(error).toBeInstanceOf(SyncflowError);
        else if (path.failingActor) expect(error).toBeInstanceOf(NetworkError);
        else expect(error.code).toBe('sync_cancelled');
      }
    } finally {
      await world.close();
    }
  });
});
