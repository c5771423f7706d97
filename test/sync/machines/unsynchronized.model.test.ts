import { describe, expect, it } from 'vitest';
import { NetworkError, SyncflowError } from '../../../src/errors.ts';
import { demoSchema } from '../../../src/demo/schema.ts';
import { unsynchronizedMachine } from '../../../src/sync/machines/unsynchronized.ts';
import { CHUNK, chunksLeftAfter, decode, FILE_CHUNK, fileUploadFaults, OFFLINE_BODY, offlineAttachment, planPaths, replay, serverFile as serverFileOf, text } from '../../support/machinePaths.ts';
import { startWorld, useSharedStorage } from '../../support/world.ts';

useSharedStorage();

const paths = planPaths(unsynchronizedMachine, { mode: 'unsynchronized' }, {
  upload: { uploaded: 0, applied: [], answered: [], toRefresh: [], failures: [], removedIds: [], deleted: [] },
  uploadFiles: { uploaded: 0, refused: [] },
  refresh: { refreshed: 0, removedIds: [] },
  files: 0,
});

const endpointOf: Record<string, RegExp> = { upload: /^\/api\/upload$/, refresh: /^\/api\/fetch$/, files: /^\/api\/files\// };


describe('unsynchronized objects machine: every path, replayed against the real store and server', () => {
  it('has the paths the machine defines', () => {
    // done, and failed / cancelled from each of the four working states
    expect(paths.map((p) => p.name).sort()).toEqual(
      [
        'uploading → uploadingFiles → refreshing → downloadingFiles → done',
        'uploading → failed',
        'uploading → cancelled',
        'uploading → uploadingFiles → failed',
        'uploading → uploadingFiles → cancelled',
        'uploading → uploadingFiles → refreshing → failed',
        'uploading → uploadingFiles → refreshing → cancelled',
        'uploading → uploadingFiles → refreshing → downloadingFiles → failed',
        'uploading → uploadingFiles → refreshing → downloadingFiles → cancelled',
      ].sort(),
    );
  });

  it.each(paths.map((p) => [p.name, p] as const))('%s', async (_name, path) => {
    const world = await startWorld();
    try {
      const uuid = () => crypto.randomUUID();
      const alice = world.elsewhere('alice');
      const id = { edited: uuid(), untouched: uuid(), deleted: uuid(), shared: uuid() };
      await alice.upload([
        { entity: 'Task', id: id.edited, kind: 'create', data: { title: 'to edit' } },
        { entity: 'Task', id: id.untouched, kind: 'create', data: { title: 'untouched' } },
        { entity: 'Task', id: id.deleted, kind: 'create', data: { title: 'to delete' } },
        { entity: 'Attachment', id: id.shared, kind: 'create', data: { name: 'shared.txt', task: id.edited } },
      ]);
      await alice.client.putFile('Attachment', id.shared, text('first'), 'text/plain');
      const device = await world.device('alice', { files: { chunkSize: CHUNK } });
      const { runtime, network } = device;
      await runtime.synchronize({ mode: 'all' });
      expect(decode((await runtime.store.getFile('Attachment', id.shared))?.data)).toBe('first');
      // A server change to an object this device did not touch: this mode must not fetch it.
      await alice.upload([{ entity: 'Task', id: id.untouched, kind: 'update', data: { title: 'changed on server' } }]);

      const session = runtime.session();
      const created = session.create('Task', { title: 'new one here' });
      const attached = session.create('Attachment', { name: 'offline.txt', task: id.edited });
      const shared = (await runtime.store.get('Attachment', id.shared))!;
      await session.commit([
        created,
        attached,
        session.change((await runtime.store.get('Task', id.edited))!, { done: true }),
        session.change(shared, { name: 'renamed here.txt' }),
      ]);
      await session.delete((await runtime.store.get('Task', id.deleted))!);
      await runtime.store.putFile('Attachment', attached.id, text(OFFLINE_BODY), 'text/plain');
      // Meanwhile the renamed attachment's contents change on the server: the refresh brings the new ones.
      await alice.client.putFile('Attachment', id.shared, text('second'), 'text/plain');
      const offline = await offlineAttachment(device, alice, attached.id);
      const { isPending } = offline;

      const serverFile = (i: string) => serverFileOf(alice, i);

      /** Every local change is on the server or still marked, and the local values are intact. */
      const noChangeLost = async () => {
        const onServer = [
          (await alice.get('Task', created.id)) !== null,
          (await alice.get('Attachment', attached.id)) !== null,
          (await alice.get('Task', id.edited))?.done === true,
          (await alice.get('Attachment', id.shared))?.name === 'renamed here.txt',
          (await alice.get('Task', id.deleted)) === null,
        ];
        const marked = await Promise.all(
          [['Task', created.id], ['Attachment', attached.id], ['Task', id.edited], ['Attachment', id.shared], ['Task', id.deleted]].map(
            async ([e, i]) => (await runtime.store.pendingChange(e, i)) !== undefined,
          ),
        );
        expect(onServer.map((s, i) => s !== marked[i])).toEqual([true, true, true, true, true]);
        expect((await runtime.store.get('Attachment', id.shared))!.name).toBe('renamed here.txt');
        // The offline contents are on the server whole, or still marked; on the device they are whole either way.
        await offline.expectWholeOrMarked();
      };

      const replayed = await replay(device, { mode: 'unsynchronized' }, path, {
        ...fileUploadFaults(network, endpointOf),
        check: async (state) => {
          switch (state) {
            case 'uploading':
              expect(await runtime.store.pendingCount()).toBe(5);
              expect(await alice.get('Task', created.id)).toBeNull();
              expect(await isPending()).toBe(true);
              break;
            case 'uploadingFiles':
              await offline.expectObjectBeforeContents('offline.txt');
              break;
            case 'refreshing':
              expect(await runtime.store.pendingCount()).toBe(0);
              expect(await alice.get('Task', id.edited)).toMatchObject({ done: true });
              expect(await serverFile(attached.id)).toBe(OFFLINE_BODY);
              expect(await isPending()).toBe(false);
              // the upload's answers settled the tasks: they are stored with the server's version already
              expect((await runtime.store.get('Task', created.id))!.words).toBe(3);
              // The server changes both uploaded objects again before the refresh: the task's answer
              // was its version, so it is not fetched again; the attachment (a file entity: its
              // answer carries no file information) is refreshed and brings the change.
              await alice.upload([
                { entity: 'Task', id: id.edited, kind: 'update', data: { estimate: 8 } },
                { entity: 'Attachment', id: id.shared, kind: 'update', data: { size: 42 } },
              ]);
              break;
            case 'downloadingFiles':
              // refreshed: the attachment carries the server's new version, its contents are not fetched yet
              expect((await runtime.store.get('Attachment', id.shared))!.size).toBe(42);
              expect((await runtime.store.get('Task', id.edited))!.estimate).toBeNull();
              expect(decode((await runtime.store.getFile('Attachment', id.shared))!.data)).toBe('first');
              break;
            case 'done':
              expect((await runtime.store.get('Attachment', id.shared))!.size).toBe(42);
              expect((await runtime.store.get('Task', id.edited))!.estimate).toBeNull();
              expect((await runtime.store.get('Task', created.id))!.words).toBe(3);
              expect((await runtime.store.get('Task', id.untouched))!.title).toBe('untouched');
              expect(await runtime.store.get('Task', id.deleted)).toBeUndefined();
              expect(decode((await runtime.store.getFile('Attachment', id.shared))!.data)).toBe('second');
              expect(await serverFile(attached.id)).toBe(OFFLINE_BODY);
              expect(await runtime.store.pendingFiles()).toEqual([]);
              break;
            case 'failed':
            case 'cancelled':
              await noChangeLost();
              expect((await runtime.store.get('Task', id.untouched))!.title).toBe('untouched');
              // contents of the renamed attachment: never half-replaced, never dropped
              expect(decode((await runtime.store.getFile('Attachment', id.shared))!.data)).toBe('first');
              await offline.expectBrokenOff(path, 'offline.txt');
              break;
            default:
              throw new Error(`no checks for state ${state}`);
          }
        },
      });

      expect(replayed.visited).toEqual(path.states);
      if (path.states.at(-1) === 'done') {
        expect(replayed.result).toMatchObject({ uploaded: 5, failed: 0, downloaded: 4, files: { uploaded: 1, downloaded: 1, refused: [] } });
        expect(network.requests.filter((r) => r.includes('/api/download'))).toHaveLength(demoSchema.order.length); // only the first full sync's, one per entity
      } else {
        const error = replayed.error as SyncflowError;
        if (path.failingActor) expect(error).toBeInstanceOf(NetworkError);
        else expect(error.code).toBe('sync_cancelled');
        // The next sync resumes: a broken-off file upload sends only the chunks the server lacks.
        const before = network.count(FILE_CHUNK);
        await runtime.synchronize({ mode: 'unsynchronized' });
        expect(network.count(FILE_CHUNK) - before).toBe(chunksLeftAfter(path));
        expect(await runtime.store.pendingCount()).toBe(0);
        expect(await runtime.store.pendingFiles()).toEqual([]);
        expect(await serverFile(attached.id)).toBe(OFFLINE_BODY);
        await noChangeLost();
      }
    } finally {
      await world.close();
    }
  });
});
