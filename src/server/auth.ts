import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SchemaError, SyncflowError, TooManyRequestsError } from '../errors.ts';
import type { AuthUser } from './AuthUser.ts';
import { wireDateSql } from './objectSql.ts';
import type { Queryable, Storage } from './storage/Storage.ts';

/** A user as configured: the bearer token is only ever stored hashed. */
export interface UserConfig {
  id: string;
  token: string;
  roles: string[];
}

const usersSchema = z.array(
  z.strictObject({ id: z.string().min(1).max(100), token: z.string().min(8).max(500), roles: z.array(z.string().min(1)) }),
);

/** sha256 of a token, hex: what sf_users keeps. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Checks a users list (SchemaError naming each problem): ids and tokens unique. */
export function checkUsers(users: unknown): UserConfig[] {
  const parsed = usersSchema.safeParse(users);
  if (!parsed.success) {
    throw new SchemaError(parsed.error.issues.map((i) => ({ path: ['users', ...i.path.map(String)].join('.'), message: i.message })));
  }
  const problems: Array<{ path: string; message: string }> = [];
  const ids = new Set<string>();
  const tokens = new Set<string>();
  parsed.data.forEach((u, i) => {
    if (ids.has(u.id)) problems.push({ path: `users.${i}.id`, message: `duplicate user "${u.id}"` });
    if (tokens.has(u.token)) problems.push({ path: `users.${i}.token`, message: 'two users share this token' });
    ids.add(u.id);
    tokens.add(u.token);
  });
  if (problems.length) throw new SchemaError(problems);
  return parsed.data;
}

/**
 * Creates or updates users (token and roles as configured). A user's configured token never
 * expires; a new one replaces the old. A configured token revoked with `syncflow token revoke`
 * stays revoked: configure another.
 */
export async function saveUsers(storage: Storage, users: readonly UserConfig[]): Promise<void> {
  if (!users.length) return;
  await storage.transaction(async (tx: Queryable) => {
    for (const u of users) {
      const hash = hashToken(u.token);
      await tx.query(
        `INSERT INTO sf_users (id, token_hash, roles) VALUES ($1, $2, ARRAY(SELECT jsonb_array_elements_text($3::text::jsonb)))
         ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, roles = excluded.roles`,
        [u.id, hash, JSON.stringify(u.roles)],
      );
      await tx.query(`DELETE FROM sf_tokens WHERE user_id = $1 AND source = 'configured' AND token_hash <> $2`, [u.id, hash]);
      await tx.query(
        `INSERT INTO sf_tokens (id, token_hash, user_id, source) VALUES (gen_random_uuid(), $2, $1, 'configured')
         ON CONFLICT (token_hash) DO NOTHING`,
        [u.id, hash],
      );
    }
  });
}

/** Replaces a user's roles; every server process sees it on the user's next request. */
export async function setRoles(storage: Storage, user: string, roles: readonly string[]): Promise<void> {
  const { rowCount } = await storage.query(
    'UPDATE sf_users SET roles = ARRAY(SELECT jsonb_array_elements_text($2::text::jsonb)) WHERE id = $1',
    [user, JSON.stringify(roles)],
  );
  if (!rowCount) throw new SyncflowError('not_found', `No user "${user}"`);
}

/** Failed sign-ins allowed per client address in a window, before every request from it gets 429. */
export interface SignInLimit {
  /** Wrong, expired or revoked tokens accepted per window (default 100). */
  max: number;
  /** The window, in milliseconds (default 60 s). */
  windowMs: number;
}

export const DEFAULT_SIGN_IN_LIMIT: SignInLimit = { max: 100, windowMs: 60_000 };

/**
 * The user of an `Authorization: Bearer <token>` header, looked up on every request (no cache:
 * a role change or a revocation made through another process applies at once).
 *
 * `unauthorized` when the token is missing, unknown, expired or revoked; each such token counts
 * as a failed sign-in of `address` (in storage, so every process counts). Once `limit.max` have
 * failed within `limit.windowMs`, every request from that address, even one with a valid token
 * (else the limit would still tell a guess that hits), is refused with TooManyRequestsError until
 * the window ends. One query per request: the token and the address's count are read together.
 */
export async function authenticate(
  storage: Storage,
  header: string | undefined,
  address = '',
  limit: SignInLimit | false = DEFAULT_SIGN_IN_LIMIT,
): Promise<AuthUser> {
  const token = /^Bearer +(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (!token) throw new SyncflowError('unauthorized', 'A bearer token is required (Authorization: Bearer <token>)');
  const windowMs = limit ? limit.windowMs : 0;
  const { rows } = await storage.query<{
    id: string | null;
    roles: string[] | null;
    expires: string | null;
    expired: boolean | null;
    revoked: boolean | null;
    failures: number | null;
    retry_after: number | null;
  }>(
    `SELECT a.id, a.roles, a.expires, a.expired, a.revoked, l.failures,
            ceil(extract(epoch FROM l.window_start + $3::double precision * interval '1 millisecond' - now()))::int AS retry_after
       FROM (SELECT 1) one
       LEFT JOIN (SELECT u.id, u.roles, ${wireDateSql('t.expires_date')} AS expires, t.expires_date <= now() AS expired,
                         t.revoked_date IS NOT NULL AS revoked
                    FROM sf_tokens t JOIN sf_users u ON u.id = t.user_id WHERE t.token_hash = $1) a ON true
       LEFT JOIN sf_signin_failures l
         ON $4::boolean AND l.address = $2 AND l.window_start > now() - $3::double precision * interval '1 millisecond'`,
    [hashToken(token), address, windowMs, limit !== false],
  );
  const row = rows[0];
  if (limit && row.failures !== null && row.failures >= limit.max) {
    const seconds = Math.max(1, row.retry_after ?? 1);
    throw new TooManyRequestsError(`Too many failed sign-ins from this address: try again in ${seconds} s`, seconds);
  }
  if (row.id && !row.expired && !row.revoked) return { id: row.id, roles: row.roles ?? [] };
  if (limit) await countFailedSignIn(storage, address, limit);
  if (row.revoked) throw new SyncflowError('unauthorized', 'The bearer token was revoked');
  if (row.expired) throw new SyncflowError('unauthorized', `The bearer token expired at ${row.expires}`);
  throw new SyncflowError('unauthorized', 'The bearer token is not valid');
}

/**
 * Like `authenticate`, with the app's own verifier (a function or a JWT check) instead of the
 * token table. The failed sign-in limit holds the same way; a verifier that throws refuses the
 * token (its error is never a 500).
 */
export async function authenticateWith(
  storage: Storage,
  header: string | undefined,
  address: string,
  limit: SignInLimit | false,
  verify: (token: string) => AuthUser | null | Promise<AuthUser | null>,
): Promise<AuthUser> {
  const token = /^Bearer +(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (!token) throw new SyncflowError('unauthorized', 'A bearer token is required (Authorization: Bearer <token>)');
  if (limit) {
    const { rows } = await storage.query<{ failures: number; retry_after: number | null }>(
      `SELECT failures, ceil(extract(epoch FROM window_start + $2::double precision * interval '1 millisecond' - now()))::int AS retry_after
         FROM sf_signin_failures WHERE address = $1 AND window_start > now() - $2::double precision * interval '1 millisecond'`,
      [address, limit.windowMs],
    );
    if (rows[0] && rows[0].failures >= limit.max) {
      const seconds = Math.max(1, rows[0].retry_after ?? 1);
      throw new TooManyRequestsError(`Too many failed sign-ins from this address: try again in ${seconds} s`, seconds);
    }
  }
  const user = await Promise.resolve()
    .then(() => verify(token))
    .catch(() => null);
  if (user && typeof user.id === 'string' && user.id) return { id: user.id, roles: Array.isArray(user.roles) ? user.roles.map(String) : [] };
  if (limit) await countFailedSignIn(storage, address, limit);
  throw new SyncflowError('unauthorized', 'The bearer token is not valid');
}

/** Counts one failed sign-in of `address` (a fixed window) and forgets the windows that ended. */
async function countFailedSignIn(storage: Storage, address: string, limit: SignInLimit): Promise<void> {
  await storage.query(
    `WITH counted AS (
       INSERT INTO sf_signin_failures AS l (address, window_start, failures) VALUES ($1, now(), 1)
       ON CONFLICT (address) DO UPDATE SET
         failures = CASE WHEN l.window_start <= now() - $2::double precision * interval '1 millisecond' THEN 1 ELSE l.failures + 1 END,
         window_start = CASE WHEN l.window_start <= now() - $2::double precision * interval '1 millisecond' THEN now() ELSE l.window_start END
       RETURNING 1)
     DELETE FROM sf_signin_failures WHERE address <> $1 AND window_start <= now() - $2::double precision * interval '1 millisecond'`,
    [address, limit.windowMs],
  );
}
