import { SyncflowError } from '../../errors.ts';
import { newId } from '../../model/values.ts';
import type { LocalStore } from '../../store/LocalStore.ts';
import type { SyncClient } from '../../transport/SyncClient.ts';
import type { ChangeResult, SynchronizationFailure } from '../../transport/wire.ts';
import { refusalReason } from './uploadFiles.ts';

/** Stored for contents whose upload answer carried no object: matches no changedDate, so a later download fetches them. */
const UNKNOWN_VERSION = 'uploaded';

/**
 * Retries a device-side file failure (one with `file`): uploads the contents it keeps again, as
 * a new resumable upload. The server takes them when the object exists for the user again and
 * is writable (and the size fits): the failure goes, the object comes back into the local
 * database and the contents become its stored contents. Another refusal keeps the failure open
 * with the new reason and message, as a server failure's retry does. A network or server fault
 * throws and changes nothing. Contents attached to the object after the failure are the user's
 * latest word: the retry is refused (`conflict`) rather than sending older contents over them.
 *
 * @example
 * const result = await retryFileFailure(runtime.store, runtime.client, failure);
 */
export async function retryFileFailure(store: LocalStore, client: SyncClient, failure: SynchronizationFailure): Promise<ChangeResult> {
  const { entity, objectId } = failure;
  const kept = await store.failureFile(failure.id);
  if (!kept) throw new SyncflowError('not_found', `SynchronizationFailure ${failure.id} keeps no file contents`);
  if (await store.pendingFile(entity, objectId)) {
    throw new SyncflowError(
      'conflict',
      `Other contents were attached to ${entity} ${objectId} after these were refused: dismiss this failure, or attach its contents again`,
    );
  }
  try {
    // A new upload id: the refused upload may have stopped anywhere (e.g. the object went before its last chunk).
    const object = await client.uploadFile(entity, objectId, newId(), kept.data, kept.contentType);
    if (object) await store.applyServerObjects(entity, [object]);
    await store.resolveFileFailure(failure.id, object?.changedDate ?? UNKNOWN_VERSION);
    return { changeId: failure.changeId, status: 'applied', object };
  } catch (e) {
    const why = refusalReason(e);
    if (!why) throw e;
    const refused: SynchronizationFailure = { ...failure, reason: why.reason, message: why.message };
    await store.putFailures([refused]);
    return { changeId: failure.changeId, status: 'failed', failure: refused };
  }
}
