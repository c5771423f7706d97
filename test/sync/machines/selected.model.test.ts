import { describe, expect, it } from 'vitest';
import { NetworkError, SyncflowError } from '../../../src/errors.ts';
import { selectedMachine } from '../../../src/sync/machines/selected.ts';
import type { LocalObject } from '../../../src/store/types.ts';
import { CHUNK, chunksLeftAfter, decode, FILE_CHUNK, fileUploadFaults, OFFLINE_BODY, planPaths, replay, serverFile as serverFileOf, text } from '../../support/machinePaths.ts';
import { startWorld, useSharedStorage } from '../../support/world.ts';

useSharedStorage();

const paths = planPaths(selectedMachine, { mode: 'selected', objects: [] }, {
  classify: { changes: [], unchanged: [], skipped: [] },
  upload: { uploaded: 0, applied: [], answered: [], toRefresh: [], failures: [], removedIds: [], deleted: [] },
  uploadFiles: { uploaded: 0, refused: [] },
  refresh: { refreshed: 0, removedIds: [] },
  files: 0,
});


describe('selected objects machine: every path, replayed against the real store and server', () => {
  it('has the paths the machine defines', () => {
    // done, and failed / cancelled from each of the five working states
    expect(paths.map((p) => p.name).sort()).toEqual(
      [
        'classifying → uploading → uploadingFiles → refreshing → downloadingFiles → done',
        'classifying → failed',
        'classifying → cancelled',
        'classifying → uploading → failed',
        'classifying → uploading → cancelled',
        'classifying → uploading → uploadingFiles → failed',
        'classifying → uploading → uploadingFiles → cancelled',
        'classifying → uploading → uploadingFiles → refreshing → failed',
        'classifying → uploading → uploadingFiles → refreshing → cancelled',
        'classifying → uploading → uploadingFiles → refreshing → downloadingFiles → failed',
        'classifying → uploading → uploadingFiles → refreshing → downloadingFiles → cancelled',
      ].sort(),
    );
  });

  it.each(paths.map((p) => [p.name, p] as const))('%s', async (_name, path) => {
    const world = await startWorld();
    try {
      const uuid = () => crypto.randomUUID();
      const alice = world.elsewhere('alice');
      const id = { edited: uuid(), refreshed: uuid(), gone: uuid(), other: uuid(), chosen: uuid(), remote: uuid(), notChosen: uuid() };
      await alice.upload([
        { entity: 'Task', id: id.edited, kind: 'create', data: { title: 'to edit' } },
        { entity: 'Task', id: id.refreshed, kind: 'create', data: { title: 'to refresh' } },
        { entity: 'Task', id: id.gone, kind: 'create', data: { title: 'to lose' } },
        { entity: 'Task', id: id.other, kind: 'create', data: { title: 'not selected' } },
        { entity: 'Attachment', id: id.chosen, kind: 'create', data: { name: 'chosen.txt', task: id.edited } },
        { entity: 'Attachment', id: id.remote, kind: 'create', data: { name: 'remote.txt', task: id.refreshed } },
        { entity: 'Attachment', id: id.notChosen, kind: 'create', data: { name: 'not chosen.txt', task: id.other } },
      ]);
      await alice.client.putFile('Attachment', id.remote, text('first'), 'text/plain');
      const device = await world.device('alice', { files: { chunkSize: CHUNK } });
      const { runtime, network } = device;
      await runtime.synchronize({ mode: 'all' });
      expect(decode((await runtime.store.getFile('Attachment', id.remote))?.data)).toBe('first');
      await alice.upload([
        { entity: 'Task', id: id.refreshed, kind: 'update', data: { title: 'refreshed from server' } },
        { entity: 'Task', id: id.gone, kind: 'delete', data: {} },
      ]);
      // A selected, unchanged attachment whose contents change on the server: the refresh brings them.
      await alice.client.putFile('Attachment', id.remote, text('from elsewhere'), 'text/plain');

      const session = runtime.session();
      const get = async (i: string) => (await runtime.store.get('Task', i))!;
      const attachment = async (i: string) => (await runtime.store.get('Attachment', i))!;
      const [edited, gone, other, chosen] = await session.commit([
        session.change(await get(id.edited), { done: true }),
        session.change(await get(id.gone), { title: 'edit that will be refused' }),
        session.change(await get(id.other), { title: 'changed but not selected' }),
        session.change(await attachment(id.chosen), { name: 'chosen, renamed.txt' }),
      ]);
      // Contents attached offline to a selected object (with a change) and to one left out of the selection.
      await runtime.store.putFile('Attachment', id.chosen, text(OFFLINE_BODY), 'text/plain');
      await runtime.store.putFile('Attachment', id.notChosen, text('not selected'), 'text/plain');
      const uploadId = (await runtime.store.pendingFile('Attachment', id.chosen))!.uploadId;
      const fresh = session.create('Task', { title: 'never committed' });
      const objects: LocalObject[] = [edited, await get(id.refreshed), gone, fresh, chosen, await attachment(id.remote)];
      const selection = [...objects];

      const serverFile = (i: string) => serverFileOf(alice, i);
      const pendingFiles = async () => (await runtime.store.pendingFiles()).map((f) => f.id).sort();
      /** Bytes of the chosen contents the server holds staged (a broken-off upload), 0 if none. */
      const staged = async () => (await alice.client.fileUploadStatus('Attachment', id.chosen, uploadId)).offset;
      const localFile = async (i: string) => decode((await runtime.store.getFile('Attachment', i))?.data);
      const brokeIn = path.states.at(-2)!;

      const faults = fileUploadFaults(network, { upload: /^\/api\/upload$/, refresh: /^\/api\/fetch$/, files: /^\/api\/files\// });
      const replayed = await replay(device, { mode: 'selected', objects, session }, path, {
        ...faults,
        // The classification fails on an object of an unknown entity.
        fail: (actor) => (actor === 'classify' ? void objects.push({ $entity: 'Nope', id: uuid() } as unknown as LocalObject) : faults.fail(actor)),
        check: async (state) => {
          const pending = async (i: string, entity = 'Task') => (await runtime.store.pendingChange(entity, i)) !== undefined;
          switch (state) {
            case 'classifying':
            case 'uploading':
              expect(await runtime.store.pendingCount()).toBe(4);
              expect((await alice.get('Task', id.edited))!.done ?? false).toBe(false);
              expect(await pendingFiles()).toEqual([id.chosen, id.notChosen].sort());
              break;
            case 'uploadingFiles':
              // the selected objects went first: the renamed attachment is on the server, its contents not yet
              expect(await alice.get('Attachment', id.chosen)).toMatchObject({ name: 'chosen, renamed.txt' });
              expect(await runtime.store.pendingChange('Attachment', id.chosen)).toBeUndefined();
              expect(await serverFile(id.chosen)).toBeNull();
              expect(await pendingFiles()).toEqual([id.chosen, id.notChosen].sort());
              break;
            case 'downloadingFiles':
              // refreshed, the new server contents not fetched yet
              expect((await get(id.refreshed)).title).toBe('refreshed from server');
              expect(await localFile(id.remote)).toBe('first');
              break;
            case 'refreshing':
              expect(await serverFile(id.chosen)).toBe(OFFLINE_BODY);
              expect(await pendingFiles()).toEqual([id.notChosen]);
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
              expect(await localFile(id.remote)).toBe('from elsewhere');
              expect(await serverFile(id.chosen)).toBe(OFFLINE_BODY);
              // contents of an object left out of the selection stay on the device, marked
              expect(await pendingFiles()).toEqual([id.notChosen]);
              expect(await serverFile(id.notChosen)).toBeNull();
              break;
            case 'failed':
            case 'cancelled':
              for (const i of [id.edited, id.gone]) {
                const onServer = i === id.edited ? (await alice.get('Task', i))?.done === true : (await runtime.store.listFailures()).length === 1;
                expect(onServer !== (await pending(i)), `change of ${i} is either applied or still marked`).toBe(true);
              }
              expect(await pending(id.other)).toBe(true);
              expect((await alice.get('Attachment', id.chosen))!.name === 'chosen, renamed.txt').toBe(!(await pending(id.chosen, 'Attachment')));
              // the chosen contents are on the server whole, or still marked; whole on the device either way
              expect((await serverFile(id.chosen)) === OFFLINE_BODY).toBe(!(await pendingFiles()).includes(id.chosen));
              expect(await localFile(id.chosen)).toBe(OFFLINE_BODY);
              expect(await localFile(id.notChosen)).toBe('not selected');
              expect(await serverFile(id.notChosen)).toBeNull();
              expect(await localFile(id.remote)).toBe('first'); // never half-replaced
              if (brokeIn === 'uploadingFiles') {
                // the object is confirmed, its contents stay marked; the server holds the first chunk, staged
                expect(await pending(id.chosen, 'Attachment')).toBe(false);
                expect(await pendingFiles()).toEqual([id.chosen, id.notChosen].sort());
                expect(await staged()).toBe(CHUNK);
              } else if (brokeIn === 'classifying' || brokeIn === 'uploading') {
                expect(await pendingFiles()).toEqual([id.chosen, id.notChosen].sort());
                expect(await staged()).toBe(0);
              } else {
                expect(await pendingFiles()).toEqual([id.notChosen]);
              }
              break;
            default:
              throw new Error(`no checks for state ${state}`);
          }
        },
      });

      expect(replayed.visited).toEqual(path.states);
      if (path.states.at(-1) === 'done') {
        expect(replayed.result).toMatchObject({ uploaded: 2, failed: 1, skipped: [fresh.id], removedIds: [id.gone], files: { uploaded: 1, downloaded: 1, refused: [] } });
      } else {
        const error = replayed.error as SyncflowError;
        if (path.failingActor === 'classify') expect(error).toBeInstanceOf(SyncflowError);
        else if (path.failingActor) expect(error).toBeInstanceOf(NetworkError);
        else expect(error.code).toBe('sync_cancelled');
        // The same selection again: a broken-off file upload sends only the chunks the server lacks.
        const before = network.count(FILE_CHUNK);
        await runtime.synchronize({ mode: 'selected', objects: selection, session });
        expect(network.count(FILE_CHUNK) - before).toBe(chunksLeftAfter(path));
        expect(await serverFile(id.chosen)).toBe(OFFLINE_BODY);
        expect(await localFile(id.remote)).toBe('from elsewhere');
        expect(await pendingFiles()).toEqual([id.notChosen]);
      }
    } finally {
      await world.close();
    }
  });
});
