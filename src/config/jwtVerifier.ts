import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, importSPKI, jwtVerify, type JWTVerifyGetKey, type KeyObject, type CryptoKey } from 'jose';
import { ValidationError } from '../errors.ts';
import type { AuthUser } from '../server/AuthUser.ts';
import type { JwtAuthOptions, TokenVerifier } from './SyncflowConfig.ts';

const DEFAULT_ALGORITHMS = ['RS256', 'ES256'];

/**
 * A token verifier for JWTs signed by the app's identity provider (jose): signature, `iss`,
 * `aud`, `exp` and `nbf` are checked; the user is the `userClaim` (default `sub`) and the roles
 * the `rolesClaim` (default `roles`). Any failure answers null (401), never a 500.
 *
 * @example
 * const verify = await jwtVerifier({ issuer: 'https://id.example.com', audience: 'tasks', jwksFile: '/etc/app/jwks.json' });
 */
export async function jwtVerifier(options: JwtAuthOptions): Promise<TokenVerifier> {
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  let key: KeyObject | CryptoKey | JWTVerifyGetKey;
  if (options.jwksFile) {
    let jwks: unknown;
    try {
      jwks = JSON.parse(await readFile(options.jwksFile, 'utf8'));
    } catch (e) {
      throw ValidationError.at('auth.jwt.jwksFile', `cannot read the JWKS file ${options.jwksFile}: ${(e as Error).message}`);
    }
    if (!Array.isArray((jwks as { keys?: unknown })?.keys)) throw ValidationError.at('auth.jwt.jwksFile', 'must hold { "keys": [...] }');
    key = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
  } else {
    try {
      key = await importSPKI(options.publicKey ?? '', algorithms[0]);
    } catch (e) {
      throw ValidationError.at('auth.jwt.publicKey', `is not a ${algorithms[0]} public key: ${(e as Error).message}`);
    }
  }
  const userClaim = options.userClaim ?? 'sub';
  const rolesClaim = options.rolesClaim ?? 'roles';
  return async (token: string): Promise<AuthUser | null> => {
    try {
      const { payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1], {
        issuer: options.issuer,
        audience: options.audience,
        algorithms,
      });
      const id = payload[userClaim];
      if (typeof id !== 'string' || !id || id.length > 100) return null;
      const roles = payload[rolesClaim];
      return { id, roles: Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [] };
    } catch {
      return null;
    }
  };
}
