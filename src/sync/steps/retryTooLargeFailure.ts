import { newId, memberValues, type Values } from '../../model/values.ts';
import type { LocalStore } from '../../store/LocalStore.ts';
import type { SyncClient } from '../../transport/SyncClient.ts';
import type { ChangeRequest, ChangeResult, SynchronizationFailure } from '../../transport/wire.ts';
import { sendInParts } from './sendInParts.ts';

/**
 * Retries a change the server could not receive (a failure with `tooLarge`, made by the device):
 * sends it again, with what the device holds now — a user who shortened the text retries with the
 * shorter one; a create sends every member, an update the members of the failed change. Applied:
 * the failure goes and the object is stored as the server answered it. Still too large (or refused
 * otherwise): the failure stays, with the new reason and message. A network or server fault throws
 * and changes nothing.
 *
 * @example
 * const result = await retryTooLargeFailure(runtime.store, runtime.client, failure);
 */
export async function retryTooLargeFailure(store: LocalStore, client: SyncClient, failure: SynchronizationFailure): Promise<ChangeResult> {
  const { entity, objectId: id, kind } = failure;
  const held = kind === 'delete' ? undefined : await store.get(entity, id);
  let data: Values = failure.data;
  if (held) {
    const now = memberValues(store.schema, entity, held);
    data = kind === 'create' ? now : Object.fromEntries(Object.keys(failure.data).filter((m) => Object.hasOwn(now, m)).map((m) => [m, now[m]]));
  }
  const request: ChangeRequest = { changeId: newId(), entity, id, kind, data };
  const { results } = await sendInParts({ schema: store.schema, store, client, config: {} }, [request]);
  const [result] = results;
  if (result.status === 'applied') {
    // A newer local change of the object stays (and goes with the next sync): not overwritten.
    if (result.object) await store.applyServerObjects(entity, [result.object]);
    await store.deleteFailure(failure.id);
    return { ...result, changeId: failure.changeId };
  }
  // Still too large: the failure keeps its id (the one the app holds), with the data tried now.
  // Refused for another reason: the server has its own failure now, which replaces this one.
  const refused: SynchronizationFailure = result.failure.tooLarge ? { ...failure, message: result.failure.message, data, tooLarge: result.failure.tooLarge } : result.failure;
  if (!result.failure.tooLarge) await store.deleteFailure(failure.id);
  await store.putFailures([refused]);
  return { changeId: failure.changeId, status: 'failed', failure: refused };
}
