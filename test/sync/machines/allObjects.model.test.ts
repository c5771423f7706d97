import { describe, expect, it } from 'vitest';
import { NetworkError, SyncflowError } from '../../../src/errors.ts';
import { allObjectsMachine } from '../../../src/sync/machines/allObjects.ts';
import { CHUNK, chunksLeftAfter, decode, FILE_CHUNK, fileUploadFaults, OFFLINE_BODY, offlineAttachment, planPaths, replay, serverFile as serverFileOf, text } from '../../support/machinePaths.ts';
import { startWorld, useSharedStorage } from '../../support/world.ts';

useSharedStorage();

const paths = planPaths(allObjectsMachine, { mode: 'all' }, {
  upload: { uploaded: 0, applied: [], answered: [], toRefresh: [], failures: [], removedIds: [], deleted: [] },
  uploadFiles: { uploaded: 0, refused: [] },
  download: { downloaded: 0, removed: 0, files: [] },
  files: 0,
});

const endpointOf: Record<string, RegExp> = { upload: /^\/api\/upload$/, download: /^\/api\/download$/, files: /^\/api\/files\// };


describe('all objects machine: every path, replayed against the real store and server', () => {
  it('has the paths the machine defines', () => {
    // done, and failed / cancelled from each of the four working states
    expect(paths.map((p) => p.name).sort()).toEqual(
      [
        'uploading → uploadingFiles → downloading → downloadingFiles → done',
        'uploading → failed',
        'uploading → cancelled',
        'uploading → uploadingFiles → failed',
        'uploading → uploadingFiles → cancelled',
        'uploading → uploadingFiles → downloading → failed',
        'uploading → uploadingFiles → downloading → cancelled',
        'uploading → uploadingFiles → downloading → downloadingFiles → failed',
        'uploading → uploadingFiles → downloading → downloadingFiles → cancelled',
      ].sort(),
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
      const device = await world.device('alice', { files: { chunkSize: CHUNK } });
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
      const attached = session.create('Attachment', { name: 'offline.txt', task: id.kept });
      const kept = (await runtime.store.get('Task', id.kept))!;
      await session.commit([created, attached, session.change(kept, { title: 'kept and edited' })]);
      await session.delete((await runtime.store.get('Task', id.deletedLocally))!);
      await runtime.store.putFile('Attachment', attached.id, text(OFFLINE_BODY), 'text/plain');
      const offline = await offlineAttachment(device, alice, attached.id);
      const { isPending } = offline;

      const serverFile = (i: string) => serverFileOf(alice, i);

      /** Each local change is on the server or still marked: never both missing, never lost. */
      const noChangeLost = async () => {
        const onServer = {
          created: (await alice.get('Task', created.id)) !== null,
          attached: (await alice.get('Attachment', attached.id)) !== null,
          updated: (await alice.get('Task', id.kept))?.title === 'kept and edited',
          deleted: (await alice.get('Task', id.deletedLocally)) === null,
        };
        const marked = {
          created: (await runtime.store.pendingChange('Task', created.id)) !== undefined,
          attached: (await runtime.store.pendingChange('Attachment', attached.id)) !== undefined,
          updated: (await runtime.store.pendingChange('Task', id.kept)) !== undefined,
          deleted: (await runtime.store.pendingChange('Task', id.deletedLocally)) !== undefined,
        };
        for (const k of ['created', 'attached', 'updated', 'deleted'] as const) {
          expect(onServer[k] !== marked[k], `${k}: on server ${onServer[k]}, still marked ${marked[k]}`).toBe(true);
        }
        // the local values are kept whatever happened
        expect((await runtime.store.get('Task', created.id))?.title).toBe('made offline today');
        expect((await runtime.store.get('Task', id.kept))?.title).toBe('kept and edited');
        // The offline contents are on the server whole, or still marked; on the device they are whole either way.
        await offline.expectWholeOrMarked();
      };
      const localTaskIds = async () => (await runtime.store.query('Task')).map((o) => o.id).sort();

      const replayed = await replay(device, { mode: 'all' }, path, {
        ...fileUploadFaults(network, endpointOf),
        check: async (state) => {
          switch (state) {
            case 'uploading':
              expect(await runtime.store.pendingCount()).toBe(4);
              expect(await alice.get('Task', created.id)).toBeNull();
              expect(await isPending()).toBe(true);
              break;
            case 'uploadingFiles':
              await offline.expectObjectBeforeContents('offline.txt');
              break;
            case 'downloading':
              expect(await serverFile(attached.id)).toBe(OFFLINE_BODY);
              expect(await isPending()).toBe(false);
              expect(await runtime.store.pendingCount()).toBe(0);
              expect(await alice.get('Task', created.id)).toMatchObject({ title: 'made offline today', words: 3 });
              expect(await alice.get('Task', id.deletedLocally)).toBeNull();
              break;
            case 'downloadingFiles':
              expect(await localTaskIds()).toEqual([id.kept, created.id, id.arriving].sort());
              expect(await runtime.store.get('Attachment', id.attachment)).toBeDefined();
              expect(await runtime.store.getFile('Attachment', id.attachment)).toBeUndefined();
              // the full download kept the uploaded contents and does not fetch them back
              expect(decode((await runtime.store.getFile('Attachment', attached.id))?.data)).toBe(OFFLINE_BODY);
              break;
            case 'done':
              expect(await localTaskIds()).toEqual([id.kept, created.id, id.arriving].sort());
              expect((await runtime.store.get('Task', created.id))!.words).toBe(3);
              expect(new TextDecoder().decode((await runtime.store.getFile('Attachment', id.attachment))!.data)).toBe('file body');
              expect(await runtime.store.pendingCount()).toBe(0);
              expect(await runtime.store.pendingFiles()).toEqual([]);
              expect(await serverFile(attached.id)).toBe(OFFLINE_BODY);
              break;
            case 'failed':
            case 'cancelled':
              await noChangeLost();
              await offline.expectBrokenOff(path, 'offline.txt');
              // the server's new contents are never half-stored: absent until the download completes
              expect(await runtime.store.getFile('Attachment', id.attachment)).toBeUndefined();
              break;
            default:
              throw new Error(`no checks for state ${state}`);
          }
        },
      });

      expect(replayed.visited).toEqual(path.states);
      if (path.states.at(-1) === 'done') {
        expect(replayed.result).toMatchObject({ uploaded: 4, failed: 0, removed: 2, files: { uploaded: 1, downloaded: 1, refused: [] } });
      } else {
        const error = replayed.error as SyncflowError;
        if (path.failingActor) expect(error).toBeInstanceOf(NetworkError);
        else expect(error.code).toBe('sync_cancelled');
        // and the next sync resumes and completes; a broken-off file upload sends only the chunks the server lacks
        const before = network.count(FILE_CHUNK);
        const next = await runtime.synchronize({ mode: 'all' });
        expect(next.failed).toBe(0);
        expect(network.count(FILE_CHUNK) - before).toBe(chunksLeftAfter(path));
        expect(await runtime.store.pendingFiles()).toEqual([]);
        expect(await serverFile(attached.id)).toBe(OFFLINE_BODY);
        expect(decode((await runtime.store.getFile('Attachment', id.attachment))?.data)).toBe('file body');
        expect(await localTaskIds()).toEqual([id.kept, created.id, id.arriving].sort());
        expect(await runtime.store.pendingCount()).toBe(0);
        expect(await alice.get('Task', id.kept)).toMatchObject({ title: 'kept and edited' });
      }
    } finally {
      await world.close();
    }
  });
});
