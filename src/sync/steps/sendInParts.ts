import { ServerError } from '../../errors.ts';
import { newId, wireNow } from '../../model/values.ts';
import type { ChangeRequest, ChangeResult, ObjectRef, UploadResponse } from '../../transport/wire.ts';
import type { SyncContext } from '../SyncContext.ts';
import { throwIfCancelled } from './throwIfCancelled.ts';

/**
 * Bytes of change requests sent in one /api/upload request (as JSON text, counted in UTF-16 code
 * units: at most 3 bytes each in UTF-8, so well under the server's default 16 MiB body limit).
 */
export const UPLOAD_REQUEST_BYTES = 4 * 1024 * 1024;

/**
 * Sends a batch of change requests in as many /api/upload requests as their size needs, one after
 * the other, and answers them as one: results in the order of the requests. A part the server
 * finds too large (413: its body limit is lower than this device's budget) is split in two and
 * sent again, and the budget lowered for the rest of the batch. A change too large to be sent at
 * all, alone, is answered here as failed (`invalid`, its data kept in the failure) instead of
 * holding every other change back on every sync, and is not sent again unless retried.
 */
export async function sendInParts(
  ctx: SyncContext,
  requests: readonly ChangeRequest[],
  signal?: AbortSignal,
  budget = UPLOAD_REQUEST_BYTES,
): Promise<UploadResponse> {
  const sizes = new Map(requests.map((r) => [r, JSON.stringify(r).length + 1]));
  const parts = split(requests, sizes, budget);
  const results: ChangeResult[] = [];
  const written: ObjectRef[] = [];
  const deleted: ObjectRef[] = [];
  while (parts.length) {
    throwIfCancelled(signal);
    const part = parts.shift()!;
    let answer: UploadResponse;
    try {
      answer = await ctx.client.upload(part, signal);
    } catch (e) {
      if (!(e instanceof ServerError && e.status === 413)) throw e;
      // The server's limit is below this part: nothing of it was applied (the body was refused unread).
      const bytes = part.reduce((n, r) => n + sizes.get(r)!, 0);
      if (part.length === 1) {
        results.push(await tooLarge(ctx, part[0], bytes));
        continue;
      }
      budget = Math.max(1, Math.floor(bytes / 2));
      parts.unshift(...split(part, sizes, budget));
      continue;
    }
    results.push(...answer.results);
    if (Array.isArray(answer.written)) written.push(...answer.written);
    if (Array.isArray(answer.deleted)) deleted.push(...answer.deleted);
  }
  return { results, ...(written.length ? { written } : {}), ...(deleted.length ? { deleted } : {}) };
}

/** Consecutive parts of at most `budget` bytes (a request larger than the budget goes alone). */
function split(requests: readonly ChangeRequest[], sizes: Map<ChangeRequest, number>, budget: number): ChangeRequest[][] {
  const parts: ChangeRequest[][] = [];
  let part: ChangeRequest[] = [];
  let bytes = 0;
  for (const r of requests) {
    const size = sizes.get(r)!;
    if (part.length && bytes + size > budget) {
      parts.push(part);
      part = [];
      bytes = 0;
    }
    part.push(r);
    bytes += size;
  }
  if (part.length) parts.push(part);
  return parts;
}

/** The device's own failure for a change the server will not take in any request. */
async function tooLarge(ctx: SyncContext, request: ChangeRequest, bytes: number): Promise<ChangeResult> {
  return {
    changeId: request.changeId,
    status: 'failed',
    failure: {
      id: newId(),
      ...(await ctx.store.failureAuthor()),
      entity: request.entity,
      objectId: request.id,
      changeId: request.changeId,
      kind: request.kind,
      data: request.data ?? {},
      reason: 'invalid',
      message: `The change is too large for the server to receive (about ${Math.ceil(bytes / 1024)} KiB in one request)`,
      status: 'open',
      createdDate: wireNow(),
      tooLarge: { bytes },
    },
  };
}
