import { afterAll, describe, expect, it } from 'vitest';
import { NetworkError, SyncflowError } from '../../../src/errors.ts';
import { allObjectsMachine } from '../../../src/sync/machines/allObjects.ts';
import { planPaths, replay } from '../../support/machinePaths.ts';
import { closeSharedStorage, startWorld } from '../../support/world.ts';

afterAll(closeSharedStorage);

const paths = planPaths(allObjectsMachine, { mode: 'all' }, {
  upload: { uploaded: 0, applied: [], failures: [], removedIds: [] },
  download: { downloaded: 0, removed: 0, files: [] },
  files: 0,
});

const endpointOf: Record<string, RegExp> = { upload: /^\/api\/upload$/, download: /^\/api\/download$/, files: /^\/api\/files\// };

describe('all objects machine: every path, replayed against the real store and server', () => {
  it('has the paths the machine defines', () => {
    // done, and failed / cancelled from each of the three working states
    expect(paths.map((p) => p.states.at(-1)).sort()).toEqual(
      ['cancelled', 'cancelled', 'cancelled', 'done', 'failed', 'failed', 'failed'].sort(),
    );
  });

  it.each(paths.map((p) => [p.name, p] as const))('%s', async (_name, path) => {
    const world = await startWorld();
    try {
      const uuid = () => crypto.randomUUID();
      const alice = world.elsewhere('alice');
      const carol = world.elsewhere('carol');
      const id = { project: uuid(), kept: uuid(), deletedOnServer: uuid(), revoked: uuid(), deletedLocally: uuid(), arriving: uuid(), attachment: uuid() };
      await alice.upload([
        { entity: 'Project', id: id.project, kind: 'create', data: { name: 'P' } },
        { entity: 'Task', id: id.kept, kind: 'create', data: { title: 'kept', project: id.project } },
        { entity: 'Task', id: id.deletedOnServer, kind: 'create', data: { title: 'deleted on server' } },
        { entity: 'Task', id: id.deletedLocally, kind: 'create', data: { title: 'deleted locally' } },
      ]);
      await carol.upload([{ entity: 'Task', id: id.revoked, kind: 'create', data: { title: 'revoked', assignee: 'alice' } }]);
      const device = await world.device('alice');
      const { runtime, network } = device;
      await runtime.synchronize({ mode: 'all' });

      // Meanwhile on the server: a delete, a revoked access, a new object with a file.
      await alice.upload([
        { entity: 'Task', id: id.deletedOnServer, kind: 'delete', data: {} },
        { entity: 'Task', id: id.arriving, kind: 'create', data: { title: 'arriving' } },
        { entity: 'Attachment', id: id.attachment, kind: 'create', data: { name: 'a.txt', task: id.kept } },
      ]);
      await alice.client.putFile('Attachment', id.attachment, new TextEncoder().encode('file body'), 'text/plain');
      await carol.upload([{ entity: 'Task', id: id.revoked, kind: 'update', data: { assignee: 'bob' } }]);

      // And on the device: a create, an update and a delete, committed.
      const session = runtime.session();
      const created = session.create('Task', { title: 'made offline today' });
      const kept = (await runtime.store.get('Task', id.kept))!;
      await session.commit([created, session.change(kept, { title: 'kept and edited' })]);
      await session.delete((await runtime.store.get('Task', id.deletedLocally))!);

      /** Each local change is on the server or still marked: never both missing, never lost. */
      const noChangeLost = async () => {
        const onServer = {
          created: (await alice.get('Task', created.id)) !== null,
          updated: (await alice.get('Task', id.kept))?.title === 'kept and edited',
          deleted: (await alice.get('Task', id.deletedLocally)) === null,
        };
        const marked = {
          created: (await runtime.store.pendingChange('Task', created.id)) !== undefined,
          updated: (await runtime.store.pendingChange('Task', id.kept)) !== undefined,
          deleted: (await runtime.store.pendingChange('Task', id.deletedLocally)) !== undefined,
        };
        for (const k of ['created', 'updated', 'deleted'] as const) {
          expect(onServer[k] !== marked[k], `${k}: on server ${onServer[k]}, still marked ${marked[k]}`).toBe(true);
        }
        // the local values are kept whatever happened
        expect((await runtime.store.get('Task', created.id))?.title).toBe('made offline today');
        expect((await runtime.store.get('Task', id.kept))?.title).toBe('kept and edited');
      };
      const localTaskIds = async () => (await runtime.store.query('Task')).map((o) => o.id).sort();

      const replayed = await replay(device, { mode: 'all' }, path, {
        fail: (actor) => network.always(endpointOf[actor], 'unreachable'),
        check: async (state) => {
          switch (state) {
            case 'uploading':
              expect(await runtime.store.pendingCount()).toBe(3);
              expect(await alice.get('Task', created.id)).toBeNull();
              break;
            case 'downloading':
              expect(await runtime.store.pendingCount()).toBe(0);
              expect(await alice.get('Task', created.id)).toMatchObject({ title: 'made offline today', words: 3 });
              expect(await alice.get('Task', id.deletedLocally)).toBeNull();
              break;
            case 'downloadingFiles':
              expect(await localTaskIds()).toEqual([id.kept, created.id, id.arriving].sort());
              expect(await runtime.store.get('Attachment', id.attachment)).toBeDefined();
              expect(await runtime.store.getFile('Attachment', id.attachment)).toBeUndefined();
              break;
            case 'done':
              expect(await localTaskIds()).toEqual([id.kept, created.id, id.arriving].sort());
              expect((await runtime.store.get('Task', created.id))!.words).toBe(3);
              expect(new TextDecoder().decode((await runtime.store.getFile('Attachment', id.attachment))!.data)).toBe('file body');
              expect(await runtime.store.pendingCount()).toBe(0);
              break;
            case 'failed':
            case 'cancelled':
              await noChangeLost();
              break;
            default:
              throw new Error(`no checks for state ${state}`);
          }
        },
      });

      expect(replayed.visited).toEqual(path.states);
      if (path.states.at(-1) === 'done') {
        expect(replayed.result).toMatchObject({ uploaded: 3, failed: 0, removed: 2 });
      } else {
        const error = replayed.error as SyncflowError;
        if (path.failingActor) expect(error).toBeInstanceOf(NetworkError);
        else expect(error.code).toBe('sync_cancelled');
        // and the next sync resumes and completes
        const next = await runtime.synchronize({ mode: 'all' });
        expect(next.failed).toBe(0);
        expect(await localTaskIds()).toEqual([id.kept, created.id, id.arriving].sort());
        expect(await runtime.store.pendingCount()).toBe(0);
        expect(await alice.get('Task', id.kept)).toMatchObject({ title: 'kept and edited' });
      }
    } finally {
      await world.close();
    }
  });
});
