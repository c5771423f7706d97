import Dexie from 'dexie';
import { IDBKeyRange, indexedDB } from 'fake-indexeddb';
import type { UploadFloor } from './uploadFloor.ts';
import { uploadQueueByHand } from './uploadQueueByHand.ts';

/**
 * The client floor of the write path in Node (uploadQueueByHand over fake-indexeddb): the device's
 * unavoidable work done by hand over the same Dexie tables the runtime wrote its queue into, each
 * batch POSTed to the set-based floor endpoint (`?answer`: it answers the written rows, as the sync
 * server answers each change). Its own connection, without the runtime's change tracking.
 *
 * Returns how many changes it uploaded.
 */
export async function uploadByHand(dbName: string, floor: UploadFloor, kind: 'create' | 'update', entity = 'Task', batch = 1000): Promise<number> {
  const db = new Dexie(dbName, { indexedDB, IDBKeyRange });
  await db.open();
  try {
    return (await uploadQueueByHand(db, { kind, entity, batch, send: (body) => floor.sendAnswered(kind, body) })).uploaded;
  } finally {
    db.close();
  }
}
