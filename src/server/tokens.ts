import { randomBytes } from 'node:crypto';
import { SyncflowError, ValidationError } from '../errors.ts';
import { isUuid } from '../model/values.ts';
import { hashToken } from './auth.ts';
import { wireDateSql } from './objectSql.ts';
import type { Storage } from './storage/Storage.ts';

/** A token as listed: never the token itself, which only its issuer ever sees. */
export interface TokenRecord {
  id: string;
  user: string;
  /** `configured`: the app's users list (no expiry); `issued`: `syncflow token issue`. */
  source: 'configured' | 'issued';
  createdDate: string;
  /** null: never expires. */
  expiresDate: string | null;
  revokedDate: string | null;
  status: 'active' | 'expired' | 'revoked';
}

const TOKEN_COLUMNS = `t.id::text AS id, t.user_id AS "user", t.source, ${wireDateSql('t.created_date')} AS "createdDate",
  ${wireDateSql('t.expires_date')} AS "expiresDate", ${wireDateSql('t.revoked_date')} AS "revokedDate",
  CASE WHEN t.revoked_date IS NOT NULL THEN 'revoked' WHEN t.expires_date <= now() THEN 'expired' ELSE 'active' END AS status`;

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration such as `30d`, `12h`, `15m` or `90s` in milliseconds; `never` is null.
 *
 * @example
 * parseDuration('30d') // 2_592_000_000
 */
export function parseDuration(text: string, path = 'expiresIn'): number | null {
  if (text === 'never') return null;
  const m = /^([1-9][0-9]{0,5})([smhd])$/.exec(text.trim());
  if (!m) throw ValidationError.at(path, 'must be a duration such as 30d, 12h, 15m or 90s (or never)');
  return Number(m[1]) * UNITS[m[2]];
}

/**
 * Issues a new bearer token for an existing user, valid for `expiresInMs` (null: no expiry).
 * Only its sha256 is stored: the token is answered here once and can never be shown again.
 *
 * @example
 * const { token, record } = await issueToken(storage, 'alice', 30 * 86_400_000);
 */
export async function issueToken(storage: Storage, user: string, expiresInMs: number | null): Promise<{ token: string; record: TokenRecord }> {
  const token = `sf_${randomBytes(32).toString('base64url')}`;
  return storage.transaction(async (tx) => {
    const { rows: users } = await tx.query('SELECT 1 FROM sf_users WHERE id = $1', [user]);
    if (!users.length) throw new SyncflowError('not_found', `No user "${user}"`);
    const { rows } = await tx.query<TokenRecord>(
      `INSERT INTO sf_tokens AS t (id, token_hash, user_id, source, created_date, expires_date)
       VALUES (gen_random_uuid(), $1, $2, 'issued', now(), now() + $3::double precision * interval '1 millisecond')
       RETURNING ${TOKEN_COLUMNS}`,
      [hashToken(token), user, expiresInMs],
    );
    return { token, record: rows[0] };
  });
}

/**
 * Revokes a token, given as its id or as the token itself; every server process refuses it from
 * its next request. Revoking a revoked token changes nothing. `not_found` for an unknown one.
 */
export async function revokeToken(storage: Storage, tokenOrId: string): Promise<TokenRecord> {
  const byId = isUuid(tokenOrId);
  const { rows } = await storage.query<TokenRecord>(
    `UPDATE sf_tokens t SET revoked_date = coalesce(t.revoked_date, now())
      WHERE ${byId ? 't.id = $1::uuid' : 't.token_hash = $1'}
      RETURNING ${TOKEN_COLUMNS}`,
    [byId ? tokenOrId.toLowerCase() : hashToken(tokenOrId)],
  );
  if (!rows[0]) throw new SyncflowError('not_found', byId ? `No token with id ${tokenOrId}` : 'No such token');
  return rows[0];
}

/** The tokens of a user (every user's when absent), oldest first. */
export async function listTokens(storage: Storage, user?: string): Promise<TokenRecord[]> {
  const { rows } = await storage.query<TokenRecord>(
    `SELECT ${TOKEN_COLUMNS} FROM sf_tokens t WHERE $1::text IS NULL OR t.user_id = $1 ORDER BY t.user_id, t.created_date, t.id`,
    [user ?? null],
  );
  return rows;
}
