import { SyncStoppedError } from '../../errors.ts';
import type { SyncDownTarget, SyncState } from '../../model/syncState.ts';
import { DEFAULT_BATCH } from '../../transport/wire.ts';
import type { SyncContext } from '../SyncContext.ts';

/**
 * Removes a sync down's ghosts: objects it wrote that the server no longer has for the user, or
 * that no longer match the target. Both sides are walked in id order a page at a time (memory
 * stays flat), and only this sync's objects are considered: another sync over the same entity
 * keeps what it holds. Locally modified objects are never removed. The sync's status and
 * checkpoint are left alone. A stop request fails the cleaning (what was released stays released).
 * Returns how many objects were removed from the device.
 */
export async function cleanGhosts(ctx: SyncContext, state: SyncState, signal: AbortSignal): Promise<number> {
  const target = state.target as SyncDownTarget;
  const label = `Ghost cleaning of sync "${state.name ?? state.id}"`;
  const check = () => {
    if (signal.aborted) throw new SyncStoppedError(label);
  };
  let removed = 0;
  try {
    removed = await walk(ctx, state, target, signal, check);
  } catch (error) {
    // An aborted request fails with a network error: the cause is the stop.
    if (signal.aborted) throw new SyncStoppedError(label);
    throw error;
  }
  return removed;
}

async function walk(
  ctx: SyncContext,
  state: SyncState,
  target: SyncDownTarget,
  signal: AbortSignal,
  check: () => void,
): Promise<number> {
  const server = serverIds(ctx, target, signal);
  let next = await server.next();
  let removed = 0;
  let after: string | null = null;
  for (;;) {
    check();
    const local = await ctx.store.syncRowIds(state.id, after, DEFAULT_BATCH);
    if (local.length === 0) break;
    const ghosts: string[] = [];
    for (const id of local) {
      while (!next.done && next.value < id) next = await server.next();
      if (next.done || next.value !== id) ghosts.push(id);
    }
    check();
    removed += await ctx.store.releaseSyncRows(state.id, target.entity, ghosts);
    after = local[local.length - 1];
  }
  return removed;
}

/** The ids the server lets the user read under the target, ascending (UUID text order on both sides). */
async function* serverIds(ctx: SyncContext, target: SyncDownTarget, signal: AbortSignal): AsyncGenerator<string> {
  let after: string | null = null;
  do {
    const page = await ctx.client.ids({ entity: target.entity, constraint: target.constraint, after, limit: DEFAULT_BATCH }, signal);
    yield* page.ids;
    after = page.next;
  } while (after);
}
