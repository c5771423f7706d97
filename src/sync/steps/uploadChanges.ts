import { memberValues } from '../../model/values.ts';
import type { Confirmation, LocalChange, Refusal } from '../../store/types.ts';
import { MAX_UPLOAD_CHANGES, type ChangeRequest, type SynchronizationFailure } from '../../transport/wire.ts';
import type { SyncContext } from '../SyncContext.ts';
import { chunk, groupBy } from './chunk.ts';
import { throwIfCancelled } from './throwIfCancelled.ts';

export interface UploadOutcome {
  uploaded: number;
  /** Creates and updates the server applied: what a refresh brings back up to date. */
  applied: Array<{ entity: string; id: string }>;
  failures: SynchronizationFailure[];
  /** Objects removed locally because the server refused their change and no longer has them. */
  removedIds: string[];
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
}

/**
 * Uploads committed local changes in order (the store lists creates and updates with
 * association targets first, deletes last), at most 1,000 per request.
 *
 * Each request's answer is applied to the store before the next one is sent: a confirmed
 * change loses its mark, a refused one becomes a SynchronizationFailure and the object is
 * reverted (atomically) to the server's version (or removed when the server has none). A lost answer
 * leaves the marks in place, and the retry reuses the same change ids, so the server applies
 * nothing twice.
 */
export async function uploadChanges(
  ctx: SyncContext,
  changes: readonly LocalChange[],
  signal?: AbortSignal,
  options: UploadOptions = {},
): Promise<UploadOutcome> {
  const outcome: UploadOutcome = { uploaded: 0, applied: [], failures: [], removedIds: [] };
  let done = 0;
  ctx.onProgress?.({ phase: 'upload', entity: changes[0]?.entity ?? null, done, total: changes.length });
  for (const batch of chunk(changes, MAX_UPLOAD_CHANGES)) {
    throwIfCancelled(signal);
    const requests = await toRequests(ctx, batch, options.fields, options.leaveIfChanged);
    const sent = new Map(requests.map((r) => [r.request.changeId, r]));
    await ctx.store.markSent(requests.map((r) => r.change));
    const { results } = await ctx.client.upload(
      requests.map((r) => r.request),
      signal,
    );

    const confirmations: Confirmation[] = [];
    const failed: Array<{ change: LocalChange; failure: SynchronizationFailure }> = [];
    for (const result of results) {
      const { change, remaining } = sent.get(result.changeId) ?? {};
      if (!change) continue; // not ours: ignore rather than guess
      if (result.status === 'applied') {
        confirmations.push({ entity: change.entity, id: change.id, seq: change.seq, object: result.object, remaining });
        if (change.kind !== 'delete') outcome.applied.push({ entity: change.entity, id: change.id });
      } else {
        failed.push({ change, failure: result.failure });
      }
    }
    await ctx.store.confirm(confirmations);
    outcome.uploaded += confirmations.length;

    if (failed.length) {
      outcome.removedIds.push(...(await recordRefused(ctx, failed, signal)));
      outcome.failures.push(...failed.map((f) => f.failure));
    }
    done += batch.length;
    ctx.onProgress?.({ phase: 'upload', entity: batch[batch.length - 1].entity, done, total: changes.length });
  }
  return outcome;
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
        let members = change.changed.filter((m) => m in values);
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
): Promise<string[]> {
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
