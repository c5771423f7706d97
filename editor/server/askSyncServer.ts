/**
 * Who a bearer token belongs to, asked of the sync server (`GET /api/me`): the editor keeps no
 * users of its own, so a sign-in and a role are exactly what the sync server says now.
 */
import { SyncflowError } from '../../src/errors.ts';
import type { MeResponse } from '../../src/transport/wire.ts';

/** A token as the sync server takes it in `Authorization: Bearer <token>`: visible ASCII, no spaces. */
const TOKEN = /^[\x21-\x7e]{1,500}$/;

export type WhoIs = MeResponse | { refused: 'unauthorized' } | { refused: 'too_many_requests'; retryAfter?: string };

/**
 * @example
 * const who = await askSyncServer('http://127.0.0.1:4000', 'alice-token');
 * if ('user' in who) console.log(who.user, who.roles);
 */
export async function askSyncServer(syncServerUrl: URL, token: string): Promise<WhoIs> {
  if (!TOKEN.test(token)) return { refused: 'unauthorized' };
  let res: Response;
  try {
    res = await fetch(new URL(`${syncServerUrl.pathname.replace(/\/$/, '')}/api/me`, syncServerUrl), {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(15_000),
    });
  } catch {
    throw new SyncflowError('network', 'The sync server is not reachable');
  }
  if (res.status === 401) return { refused: 'unauthorized' };
  if (res.status === 429) return { refused: 'too_many_requests', retryAfter: res.headers.get('retry-after') ?? undefined };
  const body = (await res.json().catch(() => null)) as Partial<MeResponse> | null;
  if (!res.ok || typeof body?.user !== 'string' || !Array.isArray(body.roles)) {
    throw new SyncflowError('network', `The sync server answered ${res.status} to who a token belongs to`);
  }
  return { user: body.user, roles: body.roles.filter((r): r is string => typeof r === 'string') };
}
