import { memberValues } from '../../model/values.ts';
import type { Confirmation, LocalChange, Refusal } from '../../store/types.ts';
import { MAX_UPLOAD_CHANGES, type ChangeRequest, type ObjectRef, type SynchronizationFailure, type UploadResponse } from '../../transport/wire.ts';
import type { SyncContext } from '../SyncContext.ts';
import { chunk, groupBy } from './chunk.ts';
import { sendInParts } from './sendInParts.ts';
import { removeDeleted } from './removeDeleted.ts';
import { throwIfCancelled } from './throwIfCancelled.ts';

export interface UploadOutcome {
  uploaded: number;
  /** Creates and updates the server applied. */
  applied: ObjectRef[];
  /**
   * Of `applied`, the objects whose answer the store took as their local version: the server's
   * object as the upload committed it (handler changes included; a replayed answer is read
   * again), so a refresh would fetch them again for nothing.
   */
  answered: ObjectRef[];
  /**
   * Of `applied`, what a refresh still has to bring up to date: objects answered with no object
   * (the user may not read them, or they are gone: the refresh decides), and every object of a
   * file entity (the answer carries no `$file`, which the file download after a refresh needs,
   * and a file upload after the confirmation moves the object's changedDate). The rest of
   * `applied` stays pending (a change committed during the upload, or members left out by a
   * field list): a refresh could neither write nor remove those, the next upload's answer brings them.
   * Also the objects the device holds that the server's handlers wrote besides the uploaded ones
   * (the response's `written`, e.g. a parent whose total a handler keeps).
   */
  toRefresh: ObjectRef[];
  failures: SynchronizationFailure[];
  /**
   * Objects removed locally because the server refused their change and no longer has them, or
   * because the upload removed them on the server besides the device's own deletes (`deleted`).
   */
  removedIds: string[];
  /**
   * The objects the device held that the upload removed on the server besides its own deletes (the
   * response's `deleted`: a handler's deletes), removed locally as a refresh removes an object the
   * server no longer has. Their ids are in `removedIds`. One with a pending local change stays
   * (see removeDeleted).
   */
  deleted: ObjectRef[];
}

export interface UploadOptions {
  /**
   * Upload only these members of updates (a named sync up's field list). Changes to other
   * members stay marked after the upload; creates and deletes are always whole.
   */
  fields?: readonly string[];
  /**
   * Each update carries the changedDate of the server version it was made on (`base`): the
   * server refuses it as a `conflict` when the record changed there since (a sync up's
   * leave-if-changed). Without it the changed members win (the Synchronize modes).
   */
  leaveIfChanged?: boolean;
  /**
   * The store's change counter when `changes` were listed (LocalStore.pendingChangesAt): while no
   * commit moved it, applying an answer does not read the change records again.
   */
  listedAt?: number;
}

/**
 * Uploads committed local changes in order (the store lists creates and updates with
 * association targets first, deletes last), at most 1,000 per request, one request at a time.
 *
 * The device's work overlaps the server's: while request k is in flight, batch k+1 is read and
 * its creates are marked as sent, and the answer of request k-1 is applied to the store. Every
 * answer is applied in order, and only once it arrived: a confirmed change loses its mark, a
 * refused one becomes a SynchronizationFailure and the object is reverted (atomically) to the
 * server's version (or removed when the server has none). Objects the answer says the server
 * wrote besides the uploaded ones are refreshed later (`toRefresh`); those it says the upload
 * removed there (a handler's deletes) are removed at once, as a refresh would. A lost answer (or a crash before it
 * was applied) leaves the marks in place, and the retry reuses the same change ids, so the
 * server applies nothing twice. Creates are marked as sent before their request goes out (a
 * batch marked and then not sent only turns a later local delete into a delete the server
 * answers as already done).
 */
export async function uploadChanges(
  ctx: SyncContext,
  changes: readonly LocalChange[],
  signal?: AbortSignal,
  options: UploadOptions = {},
): Promise<UploadOutcome> {
  const outcome: UploadOutcome = { uploaded: 0, applied: [], answered: [], toRefresh: [], failures: [], removedIds: [], deleted: [] };
  const batches = chunk(changes, MAX_UPLOAD_CHANGES);
  let done = 0;
  ctx.onProgress?.({ phase: 'upload', entity: changes[0]?.entity ?? null, done, total: changes.length });

  const prepare = async (batch: readonly LocalChange[]): Promise<Outgoing[]> => {
    // Marked before their objects are read: from then on a local delete of one is recorded as a
    // delete (with a seq, which `listedAt` relies on), and a create deleted before is not sent.
    await ctx.store.markSent([...batch]);
    return toRequests(ctx, batch, options.fields, options.leaveIfChanged);
  };
  const applyAnswer = async (batch: readonly LocalChange[], requests: Outgoing[], { results, written, deleted }: UploadResponse): Promise<void> => {
    const sent = new Map(requests.map((r) => [r.request.changeId, r]));
    const confirmations: Confirmation[] = [];
    const kinds: LocalChange['kind'][] = [];
    const failed: Array<{ change: LocalChange; failure: SynchronizationFailure }> = [];
    for (const result of results) {
      const { change, remaining } = sent.get(result.changeId) ?? {};
      if (!change) continue; // not ours: ignore rather than guess
      if (result.status === 'applied') {
        confirmations.push({ entity: change.entity, id: change.id, seq: change.seq, object: result.object, remaining });
        kinds.push(change.kind);
      } else {
        failed.push({ change, failure: result.failure });
      }
    }
    const took = await ctx.store.confirm(confirmations, { listedAt: options.listedAt });
    confirmations.forEach(({ entity, id, object }, i) => {
      if (kinds[i] === 'delete') return;
      const ref = { entity, id };
      outcome.applied.push(ref);
      if (!object || ctx.schema.entities[entity].file) outcome.toRefresh.push(ref);
      else if (took[i]) outcome.answered.push(ref);
    });
    outcome.uploaded += confirmations.length;
    if (Array.isArray(written) && written.length) outcome.toRefresh.push(...(await heldOf(ctx, written)));
    if (failed.length) {
      const { removedIds, fileFailures } = await recordRefused(ctx, failed, signal);
      outcome.removedIds.push(...removedIds);
      // The refused changes, and unsent file contents of objects they removed (kept as failures of their own).
      outcome.failures.push(...failed.map((f) => f.failure), ...fileFailures);
    }
    // After the refusals: an object refused and gone on the server is removed (and counted) once.
    if (Array.isArray(deleted) && deleted.length) {
      const { removed } = await removeDeleted(ctx, deleted, outcome.toRefresh);
      const gone = new Set(removed.map((r) => `${r.entity}:${r.id}`));
      outcome.deleted.push(...removed);
      outcome.removedIds.push(...removed.map((r) => r.id));
      // Nothing left to refresh of them (a refresh would count them as removed again).
      if (gone.size) outcome.toRefresh = outcome.toRefresh.filter((r) => !gone.has(`${r.entity}:${r.id}`));
    }
    done += batch.length;
    ctx.onProgress?.({ phase: 'upload', entity: batch[batch.length - 1].entity, done, total: changes.length });
  };

  let next: Promise<Outgoing[]> | undefined = batches.length ? handled(prepare(batches[0])) : undefined;
  let applying: Promise<void> = Promise.resolve();
  try {
    for (let k = 0; k < batches.length; k++) {
      throwIfCancelled(signal);
      const requests = await next!;
      const answer = handled(sendInParts(ctx, requests.map((r) => r.request), signal));
      next = k + 1 < batches.length ? handled(prepare(batches[k + 1])) : undefined;
      const response = await answer;
      await applying; // answers are applied in the order of their requests
      applying = handled(applyAnswer(batches[k], requests, response));
    }
    await applying;
  } finally {
    // Nothing of this upload writes to the store after it returned or threw.
    await Promise.allSettled([applying, next]);
  }
  return outcome;
}

/** Of the objects the server says it wrote besides the uploaded ones, those the device holds (of entities it knows). */
async function heldOf(ctx: SyncContext, written: readonly ObjectRef[]): Promise<ObjectRef[]> {
  const held: ObjectRef[] = [];
  const known = written.filter((w) => typeof w?.entity === 'string' && Object.hasOwn(ctx.schema.entities, w.entity) && typeof w.id === 'string');
  for (const [entity, group] of groupBy(known, (w) => w.entity)) {
    const rows = await ctx.store.getMany(entity, group.map((w) => w.id));
    group.forEach((w, i) => rows[i] && held.push({ entity, id: w.id }));
  }
  return held;
}

/** Marks a promise as handled (it is awaited later): a rejection while another await runs is not "unhandled". */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

interface Outgoing {
  change: LocalChange;
  request: ChangeRequest;
  /** Changed members left out by a field list: they stay marked. */
  remaining?: string[];
}

async function toRequests(
  ctx: SyncContext,
  changes: readonly LocalChange[],
  fields?: readonly string[],
  withBase = false,
): Promise<Outgoing[]> {
  const only = fields && new Set(fields);
  const out: Outgoing[] = [];
  for (const [entity, group] of groupBy(changes, (c) => c.entity)) {
    const live = group.filter((c) => c.kind !== 'delete');
    const objects = live.length ? await ctx.store.getMany(entity, live.map((c) => c.id)) : [];
    const byId = new Map(live.map((c, i) => [c.id, objects[i]]));
    for (const change of group) {
      let data: Record<string, unknown>;
      let remaining: string[] | undefined;
      let base: string | null = null;
      if (change.kind === 'delete') {
        data = change.data ?? {};
      } else {
        const object = byId.get(change.id);
        if (!object) continue; // removed since it was listed: its delete change (if any) comes later
        const values = memberValues(ctx.schema, entity, object);
        let members = change.changed.filter((m) => Object.hasOwn(values, m));
        if (only && change.kind === 'update') {
          remaining = members.filter((m) => !only.has(m));
          members = members.filter((m) => only.has(m));
          if (members.length === 0) continue; // nothing of this change is in the field list
        }
        data = change.kind === 'create' ? values : Object.fromEntries(members.map((m) => [m, values[m]]));
        // The local row keeps the changedDate of the server version the edit was made on.
        if (withBase && change.kind === 'update') base = object.changedDate;
      }
      out.push({
        change,
        request: { changeId: change.changeId, entity, id: change.id, kind: change.kind, data, ...(base ? { base } : {}) },
        remaining: remaining?.length ? remaining : undefined,
      });
    }
  }
  // groupBy changed the order; the server must see the store's order (targets before referrers).
  const position = new Map(changes.map((c, i) => [c.changeId, i]));
  return out.sort((a, b) => position.get(a.change.changeId)! - position.get(b.change.changeId)!);
}

/**
 * Fetches the server's version of refused objects, then records the failures and reverts the
 * objects in one store transaction. If the fetch fails nothing is written: the changes stay
 * marked, and the retried upload gets the server's first answer (the same failure) again.
 */
async function recordRefused(
  ctx: SyncContext,
  refused: Array<{ change: LocalChange; failure: SynchronizationFailure }>,
  signal?: AbortSignal,
): Promise<{ removedIds: string[]; fileFailures: SynchronizationFailure[] }> {
  const refusals: Refusal[] = [];
  for (const [entity, group] of groupBy(refused, (r) => r.change.entity)) {
    const { objects } = await ctx.client.fetchObjects(entity, group.map((r) => r.change.id), signal);
    const byId = new Map(objects.map((o) => [o.id, o]));
    for (const { change, failure } of group) {
      const restore = byId.get(change.id) ?? null;
      // A conflict keeps both versions: the device's change (data) and the server's record.
      const kept = failure.reason === 'conflict' ? { ...failure, server: restore } : failure;
      refusals.push({ entity, id: change.id, seq: change.seq, failure: kept, restore });
    }
  }
  throwIfCancelled(signal);
  return ctx.store.refuse(refusals);
}
