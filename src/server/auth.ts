import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SchemaError, SyncflowError } from '../errors.ts';
import type { AuthUser } from './AuthUser.ts';
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

/** Creates or updates users (token and roles as configured). */
export async function saveUsers(storage: Storage, users: readonly UserConfig[]): Promise<void> {
  if (!users.length) return;
  await storage.transaction(async (tx: Queryable) => {
    for (const u of users) {
      await tx.query(
        `INSERT INTO sf_users (id, token_hash, roles) VALUES ($1, $2, ARRAY(SELECT jsonb_array_elements_text($3::text::jsonb)))
         ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, roles = excluded.roles`,
        [u.id, hashToken(u.token), JSON.stringify(u.roles)],
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

/**
 * The user of an `Authorization: Bearer <token>` header, looked up on every request (no cache:
 * a role change made through another process applies at once). `unauthorized` when missing or unknown.
 */
export async function authenticate(storage: Storage, header: string | undefined): Promise<AuthUser> {
  const token = /^Bearer +(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (!token) throw new SyncflowError('unauthorized', 'A bearer token is required (Authorization: Bearer <token>)');
  const { rows } = await storage.query<{ id: string; roles: string[] }>('SELECT id, roles FROM sf_users WHERE token_hash = $1', [hashToken(token)]);
  if (!rows[0]) throw new SyncflowError('unauthorized', 'The bearer token is not valid');
  return { id: rows[0].id, roles: rows[0].roles };
}
